/* engine/store_internal.h
 *
 * What store.c shares with the store's other SQL file, store_leads.c (people,
 * customers, activities, review meetings), and nothing else includes.
 */
#ifndef ENGINE_STORE_INTERNAL_H
#define ENGINE_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

/* The connection (borrowed). */
sqlite3 *store__db(struct store *st);
/* store_leads.c's state (its prepared statements), owned by it; NULL until first use. */
void **store__leads_slot(struct store *st);
/* Finalize store_leads.c's statements (store_close). */
void store_leads__close(struct store *st);
/* store_pipeline.c's statements, likewise. */
void **store__pipeline_slot(struct store *st);
void store_pipeline__close(struct store *st);

#endif
