/* engine/store_leads.h
 *
 * The records of lead management (CONTRACT 8.3; README "Lead management"):
 * people and customers (each belongs to one office, and so to its region),
 * front-line activities, review meetings, and the queries of the review queue
 * and of lead assignment. SQL in store_leads.c, schema in store_schema.c.
 *
 * Documents (`doc`) are the JSON text the API returns, stored whole; the
 * columns beside them are what queries filter on. Strings handed to callbacks
 * are borrowed for the call only; *doc out-parameters are malloc'd (caller
 * frees). A missing row is -ERR_NOT_FOUND. Loop thread only.
 */
#ifndef ENGINE_STORE_LEADS_H
#define ENGINE_STORE_LEADS_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* A person or a customer, as stored. */
struct store_party {
    const char *id, *region, *office;
    bool active;          /* people: deactivated people stay, with false */
    int64_t credit_limit; /* customers: fen, or -1 when not given */
    const char *doc;      /* JSON text */
    int64_t at_ms;        /* last change */
    const char *by;       /* who changed it ("UNIT:ROLE") */
};
typedef int store_party_cb(const struct store_party *p, void *ctx);

/* Insert or replace. */
int store_person_put(struct store *st, const struct store_party *p, struct err_detail *why);
int store_customer_put(struct store *st, const struct store_party *p, struct err_detail *why);
/* One row: 'each' is called once, or -ERR_NOT_FOUND. */
int store_person_get(struct store *st, const char *id, store_party_cb *each, void *ctx,
                     struct err_detail *why);
int store_customer_get(struct store *st, const char *id, store_party_cb *each, void *ctx,
                       struct err_detail *why);
/* Rows of a region and/or office (NULL: any), in id order, ids after 'after'
 * ("" from the start), at most 'limit'. */
int store_person_list(struct store *st, const char *region, const char *office, const char *after,
                      int limit, store_party_cb *each, void *ctx, struct err_detail *why);
int store_customer_list(struct store *st, const char *region, const char *office, const char *after,
                        int limit, store_party_cb *each, void *ctx, struct err_detail *why);

/* The active people of an office with their open leads (instances at stage
 * lead they own; a counter kept by triggers, so one index read a person),
 * in id order. */
typedef int store_candidate_cb(const char *id, const char *doc, int64_t open_leads, void *ctx);
int store_candidates(struct store *st, const char *office, store_candidate_cb *each, void *ctx,
                     struct err_detail *why);

/* Activities. */
struct store_activity {
    int64_t id;
    const char *person, *region, *office, *customer, *kind, *at; /* at: "YYYY-MM-DD" */
    int64_t budget_year;                                         /* 0 unless budget_table */
    const char *doc;
    int64_t created_at_ms;
    const char *by;
};
/* Insert; the new id in *id. */
int store_activity_insert(struct store *st, const struct store_activity *a, int64_t *id,
                          struct err_detail *why);
struct store_activity_filter {
    const char *person, *customer, *region, *office; /* NULL: any */
    const char *from, *to;                           /* dates, inclusive; NULL: open */
    int64_t after_id;
    int limit;
};
typedef int store_activity_cb(const struct store_activity *a, void *ctx);
int store_activity_list(struct store *st, const struct store_activity_filter *f,
                        store_activity_cb *each, void *ctx, struct err_detail *why);
/* Visits of each person of an office, else of a region, else of all (both
 * NULL), in [from, to] (dates, inclusive). */
typedef int store_count_cb(const char *key, int64_t n, void *ctx);
int store_visit_counts(struct store *st, const char *region, const char *office, const char *from,
                       const char *to, store_count_cb *each, void *ctx, struct err_detail *why);
/* The date of the first budget table of the customer for 'year' recorded on
 * or before 'upto' into date (>= 11 bytes), or "" when none. */
int store_budget_table(struct store *st, const char *customer, int64_t year, const char *upto,
                       char *date, struct err_detail *why);

/* Review meetings: the stored record { id, unit, held_at, decisions, ... }. */
int store_review_next_id(struct store *st, int64_t *id, struct err_detail *why);
int store_review_insert(struct store *st, int64_t id, const char *unit, const char *held_at,
                        const char *doc, int64_t at_ms, const char *by, struct err_detail *why);
int store_review_get(struct store *st, int64_t id, char **doc, char unit[96],
                     struct err_detail *why);

/* The review queue: leads of an office, else of a region, else of all (both
 * NULL) at stage lead whose review_due (never reviewed: "", nurtured:
 * next_review) is on or before 'as_of', at most 'limit', the longest due
 * first. One index range per office or region. */
struct store_queue_row {
    const struct store_instance_row *row;
    int64_t created_at_ms, updated_at_ms;
};
typedef int store_queue_cb(const struct store_queue_row *q, void *ctx);
int store_review_queue(struct store *st, const char *region, const char *office, const char *as_of,
                       int limit, store_queue_cb *each, void *ctx, struct err_detail *why);

/* The credit limit of a registered customer: *found false when the id names none. */
int store_customer_credit(struct store *st, const char *id, bool *found, int64_t *limit,
                          struct err_detail *why);

#endif
