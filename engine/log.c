/* engine/log.c */
#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "utf8.h"

static enum log_format fmt_mode = LOG_TEXT;
static enum log_level min_lvl = LOG_INFO;
static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_init(enum log_format format, enum log_level min_level)
{
    fmt_mode = format;
    min_lvl = min_level;
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
    utf8_clean_inplace(msg, sizeof msg); /* lines quote rule text: keep them readable JSON */
    for (char *c = msg; fmt_mode == LOG_TEXT && *c; c++) /* one event, one line */
        *c = (unsigned char)*c < 0x20 && *c != '\t' ? ' ' : *c;

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(ts.tv_nsec / 1000000));

    if (fmt_mode == LOG_JSON) {
        json_t *o = json_pack("{s:s, s:s, s:s?, s:s}", "ts", when, "level", level_names[level],
                              "req", req_id, "msg", msg);
        char *line = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
        if (line)
            fprintf(stderr, "%s\n", line);
        free(line);
        json_decref(o);
    } else if (req_id) {
        fprintf(stderr, "%s %s [%s] %s\n", when, level_names[level], req_id, msg);
    } else {
        fprintf(stderr, "%s %s %s\n", when, level_names[level], msg);
    }
}
