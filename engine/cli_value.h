/* engine/cli_value.h
 *
 * Values typed on a command line (ltcctl's options, KEY=VALUE arguments and
 * positional numbers), each parsed whole and strictly before anything is
 * sent: "12.5", "1,200,000", "1e6", "0x10", " 7", "+7", "007", an overflow
 * or an empty string is never a whole number; money is whole fen, or yuan
 * with at most two decimals under an option that says so (money.h). A
 * refusal is -ERR_INVALID_FIELD with 'opt' (the option or key as the user
 * typed it, e.g. "--amount") as the field, and a message that names the
 * option, quotes what was given (cut at 40 bytes) and states the accepted
 * forms, e.g. "--amount: '12.5' is not an amount in fen: expected whole fen
 * from 0 to 9007199254740992 (digits only, e.g. 120000000 for
 * 1,200,000.00 CNY), or yuan with --yuan 1200000.00".
 *
 * Leaf module (money.c, period.c, period_week.c, utf8.c, err.c); no allocation; 'opt'
 * and 's' are borrowed.
 */
#ifndef ENGINE_CLI_VALUE_H
#define ENGINE_CLI_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A signal's range, as the lead API takes it (CONTRACT section 5). */
#define CLI_SIGNAL_MAX 5

/* A whole number in [min, max] (both within +-MONEY_MAX, 2^53). */
int cli_int(const char *opt, const char *s, int64_t min, int64_t max, int64_t *out,
            struct err_detail *why);

/* Money in fen (minor units) in [min, max]; 'major_opt' ("--yuan",
 * "value_yuan") is named in the message as the way to give yuan, or NULL. */
int cli_fen(const char *opt, const char *s, int64_t min, int64_t max, const char *major_opt,
            int64_t *out, struct err_detail *why);

/* Money in yuan with at most two decimals, converted exactly to fen in
 * [min, max] (bounds in fen). */
int cli_yuan(const char *opt, const char *s, int64_t min, int64_t max, int64_t *out,
             struct err_detail *why);

/* A percentage in [min, max]: digits with at most four decimals ("15",
 * "12.5"), no '%' sign. *integral says whether it has no fraction, so the
 * caller can send 15 as an integer and 12.5 as a real. */
int cli_percent(const char *opt, const char *s, int min, int max, double *out, bool *integral,
                struct err_detail *why);

/* A calendar date YYYY-MM-DD (a real day of a year 1970 to 9999). */
int cli_date(const char *opt, const char *s, struct err_detail *why);

/* NAME=VALUE of --signal: NAME [a-z0-9_-], 1 to 63 bytes, into name[64];
 * VALUE a whole number from 0 to CLI_SIGNAL_MAX. */
int cli_signal(const char *opt, const char *s, char name[64], int64_t *value,
               struct err_detail *why);

/* An id as the API takes it (people, customers, offices): 1 to 63 bytes of
 * [a-z0-9_-]. */
int cli_id(const char *opt, const char *s, struct err_detail *why);

/* A unit of the org tree: "hq", "region/ID" or "office/ID" (ID as cli_id). */
int cli_unit(const char *opt, const char *s, struct err_detail *why);

/* A unit of the pipeline: one of cli_unit's, or "customer/ID". */
int cli_unit_or_customer(const char *opt, const char *s, struct err_detail *why);

/* An accounting period "YYYY", "YYYY-Qn" or "YYYY-MM" (period.h), a year from
 * 1900 to 9998. */
int cli_period(const char *opt, const char *s, struct err_detail *why);

/* An ISO 8601 week "YYYY-Www" that exists (2026-W53 does, 2025-W53 does not). */
int cli_week(const char *opt, const char *s, struct err_detail *why);

/* One of 'choices' (a NULL-terminated list), e.g. --kind visit; the refusal
 * lists them. */
int cli_choice(const char *opt, const char *s, const char *const *choices, struct err_detail *why);

/* Text of 1 to 'max' characters of valid UTF-8 (names, notes). */
int cli_text(const char *opt, const char *s, size_t max, struct err_detail *why);

/* KEY=VALUE: KEY [a-z0-9_], 1 to 63 bytes, into key[64]; *value points into
 * 's' after the '=' (may be empty: the key's parser decides). */
int cli_key_value(const char *s, char key[64], const char **value, struct err_detail *why);

#endif
