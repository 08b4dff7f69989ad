/* engine/metrics.h
 *
 * Counters and histograms for GET /metrics, rendered in the Prometheus text
 * format (version 0.0.4). Series are created on first use and live for the
 * process; label values are copied. The families are declared in the table
 * of metrics.c (name, type, help). Any thread (one lock: the loop counts
 * answers, the core thread rule calls and commits).
 *
 * Histograms use the fixed latency buckets of METRICS_BUCKETS_MS.
 */
#ifndef ENGINE_METRICS_H
#define ENGINE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define METRICS_SERIES_MAX 4096 /* series over all families */

enum metrics_family {
    METRICS_HTTP_REQUESTS,   /* counter {route, status} */
    METRICS_HTTP_DURATION,   /* histogram {route} */
    METRICS_RULE_CALLS,      /* counter {owner, outcome} */
    METRICS_COMMIT_DURATION, /* histogram {} */
    METRICS_COMMIT_WRITES,   /* counter {} */
    METRICS__COUNT
};

/* Add 'n' to the counter with these labels (label values may be NULL for a
 * family without that label). */
void metrics_count(enum metrics_family f, const char *l1, const char *l2, uint64_t n);

/* Observe a duration in nanoseconds. */
void metrics_observe(enum metrics_family f, const char *l1, uint64_t ns);

/* Append every series to b; values computed at scrape time follow with
 * metrics_sample. */
void metrics_render(struct buf *b);

/* Append "# HELP" and "# TYPE" (when help is not NULL) and one sample of a
 * value computed at scrape time. type is "gauge" or "counter"; labels is the
 * text between the braces (already escaped), or NULL. */
void metrics_sample(struct buf *b, const char *name, const char *type, const char *help,
                    const char *labels, double value);

/* Escape a label value into out (size n). */
void metrics_escape(const char *v, char *out, size_t n);

/* Forget every series (tests). */
void metrics_reset(void);

#endif
