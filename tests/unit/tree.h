/* tests/unit/tree.h: a scratch rules tree for the unit tests of the rules
 * unit. A test names its tree in 'root' (e.g. /tmp/ltcd-NAME-test-PID) and
 * its database in 'dbpath', then writes files under the tree with put. */
#ifndef TEST_TREE_H
#define TEST_TREE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char root[256], dbpath[300];

/* Run a formatted shell command; a failure ends the test. */
#define SH(...)                                                                                    \
    do {                                                                                           \
        char cmd_[1024];                                                                           \
        snprintf(cmd_, sizeof cmd_, __VA_ARGS__);                                                  \
        if (system(cmd_))                                                                          \
            abort();                                                                               \
    } while (0)

/* Write 'len' bytes as the file 'rel' of the tree, making its directory. */
static inline void put_bytes(const char *rel, const char *src, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    SH("mkdir -p \"$(dirname '%s')\"", path);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(src, 1, len, f);
    fclose(f);
}

static inline void put(const char *rel, const char *src)
{
    put_bytes(rel, src, strlen(src));
}

#endif
