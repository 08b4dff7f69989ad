/* engine/period.h
 *
 * Accounting periods: "2026" (a year), "2026-Q2" (a quarter) or "2026-03" (a
 * month), as half-open date ranges [from, to) of "YYYY-MM-DD" strings, which
 * compare in order as text. Leaf module.
 */
#ifndef ENGINE_PERIOD_H
#define ENGINE_PERIOD_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define PERIOD_DATE_SIZE 11 /* "YYYY-MM-DD" and its NUL */
/* What a refused date should have been (period_date_valid's rule), for the
 * messages that refuse one: the form alone does not say why 2026-02-30 or
 * 9999-01-01 is refused. */
#define PERIOD_DATE_EXPECTED "expected a real day YYYY-MM-DD from 1900-01-01 to 9998-12-31"

/* Fill from and to; -ERR_INVALID_FIELD (field "period") when malformed. */
int period_range(const char *period, char from[PERIOD_DATE_SIZE], char to[PERIOD_DATE_SIZE],
                 struct err_detail *why);

/* True when 's' is a real calendar date "YYYY-MM-DD" (years 1900 to 9998,
 * the years periods take): digits where digits go, no sign, no spaces. */
bool period_date_valid(const char *s);

/* Days from 'from' to 'to' (both valid dates; negative when 'to' is before). */
int64_t period_days_between(const char *from, const char *to);

#endif
