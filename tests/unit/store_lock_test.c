/* tests/unit/store_lock_test.c: one process per database. */
#include <signal.h>
#include <sys/stat.h>

#include "store_lock.h"
#include "test.h"

static char dir[256], db[300];

static void tidy(void)
{
    char lock[320];
    snprintf(lock, sizeof lock, "%s.lock", db);
    unlink(lock);
    rmdir(dir);
}

static void fresh(void)
{
    snprintf(dir, sizeof dir, "/tmp/ltcd-lock-test-%d", getpid());
    mkdir(dir, 0755);
    snprintf(db, sizeof db, "%s/ltc.db", dir);
    char lock[320];
    snprintf(lock, sizeof lock, "%s.lock", db);
    unlink(lock);
}

TEST(a_second_lock_is_refused_naming_the_database_and_the_pid)
{
    fresh();
    struct store_lock *a = NULL, *b = NULL;
    struct err_detail why = {0};
    CHECK(store_lock_open(db, &a, &why) == 0 && a);
    CHECK(store_lock_open(db, &b, &why) == -ERR_CONFLICT && !b);
    char pid[32];
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    CHECK_MSG(strstr(why.msg, db) && strstr(why.msg, pid), "%s", why.msg);
    store_lock_close(a);
    CHECK(store_lock_open(db, &b, &why) == 0);
    store_lock_close(b);
    tidy();
}

TEST(a_relative_or_symlinked_path_locks_the_same_file)
{
    fresh();
    struct store_lock *a = NULL, *b = NULL;
    struct err_detail why = {0};
    CHECK(store_lock_open(db, &a, &why) == 0);
    CHECK(chdir(dir) == 0);
    CHECK(store_lock_open("./ltc.db", &b, &why) == -ERR_CONFLICT);
    store_lock_close(a);
    /* Once the database exists, a symlink to it resolves to it. */
    FILE *f = fopen(db, "w");
    CHECK(f);
    fclose(f);
    unlink("link.db");
    CHECK(symlink(db, "link.db") == 0);
    CHECK(store_lock_open(db, &a, &why) == 0);
    CHECK(store_lock_open("link.db", &b, &why) == -ERR_CONFLICT);
    store_lock_close(a);
    unlink("link.db");
    unlink(db);
    tidy();
}

/* The kernel releases the lock of a process killed by SIGKILL: a restart
 * right after a crash takes it, whatever pid the file still names. */
TEST(the_lock_of_a_killed_holder_is_free_at_once)
{
    fresh();
    int ready[2];
    CHECK(pipe(ready) == 0);
    pid_t child = fork();
    if (child == 0) {
        struct store_lock *lk = NULL;
        if (store_lock_open(db, &lk, NULL))
            _exit(2);
        if (write(ready[1], "x", 1) != 1)
            _exit(3);
        pause();
        _exit(0);
    }
    char c;
    CHECK(read(ready[0], &c, 1) == 1);
    struct store_lock *lk = NULL;
    struct err_detail why = {0};
    CHECK(store_lock_open(db, &lk, &why) == -ERR_CONFLICT);
    char pid[32];
    snprintf(pid, sizeof pid, "pid %ld", (long)child);
    CHECK_MSG(strstr(why.msg, pid), "%s", why.msg);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    CHECK(store_lock_open(db, &lk, &why) == 0);
    store_lock_close(lk);
    tidy();
}

TEST(an_unusable_directory_is_an_io_error_naming_the_database)
{
    struct store_lock *lk = NULL;
    struct err_detail why = {0};
    CHECK(store_lock_open("/proc/nonexistent/ltc.db", &lk, &why) == -ERR_IO && !lk);
    CHECK_MSG(strstr(why.msg, "/proc/nonexistent/ltc.db"), "%s", why.msg);
}

TEST_MAIN(T(a_second_lock_is_refused_naming_the_database_and_the_pid),
          T(a_relative_or_symlinked_path_locks_the_same_file),
          T(the_lock_of_a_killed_holder_is_free_at_once),
          T(an_unusable_directory_is_an_io_error_naming_the_database))
