/* engine/log.h
 *
 * One line per event on stderr, as text (`TIME LEVEL [req] message`) or as
 * JSON (`{"ts":..,"level":..,"req":..,"msg":..}`), chosen once at start-up.
 * Lines are capped at LOG_LINE_MAX bytes so a hostile value cannot flood the
 * log. A line is always valid UTF-8 (utf8_clean), whatever it quotes, so a
 * JSON log line is never dropped. Loop thread only (no locking).
 */
#ifndef ENGINE_LOG_H
#define ENGINE_LOG_H

#define LOG_LINE_MAX 2048

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

void log_init(enum log_format format, enum log_level min_level);

/* req_id may be NULL. */
void log_msg(enum log_level level, const char *req_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_info(...)  log_msg(LOG_INFO, NULL, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, NULL, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, NULL, __VA_ARGS__)

#endif
