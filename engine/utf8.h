/* engine/utf8.h
 *
 * Text that crosses into ltcd from outside it (rule sources, messages and
 * strings from rule scripts, request fields) as UTF-8: checking it, and
 * making it safe to put into JSON, logs and the database.
 *
 * "Valid" is RFC 3629 (what jansson accepts): no overlong forms, no
 * surrogates, nothing above U+10FFFF. NUL is valid UTF-8, but C strings and
 * SQLite text cut at it, so every function here says what it does with it.
 *
 * The one rule for text from rules: it goes through utf8_clean (directly, or
 * through err_set, which cleans every message, or log_msg, which cleans every
 * line) before it reaches JSON, a log line or the database, so a rule can
 * never make a status page, an audit listing or a log line unreadable.
 *
 * Leaf module: includes nothing from the engine.
 */
#ifndef ENGINE_UTF8_H
#define ENGINE_UTF8_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The offset of the first byte of s[0..n) that does not begin a valid UTF-8
 * sequence (or that begins one cut short by the end), or with nul_ok false
 * of the first NUL, whichever comes first; n when there is none. */
size_t utf8_bad_offset(const char *s, size_t n, bool nul_ok);

/* Copy s[0..n) into dst (cap >= 1 bytes) as valid UTF-8 without NUL: every
 * byte that is not part of a valid sequence, and every NUL, becomes U+FFFD.
 * The copy is cut at a character boundary to fit and always NUL-terminated.
 * Returns its length. dst and s must not overlap. */
size_t utf8_clean(char *dst, size_t cap, const char *s, size_t n);

/* utf8_clean of the NUL-terminated text in s (a buffer of cap bytes), in
 * place: the result may be shorter (cut to fit), never longer than cap - 1. */
void utf8_clean_inplace(char *s, size_t cap);

/* A new JSON string of the NUL-terminated s cleaned as by utf8_clean (any
 * length). NULL only when out of memory. */
json_t *utf8_json(const char *s);

#endif
