/* engine/config.c: the flag table and its parser. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

const char config_usage[] =
    "usage: ltcd [--listen HOST:PORT] [--db PATH] [--rules DIR] [--tokens FILE]\n"
    "            [--auto-approve] [--no-watch] [--sync full|normal] [--log-format text|json]\n"
    "            [--max-body BYTES] [--idle-timeout SECONDS] [--max-connections N]\n"
    "            [--header-timeout SECONDS] [--body-timeout SECONDS]\n"
    "            [--www DIR] [--hq-pubkey FILE]\n"
    "       ltcd --check-rules [--rules DIR]\n"
    "       ltcd --backup DEST [--db PATH]\n"
    "       ltcd --restore SRC [--db PATH]\n"
    "       ltcd --copy-db DEST --db SRC\n"
    "       ltcd --version | --help\n"
    "\n"
    "  --listen HOST:PORT     address to serve HTTP on (default 127.0.0.1:8080)\n"
    "  --db PATH|URI          SQLite database file (default var/ltc.db), or a PostgreSQL\n"
    "                         URI postgresql://USER@HOST[:PORT]/DB that several nodes share\n"
    "  --rules DIR            rules tree: hq/, regions/ID/, offices/ID/ (default rules)\n"
    "  --tokens FILE          principals, one 'TOKEN UNIT ROLE' a line\n"
    "  --auto-approve         activate regional (L4) versions without HQ approval\n"
    "  --no-watch             do not watch the rules tree (SIGHUP still reloads)\n"
    "  --sync full|normal     full: commits survive power loss (default); normal: a crash\n"
    "  --log-format text|json one line per event on stderr\n"
    "  --max-body BYTES       request body limit (default 1048576)\n"
    "  --idle-timeout SECONDS drop kept-alive clients idle this long, and clients\n"
    "                         that do not read their answer (default 30)\n"
    "  --header-timeout SECONDS  a request's headers must arrive within this (default 10)\n"
    "  --body-timeout SECONDS    a request's body must arrive within this (default 30)\n"
    "  --max-connections N    concurrent connections; at the limit a new client evicts\n"
    "                         the slowest idle or unfinished one (default 1024)\n"
    "  --www DIR              the dashboard's files, served at / (default engine/www)\n"
    "  --hq-pubkey FILE       HQ's ed25519 public key (hex): HQ bundles must be signed\n"
    "  --check-rules          validate the rules tree and run its tests.lua: every error as\n"
    "                         file:line: message (exit 1), or \"ok: N owners, N files, N tests\"\n"
    "  --backup DEST          write a consistent copy of the database to DEST, also while\n"
    "                         a daemon serves it (atomic: DEST is whole or untouched)\n"
    "  --restore SRC          replace the database with SRC once SRC checks out; the daemon\n"
    "                         must be stopped; the old one is kept as PATH.before-restore\n"
    "  --copy-db DEST         copy the whole database (--db, SQLite or PostgreSQL, also while\n"
    "                         a daemon serves it) to the new database DEST (a path or a URI),\n"
    "                         verified by counts and hashes (README: Migrating from SQLite\n"
    "                         to PostgreSQL)\n"
    "\n"
    "Signals: SIGHUP reloads rules; SIGTERM and SIGINT stop gracefully.\n"
    "Exit codes: 0 clean stop, valid rules, or backup/restore/copy done; 1 start-up error,\n"
    "invalid rules, or a failed backup/restore/copy (one line says why).\n";

int config_parse_listen(const char *s, char *host, size_t host_size, int *port,
                        struct err_detail *why)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= host_size)
        return err_set(why, -ERR_USAGE, "--listen: expected HOST:PORT, got '%s'", s);
    int64_t p;
    if (num_parse("port", colon + 1, 0, 65535, &p, NULL))
        return err_set(why, -ERR_USAGE, "--listen: bad port in '%s'", s);
    /* "[::1]:8080": the brackets only delimit an IPv6 address. */
    size_t n = (size_t)(colon - s);
    if (n > 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    }
    memcpy(host, s, n);
    host[n] = '\0';
    unsigned char addr[16];
    if (strcmp(host, "localhost") && inet_pton(AF_INET, host, addr) != 1 &&
        inet_pton(AF_INET6, host, addr) != 1)
        return err_set(why, -ERR_USAGE, "--listen: '%s' is not a numeric IP address", host);
    *port = (int)p;
    return 0;
}

static int parse_uint(const char *flag, const char *v, unsigned long max, unsigned long *out,
                      struct err_detail *why)
{
    int64_t n = 0;
    *out = 0;
    if (num_parse(flag, v, 1, (int64_t)max, &n, NULL))
        return err_set(why, -ERR_USAGE, "%s: expected a number from 1 to %lu, got '%s'", flag, max,
                       v);
    *out = (unsigned long)n;
    return 0;
}

int config_parse(struct config *cfg, int argc, char **argv, struct err_detail *why)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->mode = CONFIG_RUN;
    cfg->listen = "127.0.0.1:8080";
    cfg->db_path = "var/ltc.db";
    cfg->rules_dir = "rules";
    cfg->www_dir = "engine/www";
    cfg->watch = true;
    cfg->sync_full = true;
    cfg->body_max_bytes = CONFIG_BODY_MAX_BYTES;
    cfg->idle_timeout_s = CONFIG_IDLE_TIMEOUT_S;
    cfg->header_timeout_s = CONFIG_HEADER_TIMEOUT_S;
    cfg->body_timeout_s = CONFIG_BODY_TIMEOUT_S;
    cfg->max_connections = CONFIG_MAX_CONNECTIONS;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long n;
        int rc;
#define NEED_VALUE                                                                                 \
    do {                                                                                           \
        if (!v)                                                                                    \
            return err_set(why, -ERR_USAGE, "%s needs a value", a);                                \
        i++;                                                                                       \
    } while (0)
        if (!strcmp(a, "--listen")) {
            NEED_VALUE;
            cfg->listen = v;
        } else if (!strcmp(a, "--db")) {
            NEED_VALUE;
            cfg->db_path = v;
        } else if (!strcmp(a, "--rules")) {
            NEED_VALUE;
            cfg->rules_dir = v;
        } else if (!strcmp(a, "--hq-pubkey")) {
            NEED_VALUE;
            cfg->hq_pubkey_path = v;
        } else if (!strcmp(a, "--www")) {
            NEED_VALUE;
            cfg->www_dir = v;
        } else if (!strcmp(a, "--tokens")) {
            NEED_VALUE;
            cfg->tokens_path = v;
        } else if (!strcmp(a, "--sync")) {
            NEED_VALUE;
            if (strcmp(v, "full") && strcmp(v, "normal"))
                return err_set(why, -ERR_USAGE, "--sync: expected full or normal, got '%s'", v);
            cfg->sync_full = !strcmp(v, "full");
        } else if (!strcmp(a, "--log-format")) {
            NEED_VALUE;
            if (strcmp(v, "text") && strcmp(v, "json"))
                return err_set(why, -ERR_USAGE, "--log-format: expected text or json, got '%s'", v);
            cfg->log_json = !strcmp(v, "json");
        } else if (!strcmp(a, "--max-body")) {
            NEED_VALUE;
            if ((rc = parse_uint(a, v, 64ul << 20, &n, why)))
                return rc;
            cfg->body_max_bytes = n;
        } else if (!strcmp(a, "--idle-timeout")) {
            NEED_VALUE;
            if ((rc = parse_uint(a, v, 3600, &n, why)))
                return rc;
            cfg->idle_timeout_s = (unsigned)n;
        } else if (!strcmp(a, "--header-timeout")) {
            NEED_VALUE;
            if ((rc = parse_uint(a, v, 3600, &n, why)))
                return rc;
            cfg->header_timeout_s = (unsigned)n;
        } else if (!strcmp(a, "--body-timeout")) {
            NEED_VALUE;
            if ((rc = parse_uint(a, v, 3600, &n, why)))
                return rc;
            cfg->body_timeout_s = (unsigned)n;
        } else if (!strcmp(a, "--max-connections")) {
            NEED_VALUE;
            if ((rc = parse_uint(a, v, 60000, &n, why)))
                return rc;
            cfg->max_connections = (unsigned)n;
        } else if (!strcmp(a, "--auto-approve")) {
            cfg->auto_approve = true;
        } else if (!strcmp(a, "--no-watch")) {
            cfg->watch = false;
        } else if (!strcmp(a, "--backup") || !strcmp(a, "--restore") || !strcmp(a, "--copy-db")) {
            NEED_VALUE;
            if (cfg->copy_path)
                return err_set(why, -ERR_USAGE,
                               "give one --backup, --restore or --copy-db at a time");
            cfg->mode = a[2] == 'b' ? CONFIG_BACKUP : a[2] == 'r' ? CONFIG_RESTORE : CONFIG_COPY_DB;
            cfg->copy_path = v;
        } else if (!strcmp(a, "--check-rules")) {
            cfg->mode = CONFIG_CHECK_RULES;
        } else if (!strcmp(a, "--version")) {
            cfg->mode = CONFIG_VERSION;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            cfg->mode = CONFIG_HELP;
        } else {
            return err_set(why, -ERR_USAGE, "unknown flag '%s' (see ltcd --help)", a);
        }
#undef NEED_VALUE
    }
    if (cfg->copy_path && cfg->mode == CONFIG_CHECK_RULES)
        return err_set(why, -ERR_USAGE,
                       "--check-rules does not go with --backup, --restore or --copy-db");
    return config_parse_listen(cfg->listen, cfg->host, sizeof cfg->host, &cfg->port, why);
}
