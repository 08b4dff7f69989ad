/* engine/log.c: one line per event, text or JSON. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "utf8.h"

static enum log_format fmt_mode = LOG_TEXT;
static enum log_level min_lvl = LOG_INFO;
static bool buffered;
static struct buf pending; /* info lines waiting for log_flush */
/* Lines come from the loop and from job threads (job.h): 'pending' and
 * stderr are taken under this lock; formatting a line is not. */
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_init(enum log_format format, enum log_level min_level)
{
    fmt_mode = format;
    min_lvl = min_level;
}

static void timestamp(char *when, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(when, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
}

/* Text made valid UTF-8 (utf8_clean); as a JSON literal when json, else with
 * control characters as spaces, so rule text cannot forge a second line. */
static void put_text(struct buf *b, const char *text, bool json)
{
    char clean[LOG_LINE_MAX];
    utf8_clean(clean, sizeof clean, text, strlen(text));
    if (!json) {
        for (char *c = clean; *c; c++)
            if ((unsigned char)*c < 0x20 && *c != '\t')
                *c = ' ';
        buf_str(b, clean);
        return;
    }
    buf_json_string(b, clean);
}

static void field(struct buf *b, const char *key, const char *value)
{
    if (!value || !value[0])
        return;
    if (fmt_mode == LOG_JSON) {
        buf_printf(b, ",\"%s\":", key);
        put_text(b, value, true);
    } else {
        buf_printf(b, " %s=", key);
        put_text(b, value, false);
    }
}

static void start_line(struct buf *b, enum log_level level, const char *req_id, const char *msg)
{
    char when[40];
    timestamp(when, sizeof when);
    if (fmt_mode == LOG_JSON) {
        buf_printf(b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", when, level_names[level]);
        put_text(b, msg, true);
        field(b, "req_id", req_id);
    } else {
        buf_printf(b, "%s %s ", when, level_names[level]);
        if (req_id)
            buf_printf(b, "[%s] ", req_id);
        put_text(b, msg, false);
    }
}

void log_set_buffered(bool on)
{
    log_flush();
    buffered = on;
}

static void flush_locked(void)
{
    if (pending.len && !pending.failed)
        fwrite(pending.p, 1, pending.len, stderr);
    buf_deinit(&pending);
}

void log_flush(void)
{
    pthread_mutex_lock(&pending_lock);
    flush_locked();
    pthread_mutex_unlock(&pending_lock);
}

static void end_line(struct buf *b, enum log_level level)
{
    if (fmt_mode == LOG_JSON)
        buf_put(b, "}", 1);
    buf_put(b, "\n", 1);
    if (!b->failed) {
        pthread_mutex_lock(&pending_lock);
        buf_put(&pending, b->p, b->len);
        if (!buffered || level >= LOG_WARN || pending.len >= LOG_BUFFER_BYTES)
            flush_locked();
        pthread_mutex_unlock(&pending_lock);
    }
    buf_deinit(b);
}

void log_msg(enum log_level level, const char *req_id, const char *fmt, ...)
{
    if (level < min_lvl)
        return;
    char msg[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct buf b = {0};
    start_line(&b, level, req_id, msg);
    end_line(&b, level);
}

void log_kv(enum log_level level, const char *req_id, const char *msg, const char *const *kv)
{
    if (level < min_lvl)
        return;
    struct buf b = {0};
    start_line(&b, level, req_id, msg);
    for (; kv && kv[0]; kv += 2)
        field(&b, kv[0], kv[1]);
    end_line(&b, level);
}

void log_request(enum log_level level, const struct log_request *r)
{
    if (level < min_lvl)
        return;
    char msg[LOG_LINE_MAX], path[1024];
    snprintf(path, sizeof path, "%s", r->path); /* a hostile path is up to 16 KiB */
    snprintf(msg, sizeof msg, "%.16s %s: %d", r->method, path, r->status);
    struct buf b = {0};
    start_line(&b, level, r->req_id, msg);
    if (fmt_mode == LOG_JSON) {
        buf_put(&b, ",\"method\":", 10);
        put_text(&b, r->method, true);
        buf_put(&b, ",\"path\":", 8);
        put_text(&b, path, true);
        buf_printf(&b, ",\"status\":%d,\"duration_ms\":%.3f", r->status, r->duration_ms);
        /* Every request line has an actor: null before authentication. */
        if (!r->actor || !r->actor[0])
            buf_str(&b, ",\"actor\":null");
    } else {
        buf_printf(&b, " %.3fms", r->duration_ms);
    }
    field(&b, "actor", r->actor);
    field(&b, "error_code", r->error_code);
    field(&b, "error_message", r->error_message);
    end_line(&b, level);
}
