/* engine/store_internal.h
 *
 * What store.c shares with the store's other SQL files, store_leads.c
 * (people, customers, activities, review meetings) and store_pipeline.c
 * (forecasts, pipeline sums), and nothing else includes. They speak db.h
 * on the store's connection; none of them sees the database's own API.
 */
#ifndef ENGINE_STORE_INTERNAL_H
#define ENGINE_STORE_INTERNAL_H

#include "db.h"
#include "store.h"

/* A file's statements, each prepared on first use on the store's
 * connection and kept (persistent) until store_close, which finalizes them.
 * 'sql' has 'count' texts, indexed by the file's own enum; 'pg', when not
 * NULL, has PostgreSQL's own text at the indexes where it differs (NULL
 * elsewhere); 'slot' is the file's place in the store (one per table). */
enum store_table { STORE_TABLE_LEADS, STORE_TABLE_PIPELINE, STORE_TABLES };
struct store_sql {
    enum store_table slot;
    int count;
    const char *const *sql;
    const char *const *pg;
};

/* Statement 'which' of 'table', prepared if it is not yet: borrowed, NULL
 * (why set) when it cannot be prepared. As every statement of the store it
 * is handed over reset and unbound; the caller binds, steps and resets it
 * (db_reset) before it returns. */
struct db_stmt *store__stmt(struct store *st, const struct store_sql *table, int which,
                            struct err_detail *why);

/* The connection's last failure as an err_detail "what: message"
 * (-ERR_STORE_BUSY for another writer, else -ERR_STORE); a failure of the
 * medium (DB_FAIL_MEDIUM) also makes the store degraded (store_degraded). */
int store__fail(struct store *st, struct err_detail *why, const char *what);

/* Step a statement that returns no rows, then reset it: 0 or store__fail. */
int store__done(struct store *st, struct db_stmt *s, struct err_detail *why, const char *what);

/* Step an INSERT ... RETURNING id (its only column), *id the new row's id,
 * then reset it: 0 or store__fail. */
int store__insert_id(struct store *st, struct db_stmt *s, int64_t *id, struct err_detail *why,
                     const char *what);

#endif
