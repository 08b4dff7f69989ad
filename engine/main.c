/* engine/main.c: ltcd's start-up order, signals and exit codes. Nothing else.
 *
 * Start-up: flags -> log -> tokens -> database lock -> store (migrations) -> HTTP bind -> rules
 * (stored active versions, then the rules directory) -> watch -> serve. Any failure
 * prints one line and exits 1 (a tokens file naming a unit the org tree does
 * not have included). SIGHUP re-reads the tokens file (a bad one keeps the
 * principals loaded before, and says why) and reloads rules from disk;
 * SIGTERM and SIGINT stop accepting, let in-flight requests finish and
 * commit, exit 0.
 */
#include <signal.h>
#include <sodium.h>
#include <systemd/sd-daemon.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "app.h"
#include "api.h"
#include "core.h"
#include "db.h"
#include "job.h"
#include "log.h"
#include "metrics.h"
#include "org.h"
#include "rules_watch.h"
#include "nodes.h"
#include "store_backup.h"
#include "store_copy.h"
#include "store_lock.h"

#define DRAIN_POLL_MS     10
#define DRAIN_DEADLINE_MS 2000

struct daemon {
    struct app app;
    struct config cfg;
    uv_signal_t sig_hup, sig_term, sig_int;
    uv_timer_t drain;
    uv_timer_t watchdog;    /* systemd WATCHDOG=1, when the unit asks for it */
    uv_prepare_t log_flush; /* writes the turn's buffered log lines before the loop waits */
    uint64_t drain_started_ms;
    struct rules_watch *watch;
    struct store_lock *lock; /* one daemon per database, held until exit */
    struct nodes *nodes;     /* PostgreSQL: what the other nodes activate */
    /* Principals replaced by a SIGHUP: a queued write may still borrow one
     * (app_write.principal), so they are freed only when no write waits. */
    struct auth_set *retired[8];
    size_t n_retired;
};

static void count_rule_call(const char *owner, const char *outcome)
{
    metrics_count(METRICS_RULE_CALLS, owner, outcome, 1);
}

static void observe_rule_calls(void *arg)
{
    (void)arg;
    sandbox_set_observer(count_rule_call);
}

/* An ed25519 public key written as 64 hex digits. */
static int read_key(const char *path, unsigned char key[32], struct err_detail *why)
{
    char hex[100] = "";
    FILE *f = fopen(path, "r");
    if (!f)
        return err_set(why, -ERR_IO, "cannot open the HQ public key %s", path);
    if (!fgets(hex, sizeof hex, f))
        hex[0] = '\0';
    fclose(f);
    hex[strcspn(hex, " \t\r\n")] = '\0';
    size_t n = 0;
    if (strlen(hex) != 64 || sodium_hex2bin(key, 32, hex, 64, NULL, &n, NULL) || n != 32)
        return err_set(why, -ERR_USAGE, "%s: expected an ed25519 public key as 64 hex digits",
                       path);
    return 0;
}

/* A start-up error is one line, whatever the message quotes. */
static int die(const char *msg)
{
    fputs("ltcd: ", stderr);
    for (; *msg; msg++)
        fputc(*msg == '\n' ? ' ' : *msg, stderr);
    fputc('\n', stderr);
    return 1;
}

/* Said before anything is made of the URI. */
#define POSTGRESQL_NO_BACKUP                                                                       \
    "--backup and --restore copy SQLite files; on PostgreSQL use pg_dump and pg_restore"           \
    " (README: Backup and restore on PostgreSQL), or --copy-db to copy a whole database"

static void on_log_flush(uv_prepare_t *p)
{
    (void)p;
    log_flush();
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    sd_notify(0, "WATCHDOG=1");
}

static void reload(void *arg)
{
    struct daemon *d = arg;
    sd_notify(0, "RELOADING=1");
    int failed = rules_sync_disk(d->app.rules, "ltcd:reload");
    sd_notify(0, "READY=1");
    log_info("rules: reload from %s done (%d owner(s) failed)", d->cfg.rules_dir, failed);
}

/* A principal's unit against the active HQ org tree. */
static bool unit_known(const char *unit, void *ctx)
{
    const struct org *org = rules_hq(ctx)->org;
    return !strncmp(unit, "region/", 7) ? org_has_region(org, unit + 7)
                                        : org_has_office(org, unit + 7);
}

/* Read and check the tokens file into *out (a new set). */
static int load_tokens(struct daemon *d, struct auth_set **out, struct err_detail *why)
{
    if (auth_set_load(d->cfg.tokens_path, out, why))
        return -1;
    if (auth_set_check_units(*out, unit_known, d->app.rules, why)) {
        auth_set_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static void warn_if_no_principals(const struct daemon *d)
{
    if (auth_set_count(d->app.auth) == 0)
        log_warn("no principals loaded (%s): every /v1 request will be refused with 401; "
                 "give --tokens FILE with one 'TOKEN UNIT ROLE' a line",
                 d->cfg.tokens_path ? d->cfg.tokens_path : "no --tokens");
}

static void free_retired(struct daemon *d)
{
    for (size_t i = 0; i < d->n_retired; i++)
        auth_set_free(d->retired[i]);
    d->n_retired = 0;
}

static void reload_tokens(struct daemon *d)
{
    if (!d->cfg.tokens_path)
        return;
    struct auth_set *next = NULL;
    struct err_detail why = {0};
    if (!d->app.queue_head)
        free_retired(d);
    if (d->n_retired == sizeof d->retired / sizeof *d->retired)
        err_set(&why, -ERR_UNAVAILABLE, "%s: writes still borrow the principals replaced before",
                d->cfg.tokens_path);
    else
        load_tokens(d, &next, &why);
    if (!next) {
        log_warn("tokens: %s; keeping the %zu principal(s) loaded before", why.msg,
                 auth_set_count(d->app.auth));
        return;
    }
    d->retired[d->n_retired++] = d->app.auth;
    d->app.auth = next;
    log_info("tokens: %zu principal(s) loaded from %s", auth_set_count(next), d->cfg.tokens_path);
    warn_if_no_principals(d);
}

static void hup(void *arg)
{
    reload_tokens(arg);
    reload(arg);
}

/* Reloads touch the rules and the principals: the engine's, so they run
 * where it runs. */
static void on_hup(uv_signal_t *s, int signum)
{
    (void)signum;
    struct daemon *d = s->data;
    core_call(d->app.core, hup, d);
}

static void on_rules_changed(void *arg)
{
    struct daemon *d = arg;
    core_call(d->app.core, reload, d);
}

static void close_all(struct daemon *d)
{
    http_stop(d->app.http);
    rules_watch_stop(d->watch);
    uv_close((uv_handle_t *)&d->sig_hup, NULL);
    uv_close((uv_handle_t *)&d->sig_term, NULL);
    uv_close((uv_handle_t *)&d->sig_int, NULL);
    uv_close((uv_handle_t *)&d->drain, NULL);
    uv_close((uv_handle_t *)&d->watchdog, NULL);
    uv_close((uv_handle_t *)&d->log_flush, NULL);
    uv_close((uv_handle_t *)&d->app.probe, NULL);
    jobs_detach(d->app.jobs);
}

/* Wait until every queued write is committed and answered and clients have
 * left (or the deadline passed), then close everything; the loop then ends. */
static void on_drain(uv_timer_t *t)
{
    struct daemon *d = t->data;
    bool idle = http_connection_count(d->app.http) == 0;
    bool late = uv_now(t->loop) - d->drain_started_ms > DRAIN_DEADLINE_MS;
    /* The core commits at the end of each turn: idle, everything is written. */
    if (core_idle(d->app.core) && !jobs_in_flight(d->app.jobs) && (idle || late))
        close_all(d);
}

static void on_stop(uv_signal_t *s, int signum)
{
    struct daemon *d = s->data;
    if (d->app.stopping)
        return;
    log_info("signal %d: stopping (finishing in-flight requests)", signum);
    sd_notify(0, "STOPPING=1");
    d->app.stopping = true;
    jobs_stop(d->app.jobs); /* waiting jobs answer 503; running ones finish */
    http_quiesce(d->app.http);
    d->drain_started_ms = uv_now(s->loop);
    uv_timer_start(&d->drain, on_drain, 0, DRAIN_POLL_MS);
}

static void ensure_parent_dir(const char *path)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        mkdir(dir, 0755);
    }
}

static int run(struct daemon *d)
{
    struct config *cfg = &d->cfg;
    struct app *app = &d->app;
    struct err_detail why = {0};
    log_init(cfg->log_json ? LOG_JSON : LOG_TEXT, LOG_INFO);
    app->cfg = cfg;
    app->loop = uv_default_loop();
    if (cfg->tokens_path) {
        if (auth_set_load(cfg->tokens_path, &app->auth, &why))
            return die(why.msg);
    } else {
        app->auth = auth_set_new_empty();
    }
    /* Before a SQLite database is opened: a second daemon must not even
     * migrate. Several nodes may serve one PostgreSQL database. */
    if (!db_is_postgresql(cfg->db_path)) {
        ensure_parent_dir(cfg->db_path);
        if (store_lock_open(cfg->db_path, &d->lock, &why))
            return die(why.msg);
    }
    if (store_open(cfg->db_path, cfg->sync_full, &app->st, &why))
        return die(why.msg);
    app_health_init(app);
    if (jobs_open(app->loop, cfg->db_path, &app->jobs, &why))
        return die(why.msg);
    /* Bind first: a port in use fails before the rules are compiled. */
    struct http_config hc = {
        .host = cfg->host,
        .port = cfg->port,
        .body_max_bytes = cfg->body_max_bytes,
        .idle_timeout_s = cfg->idle_timeout_s,
        .header_timeout_s = cfg->header_timeout_s,
        .body_timeout_s = cfg->body_timeout_s,
        .max_connections = cfg->max_connections,
        .handler = api_handle,
        .done = api_done,
        .ctx = app,
    };
    if (http_start(app->loop, &hc, &app->http, &why))
        return die(why.msg);
    sandbox_set_observer(count_rule_call);
    api_static_load(cfg->www_dir);
    unsigned char hq_key[32];
    if (cfg->hq_pubkey_path && read_key(cfg->hq_pubkey_path, hq_key, &why))
        return die(why.msg);
    struct rules_options ro = {.dir = cfg->rules_dir,
                               .auto_approve = cfg->auto_approve,
                               .hq_key = cfg->hq_pubkey_path ? hq_key : NULL};
    if (rules_open_with(app->st, &ro, &app->rules, &why))
        return die(why.msg);
    if (cfg->tokens_path && auth_set_check_units(app->auth, unit_known, app->rules, &why))
        return die(why.msg);
    if (cfg->watch &&
        rules_watch_start(app->loop, cfg->rules_dir, on_rules_changed, d, &d->watch, &why))
        return die(why.msg);
    if (core_start(app, &app->core, &why))
        return die(why.msg);
    jobs_attach(app->jobs, app->core);
    if (db_is_postgresql(cfg->db_path) && nodes_start(app, cfg->db_path, &d->nodes, &why))
        return die(why.msg);
    core_call(app->core, observe_rule_calls, NULL); /* the observer is per thread */
    uv_signal_init(app->loop, &d->sig_hup);
    uv_signal_init(app->loop, &d->sig_term);
    uv_signal_init(app->loop, &d->sig_int);
    uv_timer_init(app->loop, &d->drain);
    d->sig_hup.data = d->sig_term.data = d->sig_int.data = d->drain.data = d;
    uv_signal_start(&d->sig_hup, on_hup, SIGHUP);
    uv_signal_start(&d->sig_term, on_stop, SIGTERM);
    uv_signal_start(&d->sig_int, on_stop, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    app_probe_start(app);
    uv_timer_init(app->loop, &d->watchdog);
    uint64_t watchdog_us = 0;
    if (sd_watchdog_enabled(0, &watchdog_us) > 0 && watchdog_us > 0)
        uv_timer_start(&d->watchdog, on_watchdog, watchdog_us / 2000, watchdog_us / 2000);
    sd_notifyf(0, "READY=1\nSTATUS=serving on %s:%d", cfg->host, http_port(app->http));
    char db_shown[512];
    db_target_shown(cfg->db_path, db_shown, sizeof db_shown);
    log_info("ltcd %s listening on %s:%d (db %s, rules %s, sync %s)", LTCD_VERSION, cfg->host,
             http_port(app->http), db_shown, cfg->rules_dir, cfg->sync_full ? "full" : "normal");
    warn_if_no_principals(d);
    uv_prepare_init(app->loop, &d->log_flush);
    uv_prepare_start(&d->log_flush, on_log_flush);
    log_set_buffered(true);
    uv_run(app->loop, UV_RUN_DEFAULT);
    nodes_stop(d->nodes);
    core_stop(app->core);
    app->core = NULL;
    log_set_buffered(false);
    const struct app_counters *k = &app->counters;
    log_info("served %llu requests; %llu writes in %llu commits (%.1f a commit, %.2f ms mean);"
             " %llu done again after a race",
             (unsigned long long)k->requests, (unsigned long long)k->batched_writes,
             (unsigned long long)k->commits,
             k->commits ? (double)k->batched_writes / (double)k->commits : 0.0,
             k->commits ? (double)k->commit_ns_total / (double)k->commits / 1e6 : 0.0,
             (unsigned long long)k->races);
    rules_close(app->rules);
    jobs_close(app->jobs);
    store_close(app->st);
    api_static_free();
    api_worklist_free();
    auth_set_free(app->auth);
    free_retired(d);
    uv_loop_close(app->loop);
    store_lock_close(d->lock);
    log_info("ltcd stopped");
    return 0;
}

/* ltcd --backup / --restore: one line on stdout naming the file, exit 0; or
 * one "ltcd: " line on stderr, exit 1. */
static int copy_db(const struct config *cfg)
{
    if (db_is_postgresql(cfg->db_path) || db_is_postgresql(cfg->copy_path))
        return die(POSTGRESQL_NO_BACKUP);
    struct store_copy_info info = {0};
    struct err_detail why = {0};
    if (cfg->mode == CONFIG_BACKUP) {
        if (store_backup(cfg->db_path, cfg->copy_path, &info, &why))
            return die(why.msg);
        printf("ltcd: backup of %s written to %s (schema %d, %lld instances, %.1f MiB)\n",
               cfg->db_path, cfg->copy_path, info.schema, (long long)info.instances,
               (double)info.bytes / (1024.0 * 1024.0));
        return 0;
    }
    ensure_parent_dir(cfg->db_path);
    if (store_restore(cfg->db_path, cfg->copy_path, &info, &why))
        return die(why.msg);
    printf("ltcd: %s restored from %s (schema %d, %lld instances)%s%s%s\n", cfg->db_path,
           cfg->copy_path, info.schema, (long long)info.instances,
           info.kept ? "; the previous database is kept as " : "", info.kept ? cfg->db_path : "",
           info.kept ? STORE_BEFORE_RESTORE : "");
    return 0;
}

/* ltcd --copy-db DEST --db SRC: one line on stdout, exit 0; or one "ltcd: "
 * line on stderr, exit 1 (DEST as it was). */
static int copy_whole_db(const struct config *cfg)
{
    struct store_copydb_info info = {0};
    struct err_detail why = {0};
    if (store_copydb(cfg->db_path, cfg->copy_path, &info, &why))
        return die(why.msg);
    char src[512], dest[512];
    db_target_shown(cfg->db_path, src, sizeof src);
    db_target_shown(cfg->copy_path, dest, sizeof dest);
    printf("ltcd: %s copied to %s (schema %d, %lld instances, %lld events, %lld rows in %d tables,"
           " verified; events hash %s; %.1f s)\n",
           src, dest, info.schema, (long long)info.instances, (long long)info.events,
           (long long)info.rows, info.tables, info.events_hash, info.seconds);
    return 0;
}

int main(int argc, char **argv)
{
    static struct daemon d;
    struct err_detail why = {0};
    if (config_parse(&d.cfg, argc, argv, &why))
        return die(why.msg);
    switch (d.cfg.mode) {
    case CONFIG_VERSION:
        printf("ltcd %s\n", LTCD_VERSION);
        return 0;
    case CONFIG_HELP:
        fputs(config_usage, stdout);
        return 0;
    case CONFIG_CHECK_RULES:
        log_init(LOG_TEXT, LOG_WARN);
        return rules_check_tree(d.cfg.rules_dir);
    case CONFIG_BACKUP:
    case CONFIG_RESTORE:
        return copy_db(&d.cfg);
    case CONFIG_COPY_DB:
        return copy_whole_db(&d.cfg);
    case CONFIG_RUN:
        break;
    }
    return run(&d);
}
