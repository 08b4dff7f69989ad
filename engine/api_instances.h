/* engine/api_instances.h
 *
 * What the instance handlers (api_instances.c) share with lead management's
 * (api_owner.c, api_reviews.c). All of it runs inside a write's transaction.
 */
#ifndef ENGINE_API_INSTANCES_H
#define ENGINE_API_INSTANCES_H

#include <jansson.h>

#include "app.h"

/* Run one process action on an instance (HQ's process.lua, the KCPs, the
 * event, the ledger): w gives the principal; 'input' is borrowed; 'held_at'
 * the business date of a review meeting (NULL: a single action, today; its
 * body may not carry the meeting's key "meeting"). *body is the instance
 * after it (malloc'd JSON text). */
int api_process_step(struct app_write *w, int64_t instance_id, const json_t *input,
                     const char *held_at, char **body, struct err_detail *why);

/* Set doc.owner (a person id or null) and doc.assignment ({ by, rule_error? })
 * for a new lead (lead: the normalised lead with its region). A region rule
 * that fails is counted as its runtime error, and the lead gets HQ's default;
 * only a store error fails the write. */
int api_assign_owner(struct app_write *w, const json_t *lead, json_t *doc, struct err_detail *why);

/* After a review action: next_review for a nurture (input's, or held_at plus
 * the nurture days), reviewed_at, and the owner a decision names; set on
 * 'next' (the instance after the action). 'doc' is the instance before it. */
int api_review_followup(struct app_write *w, const json_t *doc, const json_t *input,
                        const char *held_at, json_t *next, struct err_detail *why);

/* 0 when 'person' is an active person of 'office', else -ERR_INVALID_FIELD
 * (field 'field') saying why; a person 'principal' may not see is "no person
 * ... in your scope", as an unknown one. */
int api_owner_check(struct app *app, const struct auth_principal *principal, const char *office,
                    const char *person, const char *field, struct err_detail *why);

/* Record an event 'action' (payload, outcome and rules: JSON texts) on the
 * instance 'row' and its new document 'after' (borrowed), at 'now' (ms), as
 * every action is recorded (the next seq, the forecast columns). */
int api_instance_record(struct app_write *w, const struct store_instance_row *row,
                        const char *action, const char *payload, const char *outcome,
                        const char *rules, const json_t *after, int64_t now,
                        struct err_detail *why);

#endif
