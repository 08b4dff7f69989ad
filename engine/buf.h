/* engine/buf.h
 *
 * A growable byte buffer for building text (JSON pages, metrics, allocation
 * runs). The content is always NUL-terminated. An allocation failure makes
 * the buffer 'failed' (sticky): appends become no-ops, and the caller checks
 * once at the end. The memory is owned by the buffer until buf_take hands it
 * over, or buf_deinit frees it. Leaf module.
 */
#ifndef ENGINE_BUF_H
#define ENGINE_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *p;     /* owned; NULL until the first append */
    size_t len;  /* bytes used, without the NUL */
    size_t cap;  /* bytes allocated */
    bool failed; /* an allocation failed: the content is incomplete */
};

void buf_put(struct buf *b, const char *s, size_t n);
/* Room for n more bytes at once (a large text built from known parts). */
void buf_reserve(struct buf *b, size_t n);
void buf_str(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append s as a JSON string literal (quotes, backslashes and control
 * characters escaped; s must be valid UTF-8). */
void buf_json_string(struct buf *b, const char *s);

/* Hand the content over (malloc'd, caller frees) and reset the buffer;
 * NULL if the buffer failed (its memory is then freed). */
char *buf_take(struct buf *b, size_t *len);
void buf_deinit(struct buf *b);

#endif
