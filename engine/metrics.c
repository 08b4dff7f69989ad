/* engine/metrics.c */
#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double bucket_s[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                  0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define NB (sizeof bucket_s / sizeof *bucket_s)

static const struct {
    const char *name, *type, *help, *l1, *l2;
} families[METRICS__COUNT] = {
    [METRICS_HTTP_REQUESTS] = {"ltcd_http_requests_total", "counter",
                               "HTTP requests answered, by route and status", "route", "status"},
    [METRICS_HTTP_DURATION] = {"ltcd_http_request_duration_seconds", "histogram",
                               "Time from the first byte of a request to its answer", "route",
                               NULL},
    [METRICS_RULE_CALLS] = {"ltcd_rule_calls_total", "counter",
                            "Rule invocations by owner and outcome (ok, error, budget, memory, "
                            "output, syntax)",
                            "owner", "outcome"},
    [METRICS_COMMIT_DURATION] = {"ltcd_commit_duration_seconds", "histogram",
                                 "Group commits: the batch's writes, commit and fsync", NULL, NULL},
    [METRICS_COMMIT_WRITES] = {"ltcd_commit_writes_total", "counter",
                               "Writes committed by group commit", NULL, NULL},
};

struct series {
    enum metrics_family f;
    char l1[96], l2[32];
    uint64_t value;       /* counters */
    uint64_t buckets[NB]; /* histograms: per bucket, not cumulative */
    uint64_t count;
    double sum_s;
};

static struct series series[METRICS_SERIES_MAX];
static size_t n_series;
/* The loop counts HTTP answers, the core thread rule calls and commits. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct series *find(enum metrics_family f, const char *l1, const char *l2)
{
    l1 = l1 ? l1 : "";
    l2 = l2 ? l2 : "";
    for (size_t i = 0; i < n_series; i++)
        if (series[i].f == f && !strcmp(series[i].l1, l1) && !strcmp(series[i].l2, l2))
            return &series[i];
    if (n_series == METRICS_SERIES_MAX)
        return NULL; /* full: further series are dropped rather than grow without bound */
    struct series *s = &series[n_series++];
    memset(s, 0, sizeof *s);
    s->f = f;
    snprintf(s->l1, sizeof s->l1, "%s", l1);
    snprintf(s->l2, sizeof s->l2, "%s", l2);
    return s;
}

void metrics_count(enum metrics_family f, const char *l1, const char *l2, uint64_t n)
{
    pthread_mutex_lock(&lock);
    struct series *s = find(f, l1, l2);
    if (s)
        s->value += n;
    pthread_mutex_unlock(&lock);
}

void metrics_observe(enum metrics_family f, const char *l1, uint64_t ns)
{
    pthread_mutex_lock(&lock);
    struct series *s = find(f, l1, NULL);
    if (s) {
        double sec = (double)ns / 1e9;
        size_t k = 0;
        while (k < NB && sec > bucket_s[k])
            k++;
        if (k < NB)
            s->buckets[k]++;
        s->count++;
        s->sum_s += sec;
    }
    pthread_mutex_unlock(&lock);
}

void metrics_reset(void)
{
    pthread_mutex_lock(&lock);
    n_series = 0;
    pthread_mutex_unlock(&lock);
}

void metrics_escape(const char *v, char *out, size_t n)
{
    size_t o = 0;
    for (; v && *v && o + 3 < n; v++) {
        if (*v == '\\' || *v == '"') {
            out[o++] = '\\';
            out[o++] = *v;
        } else if (*v == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *v;
        }
    }
    out[o] = '\0';
}

/* The label text of a series, with an optional extra label. */
static void labels(const struct series *s, const char *extra, char *out, size_t n)
{
    char a[200], b2[80];
    size_t o = 0;
    out[0] = '\0';
    if (families[s->f].l1) {
        metrics_escape(s->l1, a, sizeof a);
        o += (size_t)snprintf(out + o, n - o, "%s=\"%s\"", families[s->f].l1, a);
    }
    if (families[s->f].l2 && o < n) {
        metrics_escape(s->l2, b2, sizeof b2);
        o += (size_t)snprintf(out + o, n - o, "%s%s=\"%s\"", o ? "," : "", families[s->f].l2, b2);
    }
    if (extra && o < n)
        snprintf(out + o, n - o, "%s%s", o ? "," : "", extra);
}

void metrics_render(struct buf *b)
{
    pthread_mutex_lock(&lock);
    for (int f = 0; f < METRICS__COUNT; f++) {
        buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help,
                   families[f].name, families[f].type);
        bool histogram = !strcmp(families[f].type, "histogram");
        for (size_t i = 0; i < n_series; i++) {
            const struct series *s = &series[i];
            if ((int)s->f != f)
                continue;
            char lb[400];
            if (!histogram) {
                labels(s, NULL, lb, sizeof lb);
                buf_printf(b, "%s%s%s%s %llu\n", families[f].name, *lb ? "{" : "", lb,
                           *lb ? "}" : "", (unsigned long long)s->value);
                continue;
            }
            uint64_t cum = 0;
            for (size_t k = 0; k < NB; k++) {
                char le[40];
                cum += s->buckets[k];
                snprintf(le, sizeof le, "le=\"%g\"", bucket_s[k]);
                labels(s, le, lb, sizeof lb);
                buf_printf(b, "%s_bucket{%s} %llu\n", families[f].name, lb,
                           (unsigned long long)cum);
            }
            labels(s, "le=\"+Inf\"", lb, sizeof lb);
            buf_printf(b, "%s_bucket{%s} %llu\n", families[f].name, lb,
                       (unsigned long long)s->count);
            labels(s, NULL, lb, sizeof lb);
            buf_printf(b, "%s_sum%s%s%s %.9f\n", families[f].name, *lb ? "{" : "", lb,
                       *lb ? "}" : "", s->sum_s);
            buf_printf(b, "%s_count%s%s%s %llu\n", families[f].name, *lb ? "{" : "", lb,
                       *lb ? "}" : "", (unsigned long long)s->count);
        }
    }
    pthread_mutex_unlock(&lock);
}

void metrics_sample(struct buf *b, const char *name, const char *type, const char *help,
                    const char *lbl, double value)
{
    if (help)
        buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    if (lbl && *lbl)
        buf_printf(b, "%s{%s} %.17g\n", name, lbl, value);
    else
        buf_printf(b, "%s %.17g\n", name, value);
}
