/* engine/period_week.h
 *
 * Calendar dates and ISO 8601 weeks, for the business dates of lead
 * management (review dates, activities, weekly scorecards). Dates are
 * "YYYY-MM-DD" (years 1900..9998), days are counted from 1970-01-01 (day 0,
 * a Thursday). A week is "YYYY-Www": ISO weeks start on Monday, and week 1
 * of a year is the week holding its first Thursday, so a week can span a
 * year end (2026-W53 runs from 2026-12-28 to 2027-01-03). Leaf module.
 */
#ifndef ENGINE_PERIOD_WEEK_H
#define ENGINE_PERIOD_WEEK_H

#include <stdint.h>

#include "err.h"
#include "period.h"

/* A real date: 0 and *days, else -ERR_INVALID_FIELD naming 'field'. */
int period_date_days(const char *field, const char *date, int64_t *days, struct err_detail *why);
/* The date of a day count into out. */
void period_days_date(int64_t days, char out[PERIOD_DATE_SIZE]);
/* The Monday and Sunday of an ISO week "YYYY-Www" (W01..W52, or W53 in a year
 * that has it), else -ERR_INVALID_FIELD (field "week"). */
int period_iso_week(const char *week, char monday[PERIOD_DATE_SIZE], char sunday[PERIOD_DATE_SIZE],
                    struct err_detail *why);

#endif
