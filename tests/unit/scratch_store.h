/* tests/unit/scratch_store.h: a fresh store for the unit tests of the
 * store's modules. A test calls fresh(), which names the database after the
 * test program ('dbpath', which store_open takes again to reopen it) and
 * removes what an earlier run left.
 *
 * With scratch_pg set, the store is on PostgreSQL (the throwaway cluster of
 * tests/run-all.sh, LTC_PG_URI): a schema of its own in that database,
 * named by the URI's search_path, so that tests never see each other's
 * tables. SCRATCH_BOTH(name) declares pg_name, the test 'name' run there. */
#ifndef TEST_SCRATCH_STORE_H
#define TEST_SCRATCH_STORE_H

#include <stdio.h>
#include <unistd.h>

#include "db.h"
#include "store.h"

#ifndef SCRATCH_NAME
#error "define SCRATCH_NAME (the test's name) before including scratch_store.h"
#endif

static char dbpath[512];
static int scratch_pg;

#define SCRATCH_BOTH(name)                                                                         \
    static void pg_##name(void)                                                                    \
    {                                                                                              \
        scratch_pg = 1;                                                                            \
        name();                                                                                    \
    }

/* An empty schema in LTC_PG_URI's database; dbpath the URI that uses it. */
static int scratch_pg_schema(void)
{
    const char *uri = getenv("LTC_PG_URI");
    if (!uri || !*uri) {
        fprintf(stderr, "# LTC_PG_URI is not set: run through tests/run-all.sh\n");
        return -1;
    }
    char schema[64], sql[200];
    snprintf(schema, sizeof schema, "scratch_%s_%d", SCRATCH_NAME, getpid());
    for (char *c = schema; *c; c++)
        if (*c == '-')
            *c = '_';
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema, schema);
    struct db *db = NULL;
    struct err_detail why = {0};
    if (db_open(uri, false, &db, &why)) {
        fprintf(stderr, "# %s\n", why.msg);
        return -1;
    }
    int rc = db_exec(db, sql);
    if (rc)
        fprintf(stderr, "# %s\n", db_message(db));
    db_close(db);
    snprintf(dbpath, sizeof dbpath, "%s%coptions=-csearch_path%%3D%s", uri,
             strchr(uri, '?') ? '&' : '?', schema);
    return rc;
}

static struct store *fresh(void)
{
    if (scratch_pg) {
        if (scratch_pg_schema())
            return NULL;
    } else {
        snprintf(dbpath, sizeof dbpath, "/tmp/ltcd-%s-test-%d.db", SCRATCH_NAME, getpid());
        unlink(dbpath);
        char wal[600];
        snprintf(wal, sizeof wal, "%s-wal", dbpath);
        unlink(wal);
    }
    struct store *st = NULL;
    struct err_detail why = {0};
    if (store_open(dbpath, false, &st, &why))
        fprintf(stderr, "# %s\n", why.msg);
    return st;
}

#endif
