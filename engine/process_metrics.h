/* engine/process_metrics.h
 *
 * Process metrics of a unit and period (CONTRACT 8.4; README "Process
 * metrics" has the definitions): conversion at each step, win rate, median
 * days per stage, median lead-to-cash cycle, DSO, overdue ratio and leads by
 * source, each with the counts it was computed from. Every figure comes from
 * the business dates the instances' events recorded (the date each stage was
 * entered, the closure, the milestones), so a past period's figures stay
 * what they were.
 *
 * It reads every instance of the unit: run it as a job (job.h) on the job's
 * reader and rules. *out is a new reference owned by the caller.
 */
#ifndef ENGINE_PROCESS_METRICS_H
#define ENGINE_PROCESS_METRICS_H

#include <jansson.h>

#include "err.h"
#include "rules.h"
#include "store.h"

/* region, office: the unit's filters (NULL: any). today: "YYYY-MM-DD", the
 * latest date the overdue ratio is taken at. */
int process_metrics(struct store *st, struct rules *r, const char *region, const char *office,
                    const char *period, const char *today, json_t **out, struct err_detail *why);

#endif
