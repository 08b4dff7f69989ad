/* tests/unit/store_backup_test.c: ltcd --backup and --restore. */
#include <dirent.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "store.h"
#include "store_backup.h"
#include "store_lock.h"
#include "test.h"

static char dir[256], db[300], dest[300];

static void fresh(void)
{
    snprintf(dir, sizeof dir, "/tmp/ltcd-backup-test-%d", getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd))
        return;
    mkdir(dir, 0755);
    snprintf(db, sizeof db, "%s/ltc.db", dir);
    snprintf(dest, sizeof dest, "%s/backup.db", dir);
}

static void tidy(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd))
        return;
}

static bool exists(const char *base, const char *suffix)
{
    char p[400];
    snprintf(p, sizeof p, "%s%s", base, suffix);
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* Insert instances from..to (inclusive) and commit. */
static int add(struct store *st, int from, int to)
{
    if (store_begin(st, NULL))
        return -1;
    for (int id = from; id <= to; id++) {
        struct store_instance in = {.id = id,
                                    .stage = "lead",
                                    .region = "south",
                                    .office = "a",
                                    .doc = "{}",
                                    .at_ms = 1,
                                    .last_seq = 1};
        if (store_instance_insert(st, &in, NULL))
            return -1;
    }
    return store_commit(st, NULL);
}

static struct store *open_db(int instances)
{
    struct store *st = NULL;
    struct err_detail why = {0};
    if (store_open(db, false, &st, &why)) {
        fprintf(stderr, "# %s\n", why.msg);
        return NULL;
    }
    if (instances && add(st, 1, instances)) {
        store_close(st);
        return NULL;
    }
    return st;
}

/* count(*) of instances through a plain read-only connection, or -1. */
static long long count(const char *path)
{
    sqlite3 *d = NULL;
    sqlite3_stmt *s = NULL;
    long long n = -1;
    if (sqlite3_open_v2(path, &d, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(d, "SELECT count(*) FROM instances", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(d);
    return n;
}

static int temp_files_left(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strstr(e->d_name, ".tmp-") || strstr(e->d_name, "restore-tmp");
    if (d)
        closedir(d);
    return n;
}

TEST(a_backup_is_one_consistent_self_contained_file)
{
    fresh();
    struct store *st = open_db(20);
    CHECK(st);
    /* A write in flight (begun, not committed) is not in the copy. */
    CHECK(store_begin(st, NULL) == 0);
    struct store_instance in = {
        .id = 21, .stage = "lead", .region = "s", .office = "a", .doc = "{}", .at_ms = 1};
    CHECK(store_instance_insert(st, &in, NULL) == 0);
    struct store_copy_info info = {0};
    struct err_detail why = {0};
    CHECK_MSG(store_backup(db, dest, &info, &why) == 0, "%s", why.msg);
    store_rollback(st);
    CHECK(info.instances == 20 && info.schema == store_schema_version(st) && info.bytes > 0);
    CHECK(count(dest) == 20);
    /* A rollback-journal file: it needs no -wal beside it. */
    unsigned char hdr[20];
    FILE *f = fopen(dest, "rb");
    CHECK(f && fread(hdr, 1, sizeof hdr, f) == sizeof hdr);
    fclose(f);
    CHECK(hdr[18] == 1 && hdr[19] == 1);
    CHECK(!exists(dest, "-wal") && !exists(dest, "-journal") && temp_files_left() == 0);
    store_close(st);
    tidy();
}

TEST(a_backup_refuses_the_database_itself_and_a_directory)
{
    fresh();
    struct store *st = open_db(1);
    CHECK(st);
    struct err_detail why = {0};
    char wal[320];
    snprintf(wal, sizeof wal, "%s-wal", db);
    CHECK(store_backup(db, db, NULL, &why) == -ERR_USAGE);
    CHECK(store_backup(db, wal, NULL, &why) == -ERR_USAGE);
    CHECK(store_backup(db, dir, NULL, &why) == -ERR_USAGE && strstr(why.msg, "directory"));
    CHECK(store_backup("/nonexistent/ltc.db", dest, NULL, &why) == -ERR_NOT_FOUND);
    CHECK(count(db) == 1);
    store_close(st);
    tidy();
}

/* What a backup killed by SIGKILL left (its DEST.tmp-PID) goes with the
 * next backup to the same DEST; a live backup's file is left alone. */
TEST(the_next_backup_sweeps_what_killed_ones_left)
{
    fresh();
    struct store *st = open_db(3);
    CHECK(st);
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    waitpid(gone, NULL, 0);
    char stale[400], stale_j[420], live[400];
    snprintf(stale, sizeof stale, "%s.tmp-%ld", dest, (long)gone);
    snprintf(stale_j, sizeof stale_j, "%s-journal", stale);
    snprintf(live, sizeof live, "%s.tmp-%ld", dest, (long)getppid());
    FILE *f1 = fopen(stale, "w"), *f2 = fopen(stale_j, "w"), *f3 = fopen(live, "w");
    CHECK(f1 && f2 && f3);
    fclose(f1);
    fclose(f2);
    fclose(f3);
    struct err_detail why = {0};
    CHECK_MSG(store_backup(db, dest, NULL, &why) == 0, "%s", why.msg);
    CHECK(!exists(stale, "") && !exists(stale_j, "") && exists(live, ""));
    CHECK(count(dest) == 3);
    store_close(st);
    tidy();
}

TEST(a_restore_is_refused_while_a_daemon_holds_the_database)
{
    fresh();
    struct store *st = open_db(5);
    CHECK(st);
    struct err_detail why = {0};
    CHECK(store_backup(db, dest, NULL, &why) == 0);
    CHECK(add(st, 6, 7) == 0);
    struct store_lock *lock = NULL;
    CHECK(store_lock_open(db, &lock, &why) == 0);
    CHECK(store_restore(db, dest, NULL, &why) == -ERR_CONFLICT);
    CHECK_MSG(strstr(why.msg, db) && strstr(why.msg, "pid"), "%s", why.msg);
    store_lock_close(lock);
    CHECK(count(db) == 7 && temp_files_left() == 0);
    store_close(st);
    tidy();
}

/* A daemon killed with writes in its WAL: restoring a backup over it must
 * give exactly the backup, not the backup with the old WAL replayed on it;
 * the old database, WAL folded in, is kept as DB-PATH.before-restore. */
TEST(a_restore_never_replays_the_old_databases_wal)
{
    fresh();
    struct store *st = open_db(10);
    CHECK(st);
    struct err_detail why = {0};
    CHECK(store_backup(db, dest, NULL, &why) == 0);
    store_close(st);
    pid_t crashed = fork();
    if (crashed == 0) {
        struct store *c = open_db(0);
        _exit(c && add(c, 11, 40) == 0 ? 0 : 1); /* no close: like kill -9 */
    }
    int status = 0;
    waitpid(crashed, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(exists(db, "-wal"));
    struct store_copy_info info = {0};
    CHECK_MSG(store_restore(db, dest, &info, &why) == 0, "%s", why.msg);
    CHECK(info.instances == 10 && info.kept);
    CHECK(!exists(db, "-wal") && !exists(db, "-shm") && temp_files_left() == 0);
    CHECK(count(db) == 10);
    char kept[400];
    snprintf(kept, sizeof kept, "%s" STORE_BEFORE_RESTORE, db);
    CHECK(count(kept) == 40);
    /* And the daemon opens it as it was backed up. */
    CHECK(store_open(db, true, &st, &why) == 0);
    CHECK(store_instance_count(st) == 10 && store_integrity_check(st, &why) == 0);
    store_close(st);
    tidy();
}

static void write_at(const char *path, long off, const char *bytes, size_t n)
{
    FILE *f = fopen(path, "r+b");
    if (f && fseek(f, off, SEEK_SET) == 0)
        fwrite(bytes, 1, n, f);
    if (f)
        fclose(f);
}

TEST(a_restore_refuses_what_is_not_a_sound_ltcd_database_of_a_known_schema)
{
    fresh();
    struct store *st = open_db(8);
    CHECK(st);
    struct err_detail why = {0};
    CHECK(store_backup(db, dest, NULL, &why) == 0);
    char bad[400], cmd[900];
    /* Not a database at all. */
    snprintf(bad, sizeof bad, "%s/garbage.db", dir);
    FILE *f = fopen(bad, "w");
    CHECK(f);
    fputs("not sqlite\n", f);
    fclose(f);
    CHECK(store_restore(db, bad, NULL, &why) == -ERR_STORE);
    /* A database, but not ltcd's. */
    snprintf(bad, sizeof bad, "%s/other.db", dir);
    snprintf(cmd, sizeof cmd, "sqlite3 %s 'CREATE TABLE t(x); PRAGMA user_version=3'", bad);
    CHECK(system(cmd) == 0);
    CHECK(store_restore(db, bad, NULL, &why) == -ERR_STORE && strstr(why.msg, "not an ltcd"));
    /* ltcd's, from a newer ltcd. */
    snprintf(bad, sizeof bad, "%s/newer.db", dir);
    snprintf(cmd, sizeof cmd, "cp %s %s && sqlite3 %s 'PRAGMA user_version=999'", dest, bad, bad);
    CHECK(system(cmd) == 0);
    CHECK(store_restore(db, bad, NULL, &why) == -ERR_STORE && strstr(why.msg, "newer"));
    /* ltcd's, damaged: the last page's b-tree header overwritten. */
    snprintf(bad, sizeof bad, "%s/damaged.db", dir);
    snprintf(cmd, sizeof cmd, "cp %s %s", dest, bad);
    CHECK(system(cmd) == 0);
    struct stat sb;
    CHECK(stat(bad, &sb) == 0 && sb.st_size > 4096);
    static const char junk[64] = {0x0d, 0x00, 0x30, 0xff, 0xff, 0xff};
    write_at(bad, (long)sb.st_size - 4096, junk, sizeof junk);
    CHECK_MSG(store_restore(db, bad, NULL, &why) == -ERR_STORE, "%s", why.msg);
    CHECK(store_restore(db, "/nonexistent.db", NULL, &why) == -ERR_NOT_FOUND);
    CHECK(store_restore(db, db, NULL, &why) == -ERR_USAGE);
    /* Every refusal left the database as it was. */
    CHECK(count(db) == 8 && store_integrity_check(st, &why) == 0 && temp_files_left() == 0);
    char kept[400];
    snprintf(kept, sizeof kept, "%s" STORE_BEFORE_RESTORE, db);
    CHECK(!exists(kept, ""));
    store_close(st);
    tidy();
}

TEST_MAIN(T(a_backup_is_one_consistent_self_contained_file),
          T(a_backup_refuses_the_database_itself_and_a_directory),
          T(the_next_backup_sweeps_what_killed_ones_left),
          T(a_restore_is_refused_while_a_daemon_holds_the_database),
          T(a_restore_never_replays_the_old_databases_wal),
          T(a_restore_refuses_what_is_not_a_sound_ltcd_database_of_a_known_schema))
