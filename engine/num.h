/* engine/num.h
 *
 * Numbers from outside ltcd (query parameters, path segments, JSON body
 * fields, command-line flags), checked in the type they arrive in before
 * anything narrows them: text is parsed whole as an int64 with overflow
 * detected, a JSON number is read as the json_int_t jansson parsed; the
 * range check comes next, and only then may the caller narrow (to int, to
 * size_t). So 4294967297 is never 1, and "12abc" is never 12.
 *
 * Every refusal is -ERR_INVALID_FIELD (400) with the field named and the
 * range given: "limit: expected an integer from 1 to 500". Leaf module.
 */
#ifndef ENGINE_NUM_H
#define ENGINE_NUM_H

#include <jansson.h>
#include <stdint.h>

#include "err.h"

/* The largest integer a double (and so a Lua float, and SQLite's real
 * arithmetic) holds exactly: the bound of money and of any number handed to
 * a rule. */
#define NUM_EXACT_MAX ((int64_t)1 << 53)

/* Parse the whole of 's' as a decimal integer in [min, max]: an optional '-'
 * then digits, without spaces, '+' or leading zeros ("0" itself is fine).
 * NULL or empty is refused. */
int num_parse(const char *field, const char *s, int64_t min, int64_t max, int64_t *out,
              struct err_detail *why);

/* A JSON integer in [min, max]; a real, a string, a boolean or NULL (absent)
 * is refused. */
int num_json(const char *field, const json_t *v, int64_t min, int64_t max, int64_t *out,
             struct err_detail *why);

/* Every number anywhere in 'v' is exact: an integer within +-NUM_EXACT_MAX,
 * a real finite and within the same bound. 'field' names 'v' in messages
 * ("" for a whole body: then a member is named by its own path). */
int num_json_exact(const char *field, const json_t *v, struct err_detail *why);

#endif
