/* engine/period.h
 *
 * Accounting periods: "2026" (a year), "2026-Q2" (a quarter) or "2026-03" (a
 * month), as half-open date ranges [from, to) of "YYYY-MM-DD" strings, which
 * compare in order as text. Leaf module.
 */
#ifndef ENGINE_PERIOD_H
#define ENGINE_PERIOD_H

#include "err.h"

#define PERIOD_DATE_SIZE 11 /* "YYYY-MM-DD" and its NUL */

/* Fill from and to; -ERR_INVALID_FIELD (field "period") when malformed. */
int period_range(const char *period, char from[PERIOD_DATE_SIZE], char to[PERIOD_DATE_SIZE],
                 struct err_detail *why);

#endif
