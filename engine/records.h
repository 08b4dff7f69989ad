/* engine/records.h
 *
 * The request bodies of lead management (CONTRACT 8.3), checked and
 * normalised before anything is stored: people, customers, activities and
 * review meetings. Pure functions (no store, no rules): every field has a
 * type, a size and a range, and an unknown key is refused; errors are
 * -ERR_INVALID_FIELD naming the field (tests/fuzz/records_fuzz.c drives them).
 * On success *out is a new object owned by the caller; 'body' is borrowed.
 */
#ifndef ENGINE_RECORDS_H
#define ENGINE_RECORDS_H

#include <jansson.h>

#include "err.h"

#define RECORDS_TEXT_MAX      200                  /* characters of a name, a note, a segment */
#define RECORDS_ROLES_MAX     8                    /* roles of a person */
#define RECORDS_DECISIONS_MAX 200                  /* decisions of one review meeting */
#define RECORDS_MONEY_MAX     (1000000000000000LL) /* fen: 10^13 CNY */

/* A person (PUT /v1/people/ID): { name, office, roles: [ROLE...], active }.
 * roles are distinct names of records_person_roles; active defaults to true. */
int records_person(const json_t *body, json_t **out, struct err_detail *why);
extern const char *const records_person_roles[];

/* A customer (PUT /v1/customers/ID): { name, office, segment, credit_limit }
 * (segment and credit_limit optional; credit_limit fen, 0..RECORDS_MONEY_MAX). */
int records_customer(const json_t *body, json_t **out, struct err_detail *why);

/* An activity (POST /v1/activities): { person, customer, kind, at, instance,
 * note, budget: { year, amount } }; budget exactly with kind budget_table,
 * year 1900..9998, amount 0..RECORDS_MONEY_MAX; instance optional. */
int records_activity(const json_t *body, json_t **out, struct err_detail *why);

/* A review meeting (POST /v1/reviews): { unit, held_at, decisions: [...] }:
 * the envelope only (unit a unit name, held_at a date, 1 to
 * RECORDS_DECISIONS_MAX decisions, each an object). Each decision is then
 * checked by records_decision, so that a meeting can name every refused one. */
int records_meeting(const json_t *body, json_t **out, struct err_detail *why);
/* One decision { instance, decision, note, next_review, owner }: 0, or an
 * error naming the field. */
int records_decision(const json_t *item, struct err_detail *why);

/* Shared: text of 1..max characters of valid UTF-8 (jansson has checked it). */
int records_text(const char *field, const json_t *v, size_t max, struct err_detail *why);

#endif
