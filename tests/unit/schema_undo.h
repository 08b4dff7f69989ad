/* tests/unit/schema_undo.h: takes a SQLite database from the newest schema
 * back to the one before migration 14 (kept sums in two columns,
 * store_schema.c), undoing migration 15 (the funnel's place in columns) on
 * the way, for tests that roll a database back to an older schema by hand
 * and let the store migrate it up again. Sums are joined back exactly; the
 * triggers are recreated from the migrations that first made them.
 *
 * schema_undo_kept_sums(path): 0 on success; a failure is printed. */
#ifndef TESTS_UNIT_SCHEMA_UNDO_H
#define TESTS_UNIT_SCHEMA_UNDO_H

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "store_schema.h"

#define SCHEMA_KEPT_SUMS 14 /* the schema version migration 14 (index 13) reaches */

static const char *const schema_undo_triggers[] = {
    "ledger_sums",
    "ledger_customer_sums",
    "instances_exposure_insert",
    "instances_exposure_update",
    "forecasts_insert",
    "forecasts_update",
    "forecasts_delete",
    "instances_funnel_insert",
    "instances_funnel_update",
};

static const char *const schema_undo_columns[][2] = {
    {"ledger_daily", "amount"}, {"ledger_customers", "amount"}, {"customer_exposure", "amount"},
    {"pipeline_sums", "value"}, {"pipeline_sums", "weighted"},  {"funnel_sums", "value"},
};

/* The text of trigger 'name' as the first migration before kept sums that
 * creates it wrote it, up to its END; appended to b. */
static int schema_undo_old_trigger(struct buf *b, const char *name)
{
    char head[96];
    snprintf(head, sizeof head, "CREATE TRIGGER %s ", name);
    for (int i = 0; i < SCHEMA_KEPT_SUMS - 1; i++) {
        const char *p = strstr(store_migrations[i], head), *end = p ? strstr(p, "END;") : NULL;
        if (end) {
            buf_put(b, p, (size_t)(end + 4 - p));
            return 0;
        }
    }
    return -1;
}

static int schema_undo_kept_sums(const char *path)
{
    struct buf b = {0};
    for (size_t i = 0; i < sizeof schema_undo_triggers / sizeof *schema_undo_triggers; i++)
        buf_printf(&b, "DROP TRIGGER %s;", schema_undo_triggers[i]);
    /* Migration 15's columns: the funnel's triggers that read them are gone. */
    buf_str(&b, "ALTER TABLE instances DROP COLUMN funnel_value;"
                "ALTER TABLE instances DROP COLUMN outcome;");
    for (size_t i = 0; i < sizeof schema_undo_columns / sizeof *schema_undo_columns; i++) {
        const char *t = schema_undo_columns[i][0], *c = schema_undo_columns[i][1];
        buf_printf(&b,
                   "UPDATE %s SET %s_lo = %s_hi * 4294967296 + %s_lo;"
                   "ALTER TABLE %s DROP COLUMN %s_hi;"
                   "ALTER TABLE %s RENAME COLUMN %s_lo TO %s;",
                   t, c, c, c, t, c, t, c, c);
    }
    for (size_t i = 0; i < sizeof schema_undo_triggers / sizeof *schema_undo_triggers; i++)
        if (schema_undo_old_trigger(&b, schema_undo_triggers[i])) {
            fprintf(stderr, "# schema_undo: no trigger %s before kept sums\n",
                    schema_undo_triggers[i]);
            buf_deinit(&b);
            return -1;
        }
    buf_printf(&b, "PRAGMA user_version = %d;", SCHEMA_KEPT_SUMS - 1);
    sqlite3 *db = NULL;
    char *err = NULL;
    int rc =
        sqlite3_open(path, &db) == SQLITE_OK && sqlite3_exec(db, b.p, NULL, NULL, &err) == SQLITE_OK
            ? 0
            : -1;
    if (rc)
        fprintf(stderr, "# schema_undo: %s\n", err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    sqlite3_close(db);
    buf_deinit(&b);
    return rc;
}

#endif
