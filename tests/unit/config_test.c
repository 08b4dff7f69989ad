/* tests/unit/config_test.c: ltcd's flags. */
#include "config.h"
#include "test.h"

static int parse(struct config *c, struct err_detail *why, int argc, char **argv)
{
    return config_parse(c, argc, argv, why);
}

TEST(defaults_follow_the_contract)
{
    struct config c;
    struct err_detail why = {0};
    char *argv[] = {"ltcd"};
    CHECK(parse(&c, &why, 1, argv) == 0);
    CHECK(!strcmp(c.host, "127.0.0.1") && c.port == 8080);
    CHECK(!strcmp(c.db_path, "var/ltc.db"));
    CHECK(!strcmp(c.rules_dir, "rules"));
    CHECK(c.sync_full && c.watch && !c.auto_approve && !c.log_json);
    CHECK(c.body_max_bytes == 1024 * 1024);
}

TEST(every_flag_is_applied)
{
    struct config c;
    struct err_detail why = {0};
    char *argv[] = {"ltcd",   "--listen",       "[::1]:0",    "--db",
                    "x.db",   "--rules",        "r",          "--tokens",
                    "t",      "--auto-approve", "--no-watch", "--sync",
                    "normal", "--log-format",   "json",       "--max-body",
                    "2048",   "--idle-timeout", "3"};
    CHECK(parse(&c, &why, 19, argv) == 0);
    CHECK(!strcmp(c.host, "::1") && c.port == 0);
    CHECK(!strcmp(c.db_path, "x.db") && !strcmp(c.rules_dir, "r") && !strcmp(c.tokens_path, "t"));
    CHECK(c.auto_approve && !c.watch && !c.sync_full && c.log_json);
    CHECK(c.body_max_bytes == 2048 && c.idle_timeout_s == 3);
}

TEST(modes)
{
    struct config c;
    struct err_detail why = {0};
    char *a1[] = {"ltcd", "--check-rules", "--rules", "x"};
    CHECK(parse(&c, &why, 4, a1) == 0 && c.mode == CONFIG_CHECK_RULES);
    char *a2[] = {"ltcd", "--version"};
    CHECK(parse(&c, &why, 2, a2) == 0 && c.mode == CONFIG_VERSION);
}

TEST(bad_values_are_refused_with_a_message)
{
    struct config c;
    struct err_detail why = {0};
    char *a1[] = {"ltcd", "--sync", "sometimes"};
    CHECK(parse(&c, &why, 3, a1) == -ERR_USAGE && strstr(why.msg, "--sync"));
    char *a2[] = {"ltcd", "--listen", "localhost"};
    CHECK(parse(&c, &why, 3, a2) == -ERR_USAGE && strstr(why.msg, "HOST:PORT"));
    char *a3[] = {"ltcd", "--listen", "1.2.3.4:99999"};
    CHECK(parse(&c, &why, 3, a3) == -ERR_USAGE);
    char *a4[] = {"ltcd", "--bogus"};
    CHECK(parse(&c, &why, 2, a4) == -ERR_USAGE && strstr(why.msg, "--bogus"));
    char *a5[] = {"ltcd", "--db"};
    CHECK(parse(&c, &why, 2, a5) == -ERR_USAGE && strstr(why.msg, "needs a value"));
    char *a6[] = {"ltcd", "--max-body", "-5"};
    CHECK(parse(&c, &why, 3, a6) == -ERR_USAGE);
}

TEST(backup_and_restore_take_a_path_and_the_db)
{
    struct config c;
    struct err_detail why = {0};
    char *a1[] = {"ltcd", "--backup", "/b/x.db", "--db", "/var/lib/ltcd/ltc.db"};
    CHECK(parse(&c, &why, 5, a1) == 0 && c.mode == CONFIG_BACKUP);
    CHECK(!strcmp(c.copy_path, "/b/x.db") && !strcmp(c.db_path, "/var/lib/ltcd/ltc.db"));
    char *a2[] = {"ltcd", "--restore", "/b/x.db"};
    CHECK(parse(&c, &why, 3, a2) == 0 && c.mode == CONFIG_RESTORE);
    CHECK(!strcmp(c.copy_path, "/b/x.db") && !strcmp(c.db_path, "var/ltc.db"));
    char *a3[] = {"ltcd", "--backup"};
    CHECK(parse(&c, &why, 2, a3) == -ERR_USAGE && strstr(why.msg, "needs a value"));
    char *a4[] = {"ltcd", "--backup", "a", "--restore", "b"};
    CHECK(parse(&c, &why, 5, a4) == -ERR_USAGE);
    char *a5[] = {"ltcd", "--backup", "a", "--check-rules"};
    CHECK(parse(&c, &why, 4, a5) == -ERR_USAGE);
}

TEST(copy_db_takes_dest_and_the_db)
{
    struct config c;
    struct err_detail why = {0};
    char *a1[] = {"ltcd", "--copy-db", "postgresql://ltc@db/ltc", "--db", "/var/lib/ltcd/ltc.db"};
    CHECK(parse(&c, &why, 5, a1) == 0 && c.mode == CONFIG_COPY_DB);
    CHECK(!strcmp(c.copy_path, "postgresql://ltc@db/ltc") &&
          !strcmp(c.db_path, "/var/lib/ltcd/ltc.db"));
    char *a2[] = {"ltcd", "--copy-db"};
    CHECK(parse(&c, &why, 2, a2) == -ERR_USAGE && strstr(why.msg, "needs a value"));
    char *a3[] = {"ltcd", "--copy-db", "a", "--backup", "b"};
    CHECK(parse(&c, &why, 5, a3) == -ERR_USAGE && strstr(why.msg, "--copy-db"));
    char *a4[] = {"ltcd", "--copy-db", "a", "--check-rules"};
    CHECK(parse(&c, &why, 4, a4) == -ERR_USAGE);
}

TEST_MAIN(T(defaults_follow_the_contract), T(every_flag_is_applied), T(modes),
          T(bad_values_are_refused_with_a_message), T(backup_and_restore_take_a_path_and_the_db),
          T(copy_db_takes_dest_and_the_db))
