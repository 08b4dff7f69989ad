/* engine/config.h
 *
 * ltcd's command line, parsed into a struct config. Parsing does no I/O; it
 * only checks the syntax of each value. Strings in the struct point into argv
 * (borrowed for the life of the process) or to literals.
 */
#ifndef ENGINE_CONFIG_H
#define ENGINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

enum config_mode {
    CONFIG_RUN,         /* run the daemon */
    CONFIG_CHECK_RULES, /* --check-rules: validate the tree and exit */
    CONFIG_BACKUP,      /* --backup DEST: copy the database and exit */
    CONFIG_RESTORE,     /* --restore SRC: replace the database and exit */
    CONFIG_COPY_DB,     /* --copy-db DEST: copy the database (--db) to a new one and exit */
    CONFIG_VERSION,     /* --version */
    CONFIG_HELP,        /* --help */
};

struct config {
    enum config_mode mode;
    const char *listen;         /* "HOST:PORT" as given */
    char host[64];              /* parsed from listen */
    int port;                   /* parsed from listen; 0 lets the kernel choose */
    const char *db_path;        /* --db */
    const char *copy_path;      /* --backup DEST, --restore SRC or --copy-db DEST */
    const char *rules_dir;      /* --rules */
    const char *tokens_path;    /* --tokens, or NULL: every /v1 request is 401 */
    const char *hq_pubkey_path; /* --hq-pubkey: HQ bundles must be signed */
    const char *www_dir;        /* --www: the dashboard's files */
    bool auto_approve;          /* --auto-approve */
    bool watch;                 /* false with --no-watch */
    bool sync_full;             /* --sync full (default) or normal */
    bool log_json;              /* --log-format json */
    size_t body_max_bytes;      /* --max-body, default CONFIG_BODY_MAX_BYTES */
    unsigned idle_timeout_s;    /* --idle-timeout: idle kept-alive clients, slow readers */
    unsigned header_timeout_s;  /* --header-timeout: a request's whole head */
    unsigned body_timeout_s;    /* --body-timeout: a request's whole body */
    unsigned max_connections;   /* --max-connections */
};

#define CONFIG_BODY_MAX_BYTES   (1024 * 1024)
#define CONFIG_IDLE_TIMEOUT_S   30
#define CONFIG_HEADER_TIMEOUT_S 10
#define CONFIG_BODY_TIMEOUT_S   30
#define CONFIG_MAX_CONNECTIONS  1024

/* Fill 'cfg' with defaults, then apply argv. Returns 0 or -ERR_USAGE with a
 * one-line message in 'why'. */
int config_parse(struct config *cfg, int argc, char **argv, struct err_detail *why);

/* Split "HOST:PORT" into its parts. Returns 0 or -ERR_USAGE. */
int config_parse_listen(const char *s, char *host, size_t host_size, int *port,
                        struct err_detail *why);

extern const char config_usage[];

#endif
