/* engine/log.h
 *
 * One line per event on stderr, as text or as JSON, chosen once at start-up:
 *   text: TIME LEVEL [REQ] message
 *   json: {"ts":"...","level":"info","msg":"...", ...}
 * A request's line (log_request) carries req_id, method, path, status, actor
 * (JSON null for a request answered before authentication), duration_ms and,
 * on an error, error_code and error_message, as JSON fields or as text after
 * the message (CONTRACT 8.1). Which requests get a line is the caller's
 * choice (api_done: every error and every write). Every piece of text goes through utf8_clean
 * (bad bytes become U+FFFD), so every JSON line parses, and text lines turn
 * control characters into spaces, so quoted rule text cannot forge a line.
 * Each piece is capped at LOG_LINE_MAX bytes so a hostile value cannot flood
 * the log. Any thread may log (job threads do): whole lines are appended
 * under a lock, so lines never interleave; log_init and log_set_buffered are
 * for the main thread before or after the loop runs.
 */
#ifndef ENGINE_LOG_H
#define ENGINE_LOG_H

#include <stdbool.h>

#define LOG_LINE_MAX     2048
#define LOG_BUFFER_BYTES (32 * 1024) /* buffered info lines flushed beyond this */

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

void log_init(enum log_format format, enum log_level min_level);

/* Buffered: info lines are kept until log_flush (the daemon calls it before
 * its loop waits for events, so a busy turn costs one write, not one per
 * request, and nothing waits in the buffer while the daemon idles) or until
 * LOG_BUFFER_BYTES; warnings and errors are written at once, with what is
 * buffered before them. Off by default. */
void log_set_buffered(bool on);
void log_flush(void);

/* req_id may be NULL. */
void log_msg(enum log_level level, const char *req_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One event with fields: 'kv' holds key, value, key, value, ..., NULL (a
 * NULL or "" value leaves its pair out); JSON fields, or " key=value" after
 * the message in text. Keys are literals; values are cleaned like messages. */
void log_kv(enum log_level level, const char *req_id, const char *msg, const char *const *kv);

/* One answered request. Strings are borrowed; actor, error_code and
 * error_message may be NULL or "" (left out). */
struct log_request {
    const char *req_id, *method, *path, *actor;
    int status;
    double duration_ms;
    const char *error_code, *error_message;
};
void log_request(enum log_level level, const struct log_request *r);

#define log_info(...)  log_msg(LOG_INFO, NULL, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, NULL, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, NULL, __VA_ARGS__)

#endif
