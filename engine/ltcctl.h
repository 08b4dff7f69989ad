/* engine/ltcctl.h: the internals of ltcctl, the command-line client of ltcd.
 *
 * ltcctl is a table of verbs (ltcctl.c: "lead create", "rules approve", ...),
 * each a usage line, a summary, its options and one function. The generic
 * parser (ltcctl_args.c) checks the arity and the options of a verb before
 * its function runs, so a function sees only well-formed words; the values
 * themselves are parsed strictly with cli_value.h, each refusal naming the
 * option. Adding a verb is one table entry plus its function.
 *
 * Files: ltcctl.c (verb table, help, main), ltcctl_args.c (options),
 * ltcctl_http.c (requests, errors, JSON output), ltcctl_print.c (shared
 * formatting: money, text cells), ltcctl_lead.c (instances and actions),
 * ltcctl_rules.c (rule versions on the daemon), ltcctl_bundle.c (local
 * bundles: push, sign, keygen, offline tests), ltcctl_shares.c (allocation
 * runs and targets), ltcctl_people.c (people and customers), ltcctl_review.c
 * (the review queue and meetings), ltcctl_activity.c (activities and weekly
 * scorecards), ltcctl_pipeline.c (the pipeline, process metrics, migration
 * to an HQ version).
 *
 * Exit codes: 0 success, 1 the daemon answered with an error (or a test
 * failed), 2 usage (a bad word or value, refused before anything is sent),
 * 3 the daemon is unreachable (or did not answer within a verb's --wait),
 * 4 done in part: `migrate` listed instances that the new version refuses, or
 * stopped at its per-request cap (nothing else uses 4).
 */
#ifndef ENGINE_LTCCTL_H
#define ENGINE_LTCCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LTCCTL_OK          0
#define LTCCTL_ERROR       1
#define LTCCTL_USAGE       2
#define LTCCTL_UNREACHABLE 3
#define LTCCTL_PARTIAL     4

#define LTCCTL_OPTS_MAX   16 /* options of one verb */
#define LTCCTL_REPEAT_MAX 64 /* values of one repeatable option (--signal) */
#define LTCCTL_POS_MAX    64 /* positional words of one verb (KEY=VALUE...) */

/* Global options: flags or LTC_URL / LTC_TOKEN. Borrowed from argv/environ. */
struct ltcctl {
    const char *url, *token;
    bool json; /* --json: the API's JSON as it came, for scripts */
};

/* One option of a verb: "--base" with an argument "V", or a flag (arg NULL). */
struct ltcctl_opt {
    const char *name; /* "--base" */
    const char *arg;  /* "V", or NULL for a flag */
    const char *help; /* one line */
    bool repeat;      /* may be given more than once (--signal) */
};

struct ltcctl_verb;
struct err_detail; /* err.h */

/* The words after the verb, split: positional words in order, and each
 * option's values by its index in the verb's option list. All borrowed from
 * argv. */
struct ltcctl_args {
    const struct ltcctl_verb *verb;
    int n_pos;
    char *pos[LTCCTL_POS_MAX];
    int count[LTCCTL_OPTS_MAX];
    const char *val[LTCCTL_OPTS_MAX][LTCCTL_REPEAT_MAX];
};

typedef int ltcctl_fn(const struct ltcctl *o, const struct ltcctl_args *a);

struct ltcctl_verb {
    const char *words;             /* "rules approve" */
    const char *usage;             /* "OWNER VERSION" */
    const char *summary;           /* one line or more, '\n' separated */
    int min_pos, max_pos;          /* positional words accepted */
    const struct ltcctl_opt *opts; /* NULL or { ..., {NULL} } */
    ltcctl_fn *fn;
    bool offline; /* does not talk to the daemon (keygen, rules sign) */
};

/* --- ltcctl_args.c ------------------------------------------------------ */

/* Split argv (the words after the verb) for 'v'. Global options (--json,
 * --url, --token) are taken anywhere and set in *o. On a bad word prints
 * what is wrong and the verb's usage on stderr and returns LTCCTL_USAGE;
 * for --help prints the verb's help on stdout and returns -1 (exit 0). */
int ltcctl_args_parse(const struct ltcctl_verb *v, int argc, char **argv, struct ltcctl *o,
                      struct ltcctl_args *a);

/* The last value of option 'name' (NULL when absent); every value of it. */
const char *ltcctl_opt(const struct ltcctl_args *a, const char *name);
int ltcctl_opt_all(const struct ltcctl_args *a, const char *name, const char *const **vals);

/* Print "ltcctl: MSG" and "usage: ltcctl VERB USAGE" on stderr; returns
 * LTCCTL_USAGE so callers can `return ltcctl_usage(...)`. */
int ltcctl_usage(const struct ltcctl_verb *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A positional or option value checked by cli_value.h: 0, or LTCCTL_USAGE
 * after printing the refusal. */
int ltcctl_int(const struct ltcctl_verb *v, const char *what, const char *s, int64_t min,
               int64_t max, int64_t *out);
/* Money from a fen option/word or its yuan twin (either may be NULL, not
 * both given): 0 with *out and *given set, or LTCCTL_USAGE. */
int ltcctl_money(const struct ltcctl_verb *v, const char *fen_name, const char *fen,
                 const char *yuan_name, const char *yuan, int64_t *out, bool *given);

/* ltcctl_money with amounts up to 'max' fen (a credit limit: RECORDS_MONEY_MAX). */
int ltcctl_money_upto(const struct ltcctl_verb *v, const char *fen_name, const char *fen,
                      const char *yuan_name, const char *yuan, int64_t max, int64_t *out,
                      bool *given);
/* The refusal of a cli_value.h check: 0 when rc is 0, else LTCCTL_USAGE after
 * printing why->msg, e.g. `if (ltcctl_refuse(v, cli_id("--office", s, &why), &why))`. */
int ltcctl_refuse(const struct ltcctl_verb *v, int rc, const struct err_detail *why);

/* Help: every verb, or one verb with its options. */
void ltcctl_help_all(FILE *f);
void ltcctl_help_verb(FILE *f, const struct ltcctl_verb *v);

/* --- ltcctl_http.c ------------------------------------------------------ */

struct ltcctl_buf {
    char *p; /* owned, NUL-terminated, NULL when empty */
    size_t n;
};
void ltcctl_buf_add(struct ltcctl_buf *b, const char *p, size_t n);

/* One request; returns the HTTP status (0: unreachable, reported on stderr)
 * and the body in *out (the caller frees out->p). */
long ltcctl_request(const struct ltcctl *o, const char *method, const char *path, const char *body,
                    size_t len, const char *ctype, struct ltcctl_buf *out);

/* How long one request may take, connection to last byte. */
#define LTCCTL_TIMEOUT_MS 60000L

/* GET 'path' within 'timeout_ms': the status, or 0 when there was no answer:
 * *timed_out true when the bound was reached (nothing printed: the caller
 * says what it waited for), else the daemon is unreachable (reported on
 * stderr). The caller frees out->p. */
long ltcctl_request_within(const struct ltcctl *o, const char *path, long timeout_ms,
                           struct ltcctl_buf *out, bool *timed_out);

/* Print an answer and return the exit code: with --json the body as it came;
 * an error as "ltcctl: STATUS CODE: MESSAGE" on stderr; else pretty(body).
 * Frees b->p. */
typedef void ltcctl_print_fn(const json_t *body);
int ltcctl_finish(const struct ltcctl *o, long status, struct ltcctl_buf *b,
                  ltcctl_print_fn *pretty);

/* GET/POST/PUT of a JSON body (NULL: none), then ltcctl_finish. 'body' is
 * borrowed. */
int ltcctl_call(const struct ltcctl *o, const char *method, const char *path, const json_t *body,
                ltcctl_print_fn *pretty);

/* Append "?key=val" or "&key=val" to the path in buf (n bytes); 'val' goes
 * in as it is, so it must be checked first (ids, units, dates, numbers: no
 * character that needs escaping). Returns false when it does not fit. */
bool ltcctl_query_add(char *buf, size_t n, const char *key, const char *val);

/* The whole of a file (or stdin for "-") of at most 'max' bytes, in a new
 * NUL-terminated buffer the caller frees; NULL (and *len the size read so far
 * when over 'max', 0 when unreadable) otherwise. */
char *ltcctl_read_file(const char *path, size_t max, size_t *len);
/* What a rule source or a request body read from a file may be: far more than
 * the daemon takes, which then answers with its own limit. */
#define LTCCTL_FILE_MAX ((size_t)64 << 20)

/* GET 'path' as JSON: 0 and *body (a new reference), or the exit code
 * after printing the error. */
int ltcctl_get_json(const struct ltcctl *o, const char *path, json_t **body);

/* --- ltcctl_print.c ----------------------------------------------------- */

/* A member as text ("-" when absent or not a string); borrowed from 'o'. */
const char *ltcctl_str(const json_t *o, const char *k);
long long ltcctl_int_of(const json_t *o, const char *k);
/* A member holding fen as "1,200,000.00 CNY" (currency from 'cur', default
 * CNY) into buf; "-" when absent. */
const char *ltcctl_money_of(const json_t *o, const char *k, const char *cur, char *buf, size_t n);
/* A JSON scalar as text (strings bare, numbers as JSON writes them). */
void ltcctl_scalar(const json_t *v, char *buf, size_t n);
/* A percentage (a JSON number) as "15%" or "12.5%"; "-" when absent. */
const char *ltcctl_pct_of(const json_t *o, const char *k, char *buf, size_t n);
/* "hq@1 office/province-a@1" from { OWNER: VERSION }. */
void ltcctl_rules_text(const json_t *rules, char *buf, size_t n);

/* A table whose columns are aligned to their widest cell, printed once all
 * rows are in: 'align' has one letter a column, 'l' or 'r' (numbers, money),
 * borrowed; cells are copied (NULL prints "-"). ltcctl_table_print frees the
 * rows, so the table can be filled again. */
#define LTCCTL_TABLE_COLS 12
struct ltcctl_table {
    int n_cols;        /* 1..LTCCTL_TABLE_COLS */
    const char *align; /* "lrr": borrowed */
    size_t n_rows, cap;
    char **cells; /* owned: n_rows x n_cols strings */
};
void ltcctl_table_row(struct ltcctl_table *t, const char *const *cells);
void ltcctl_table_print(struct ltcctl_table *t, FILE *f);

/* A fixed-width table cell: 's' (valid UTF-8, as JSON gives it; NULL prints
 * "-") cut on a character boundary to at most 'cols' terminal columns, East
 * Asian wide characters taking two, and padded with spaces to exactly
 * 'cols'. Written into out (n bytes: 4 * cols + 1 hold any text) and
 * returned, for printf's "%s" where "%-N.Ns" would cut a character. */
#define LTCCTL_CELL_SIZE(cols) (4 * (cols) + 1)
const char *ltcctl_cell(const char *s, int cols, char *out, size_t n);

/* Colour for diffs and versions: only on a terminal, never with NO_COLOR. */
extern int ltcctl_colour;
#define C_RED   "\033[31m"
#define C_GREEN "\033[32m"
#define C_CYAN  "\033[36m"
#define C_BOLD  "\033[1m"
#define C_OFF   "\033[0m"

/* --- verbs (one function each; see the table in ltcctl.c) -------------- */

ltcctl_fn ltcctl_health;
ltcctl_fn ltcctl_lead_create, ltcctl_lead_show, ltcctl_lead_list, ltcctl_events;
ltcctl_fn ltcctl_action, ltcctl_act, ltcctl_document, ltcctl_receivables;
ltcctl_fn ltcctl_rules_status, ltcctl_rules_put, ltcctl_rules_rm, ltcctl_rules_approve;
ltcctl_fn ltcctl_rules_reject, ltcctl_rules_versions, ltcctl_rules_show, ltcctl_rules_diff;
ltcctl_fn ltcctl_rules_reload, ltcctl_rules_simulate, ltcctl_rules_shadow, ltcctl_rules_rollback;
ltcctl_fn ltcctl_rules_events;
ltcctl_fn ltcctl_rules_push, ltcctl_rules_sign, ltcctl_rules_test, ltcctl_keygen;
ltcctl_fn ltcctl_shares_run, ltcctl_shares_show, ltcctl_targets_set, ltcctl_targets_show;
ltcctl_fn ltcctl_assign_owner;
ltcctl_fn ltcctl_people_list, ltcctl_people_show, ltcctl_people_put, ltcctl_people_deactivate;
ltcctl_fn ltcctl_customers_list, ltcctl_customers_show, ltcctl_customers_put;
ltcctl_fn ltcctl_queue, ltcctl_meeting, ltcctl_meeting_show;
ltcctl_fn ltcctl_activity_add, ltcctl_activities, ltcctl_scorecard;
ltcctl_fn ltcctl_pipeline, ltcctl_metrics, ltcctl_migrate;

/* The keys an action takes, with their types, for its --help (ltcctl_lead.c). */
void ltcctl_action_help(FILE *f, const char *action);

/* The verb table (ltcctl.c), ending with a NULL 'words'. */
extern const struct ltcctl_verb ltcctl_verbs[];

#endif
