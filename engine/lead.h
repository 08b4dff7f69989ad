/* engine/lead.h
 *
 * The request body of POST /v1/leads, checked and normalised. This is the
 * first parser of untrusted input after HTTP (fuzzed by tests/fuzz/lead_fuzz.c).
 *
 * A lead is: office (ID), customer, title, source (sales|technical|delivery|
 * marketing), budget { amount (integer, minor units), currency (3 capitals,
 * default CNY), status (approved|planned|none) }, horizon_months (0..120) and
 * signals { NAME: 0..5 } (optional) and product_line (an ID, default
 * "general"). Unknown fields are refused. Fields the
 * body leaves out may come from 'defaults' (the office's L6 tool defaults),
 * which go through the same checks.
 *
 * Errors are -ERR_INVALID_JSON (not JSON, or not an object) or
 * -ERR_INVALID_FIELD with why->field naming the field ("budget.amount").
 */
#ifndef ENGINE_LEAD_H
#define ENGINE_LEAD_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"

#define LEAD_TEXT_MAX       200 /* characters of customer and title */
#define LEAD_SIGNALS_MAX    32  /* signals per lead */
#define LEAD_HORIZON_MAX    120 /* months */
#define LEAD_JSON_DEPTH_MAX 16

/* Parse 'body' (len bytes) into a new normalised lead object, owned by the
 * caller (json_decref). 'defaults' (may be NULL) is borrowed. */
int lead_parse(const char *body, size_t len, const json_t *defaults, json_t **out,
               struct err_detail *why);

/* Check an already-parsed object (used by lead_parse). */
int lead_check(json_t *lead, const json_t *defaults, json_t **out, struct err_detail *why);

/* True when 's' is a valid unit ID: 1..63 of [a-z0-9_-]. */
int lead_valid_id(const char *s);

#endif
