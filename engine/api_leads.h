/* engine/api_leads.h
 *
 * The handlers of lead management (CONTRACT 8.3; README "Lead management"):
 * people and customers (api_people.c), the review queue and meetings
 * (api_reviews.c), activities and scorecards (api_activities.c), and the
 * scope helpers they share.
 */
#ifndef ENGINE_API_LEADS_H
#define ENGINE_API_LEADS_H

#include <stdbool.h>

#include "api.h"

/* The region of an office by HQ's active org tree (borrowed), or NULL. */
const char *api_region_of(struct api_call *c, const char *office);
/* True when the principal's unit holds the (known) office. */
bool api_sees_office(struct api_call *c, const char *office);
/* The filters of a listing for the principal and ?office= (may be NULL): an
 * office out of its scope is 403, a malformed or unknown one 400 (answered;
 * returns -1). */
int api_scope_filter(struct api_call *c, const char *office, const char **region_f,
                     const char **office_f);

api_handler_fn api_person_put, api_person_get, api_people_list;
api_handler_fn api_customer_put, api_customer_get, api_customers_list;
api_handler_fn api_review_queue, api_review_create, api_review_get;
api_handler_fn api_activity_create, api_activities_list, api_scorecards;

#endif
