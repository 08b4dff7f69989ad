/* engine/store_pipeline.h
 *
 * The SQL of strategy to numbers (CONTRACT 8.4; README "Pipeline and
 * forecast"): each open instance's forecast columns, the sums the pipeline
 * reads (pipeline_sums, ledger_customers: kept by triggers in the transaction
 * that changes an instance or appends to the ledger, schema in
 * store_schema.c), registered customers by office. Months are "YYYY-MM";
 * a range [from, to) of months covers a period (period.h: periods are whole
 * months). Strings handed to callbacks are borrowed for the call only. Used
 * on the connection's own thread.
 */
#ifndef ENGINE_STORE_PIPELINE_H
#define ENGINE_STORE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* An instance's forecast: month NULL takes it out of the pipeline (closed,
 * in execution, or without an expected close date). */
struct store_forecast {
    int64_t id;
    const char *month;    /* "YYYY-MM" of expected_close, or NULL */
    int64_t value;        /* fen */
    int64_t weighted;     /* fen, value x probability rounded (README) */
    const char *category; /* commit, best_case, pipeline, omitted */
    const char *rules;    /* the rule versions that computed it ("hq@3 region/south@2") */
    int64_t if_seq;       /* non-zero: written only while the instance's last_seq is this
                           * (a forecast computed off the loop, from that state) */
};
int store_forecast_set(struct store *st, const struct store_forecast *f, struct err_detail *why);

/* The instances of 'region' in the pipeline whose forecast was computed by
 * other rules than 'rules': id, document and last_seq. */
typedef int store_stale_cb(int64_t id, const char *doc, int64_t last_seq, void *ctx);
int store_forecast_stale(struct store *st, const char *region, const char *rules,
                         store_stale_cb *each, void *ctx, struct err_detail *why);

/* Whether 'region' has such an instance (one index read). */
int store_forecast_any_stale(struct store *st, const char *region, const char *rules, bool *any,
                             struct err_detail *why);

/* Pipeline sums of months [from, to), by office, customer and category. */
typedef int store_pipeline_cb(const char *office, const char *customer, const char *category,
                              int64_t n, int64_t value, int64_t weighted, void *ctx);
int store_pipeline_sums(struct store *st, const char *from, const char *to, store_pipeline_cb *each,
                        void *ctx, struct err_detail *why);

/* Ledger sums of a kind ("orders", "cash") in months [from, to), by office
 * and customer. */
typedef int store_customer_total_cb(const char *office, const char *customer, int64_t amount,
                                    void *ctx);
int store_ledger_customers(struct store *st, const char *kind, const char *from, const char *to,
                           store_customer_total_cb *each, void *ctx, struct err_detail *why);

/* Every registered customer (id, office), in office then id order. */
typedef int store_customer_office_cb(const char *id, const char *office, void *ctx);
int store_customer_offices(struct store *st, store_customer_office_cb *each, void *ctx,
                           struct err_detail *why);

/* The office of a registered customer into office (>= 64 bytes), "" when the
 * id names none. */
int store_customer_office(struct store *st, const char *id, char *office, size_t size,
                          struct err_detail *why);

/* Finalize the statements (store_close). */
void store_pipeline__close(struct store *st);

#endif
