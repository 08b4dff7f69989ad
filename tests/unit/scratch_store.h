/* tests/unit/scratch_store.h: a fresh store in a scratch file for the unit
 * tests of the store's modules. A test calls fresh(), which names the file
 * after the test program ('dbpath') and removes what an earlier run left. */
#ifndef TEST_SCRATCH_STORE_H
#define TEST_SCRATCH_STORE_H

#include <stdio.h>
#include <unistd.h>

#include "store.h"

#ifndef SCRATCH_NAME
#error "define SCRATCH_NAME (the test's name) before including scratch_store.h"
#endif

static char dbpath[256];

static struct store *fresh(void)
{
    snprintf(dbpath, sizeof dbpath, "/tmp/ltcd-%s-test-%d.db", SCRATCH_NAME, getpid());
    unlink(dbpath);
    char wal[300];
    snprintf(wal, sizeof wal, "%s-wal", dbpath);
    unlink(wal);
    struct store *st = NULL;
    struct err_detail why = {0};
    if (store_open(dbpath, false, &st, &why))
        fprintf(stderr, "# %s\n", why.msg);
    return st;
}

#endif
