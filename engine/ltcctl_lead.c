/* engine/ltcctl_lead.c: leads, instances, their actions and audit trail (see ltcctl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_value.h"
#include "lead.h"
#include "ltcctl.h"
#include "money.h"

#define ID_MAX ((int64_t)1 << 53) /* instance ids: exact in any JSON reader */

/* --- printers ------------------------------------------------------------ */

static void print_instance(const json_t *i)
{
    const json_t *ev = json_object_get(i, "evaluation");
    char m[MONEY_TEXT_MAX];
    printf("instance %lld  stage %s  office %s (region %s)\n", ltcctl_int_of(i, "id"),
           ltcctl_str(i, "stage"), ltcctl_str(i, "office"), ltcctl_str(i, "region"));
    printf("  customer   %s\n  title      %s\n  source     %s\n", ltcctl_str(i, "customer"),
           ltcctl_str(i, "title"), ltcctl_str(i, "source"));
    const json_t *b = json_object_get(i, "budget");
    printf("  budget     %s (%s), decision in %lld months\n",
           ltcctl_money_of(b, "amount", json_string_value(json_object_get(b, "currency")), m,
                           sizeof m),
           ltcctl_str(b, "status"), ltcctl_int_of(i, "horizon_months"));
    printf("  evaluation score %.1f, %s, %s -> %s\n",
           json_number_value(json_object_get(ev, "score")), ltcctl_str(ev, "temperature"),
           ltcctl_str(ev, "maturity"), ltcctl_str(ev, "recommendation"));
    size_t k;
    json_t *r;
    json_array_foreach(json_object_get(ev, "reasons"), k, r)
        printf("             - %s\n", json_string_value(r));
    char rules[512];
    ltcctl_rules_text(json_object_get(ev, "rules"), rules, sizeof rules);
    printf("  rules      %s (process pinned to hq@%lld)\n", rules,
           ltcctl_int_of(json_object_get(i, "rules"), "hq"));
    const json_t *asg = json_object_get(i, "assignment");
    if (json_object_get(i, "owner"))
        printf("  owner      %s%s%s%s\n",
               json_is_string(json_object_get(i, "owner")) ? ltcctl_str(i, "owner")
                                                           : "none (no active account manager)",
               json_is_string(json_object_get(asg, "by")) ? " (assigned by " : "",
               json_is_string(json_object_get(asg, "by")) ? ltcctl_str(asg, "by") : "",
               json_is_string(json_object_get(asg, "by")) ? ")" : "");
    const json_t *team = json_object_get(i, "team");
    if (json_object_size(team))
        printf("  team       AR %s, SR %s, FR %s\n", ltcctl_str(team, "ar"), ltcctl_str(team, "sr"),
               ltcctl_str(team, "fr"));
    const char *kdp;
    json_t *g;
    json_object_foreach(json_object_get(i, "gates"), kdp, g)
    {
        char v[MONEY_TEXT_MAX];
        ltcctl_money_of(g, "value", NULL, v, sizeof v);
        printf("  gate %-5s %s at %s level by %s (%s)\n", kdp, ltcctl_str(g, "outcome"),
               ltcctl_str(g, "level"), ltcctl_str(g, "decided_by"), v);
    }
    const json_t *c = json_object_get(i, "contract");
    if (json_is_object(c))
        printf("  contract   %s signed %s, net %lld days\n",
               ltcctl_money_of(c, "value", json_string_value(json_object_get(c, "currency")), m,
                               sizeof m),
               ltcctl_str(c, "signed_at"), ltcctl_int_of(c, "net_days"));
    json_array_foreach(json_object_get(i, "milestones"), k, r) printf(
        "  %-10s %-10s %-10s %24s  %s\n", k ? "" : "milestones", ltcctl_str(r, "kind"),
        ltcctl_str(r, "ref"), ltcctl_money_of(r, "amount", NULL, m, sizeof m), ltcctl_str(r, "at"));
    const json_t *cl = json_object_get(i, "closure");
    if (json_is_object(cl))
        printf("  closed     %s: %s\n", ltcctl_str(cl, "outcome"), ltcctl_str(cl, "reason"));
    if (json_is_integer(json_object_get(cl, "dso")))
        printf("  DSO        %lld days\n", ltcctl_int_of(cl, "dso"));
    size_t n_actions = json_array_size(json_object_get(i, "actions"));
    if (n_actions) {
        const json_t *last = json_array_get(json_object_get(i, "actions"), n_actions - 1);
        printf("  to do      %zu regional action(s); latest: [%s] %s (due %s)\n", n_actions,
               ltcctl_str(last, "role"), ltcctl_str(last, "action"), ltcctl_str(last, "due"));
    }
}

static void print_list(const json_t *body)
{
    size_t i;
    json_t *x;
    printf("%-6s %-12s %-12s %-12s %-22s %-26s %22s %5s %-5s %-6s %s\n", "ID", "STAGE", "OFFICE",
           "OWNER", "CUSTOMER", "TITLE", "BUDGET", "SCORE", "TEMP", "MATURE", "RECOMMEND");
    json_array_foreach(json_object_get(body, "instances"), i, x)
    {
        const json_t *ev = json_object_get(x, "evaluation");
        char m[MONEY_TEXT_MAX], cust[LTCCTL_CELL_SIZE(22)], title[LTCCTL_CELL_SIZE(26)];
        printf("%-6lld %-12s %-12s %-12s %s %s %22s %5.1f %-5s %-6s %s\n", ltcctl_int_of(x, "id"),
               ltcctl_str(x, "stage"), ltcctl_str(x, "office"), ltcctl_str(x, "owner"),
               ltcctl_cell(ltcctl_str(x, "customer"), 22, cust, sizeof cust),
               ltcctl_cell(ltcctl_str(x, "title"), 26, title, sizeof title),
               ltcctl_money_of(json_object_get(x, "budget"), "amount", NULL, m, sizeof m),
               json_number_value(json_object_get(ev, "score")), ltcctl_str(ev, "temperature"),
               ltcctl_str(ev, "maturity"), ltcctl_str(ev, "recommendation"));
    }
    size_t n = json_array_size(json_object_get(body, "instances"));
    const json_t *next = json_object_get(body, "next");
    if (json_is_integer(next))
        printf("(%zu shown; more: --after %lld)\n", n, (long long)json_integer_value(next));
    else
        printf("(%zu instance%s)\n", n, n == 1 ? "" : "s");
}

/* What an event did, in words, from its action and outcome. */
static void event_outcome(const json_t *e, char *buf, size_t n)
{
    const char *action = ltcctl_str(e, "action");
    const json_t *oc = json_object_get(e, "outcome");
    char a[MONEY_TEXT_MAX], d[16], mg[16];
    if (!strcmp(action, "create") || !strcmp(action, "reevaluate")) {
        snprintf(buf, n, "score %.1f, %s, %s -> %s",
                 json_number_value(json_object_get(oc, "score")), ltcctl_str(oc, "temperature"),
                 ltcctl_str(oc, "maturity"), ltcctl_str(oc, "recommendation"));
    } else if (!strcmp(action, "assign_owner")) {
        snprintf(buf, n, "owner %s (was %s)", ltcctl_str(oc, "owner"), ltcctl_str(oc, "previous"));
    } else if (!strcmp(action, "review")) {
        const json_t *meeting = json_object_get(json_object_get(e, "payload"), "meeting");
        char in[40] = "";
        if (json_is_integer(meeting))
            snprintf(in, sizeof in, " (meeting %lld)", (long long)json_integer_value(meeting));
        snprintf(buf, n, "%s%s%s%s", ltcctl_str(oc, "decision"), in,
                 json_is_string(json_object_get(oc, "note")) ? ": " : "",
                 json_is_string(json_object_get(oc, "note")) ? ltcctl_str(oc, "note") : "");
    } else if (!strcmp(action, "assign")) {
        const json_t *t = json_object_get(oc, "team");
        snprintf(buf, n, "AR %s, SR %s, FR %s", ltcctl_str(t, "ar"), ltcctl_str(t, "sr"),
                 ltcctl_str(t, "fr"));
    } else if (!strcmp(action, "decide")) {
        snprintf(buf, n, "%s %s at %s level (%s, discount %s, margin %s)", ltcctl_str(oc, "kdp"),
                 ltcctl_str(oc, "outcome"), ltcctl_str(oc, "level"),
                 ltcctl_money_of(oc, "value", NULL, a, sizeof a),
                 ltcctl_pct_of(oc, "discount", d, sizeof d),
                 ltcctl_pct_of(oc, "margin", mg, sizeof mg));
    } else if (!strcmp(action, "sign")) {
        const json_t *c =
            json_is_object(json_object_get(oc, "contract")) ? json_object_get(oc, "contract") : oc;
        snprintf(buf, n, "contract %s, net %lld days",
                 ltcctl_money_of(c, "value", NULL, a, sizeof a), ltcctl_int_of(c, "net_days"));
    } else if (!strcmp(action, "milestone")) {
        const json_t *m = json_object_get(oc, "milestone");
        snprintf(buf, n, "%s %s %s", ltcctl_str(m, "kind"), ltcctl_str(m, "ref"),
                 ltcctl_money_of(m, "amount", NULL, a, sizeof a));
    } else if (!strcmp(action, "close")) {
        snprintf(buf, n, "%s: %s", ltcctl_str(oc, "outcome"), ltcctl_str(oc, "reason"));
        if (json_is_integer(json_object_get(oc, "dso")))
            snprintf(buf + strlen(buf), n - strlen(buf), " (DSO %lld days)",
                     ltcctl_int_of(oc, "dso"));
    } else if (!strcmp(action, "update")) {
        const json_t *v = json_object_get(oc, "value");
        snprintf(buf, n, "expected close %s, value %s",
                 json_is_string(json_object_get(oc, "expected_close"))
                     ? ltcctl_str(oc, "expected_close")
                     : "-",
                 json_is_integer(v) ? ltcctl_money_of(oc, "value", NULL, a, sizeof a) : "-");
    } else if (!strcmp(action, "migrate")) {
        snprintf(buf, n, "hq v%lld -> hq v%lld", ltcctl_int_of(oc, "from_hq"),
                 ltcctl_int_of(oc, "to_hq"));
    } else {
        char *t = json_dumps(oc, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(buf, n, "%.100s", t ? t : "-");
        free(t);
    }
    /* An action recorded as a correction of an earlier date says so. */
    if (json_is_true(json_object_get(oc, "correction")) && strlen(buf) + 14 < n)
        strcat(buf, " (correction)");
}

/* The business date of an event: the date the user gave (at=), the one the
 * rules recorded, else the day it was recorded. */
static void event_date(const json_t *e, char *buf, size_t n)
{
    const char *at = json_string_value(json_object_get(json_object_get(e, "payload"), "at"));
    if (!at)
        at = json_string_value(json_object_get(json_object_get(e, "outcome"), "at"));
    if (at)
        snprintf(buf, n, "%.10s", at);
    else
        snprintf(buf, n, "%.10s", ltcctl_str(e, "at"));
}

static void print_events(const json_t *body)
{
    size_t i;
    json_t *e;
    /* Columns as wide as their widest cell: outcomes vary from a word to a
     * decision with its terms, and the recording time stays aligned. */
    struct ltcctl_table t = {.n_cols = 6, .align = "llllll"};
    ltcctl_table_row(
        &t, (const char *const[]){"SEQ", "DATE", "ACTION", "ACTOR", "OUTCOME", "RECORDED"});
    json_array_foreach(json_object_get(body, "events"), i, e)
    {
        char seq[24], date[16], oc[256];
        snprintf(seq, sizeof seq, "%lld", ltcctl_int_of(e, "seq"));
        event_date(e, date, sizeof date);
        event_outcome(e, oc, sizeof oc);
        ltcctl_table_row(&t,
                         (const char *const[]){seq, date, ltcctl_str(e, "action"),
                                               ltcctl_str(e, "actor"), oc, ltcctl_str(e, "at")});
    }
    ltcctl_table_print(&t, stdout);
}

static void print_receivables(const json_t *r)
{
    char inv[MONEY_TEXT_MAX], paid[MONEY_TEXT_MAX], over[MONEY_TEXT_MAX];
    printf("as of %s: invoiced %s, paid %s, overdue %s\n", ltcctl_str(r, "as_of"),
           ltcctl_money_of(r, "invoiced", NULL, inv, sizeof inv),
           ltcctl_money_of(r, "paid", NULL, paid, sizeof paid),
           ltcctl_money_of(r, "overdue_amount", NULL, over, sizeof over));
    size_t k;
    json_t *o;
    json_array_foreach(json_object_get(r, "overdue"), k, o)
    {
        char a[MONEY_TEXT_MAX];
        printf("  %-10s %24s due %s, %lld days late -> %s\n", ltcctl_str(o, "ref"),
               ltcctl_money_of(o, "amount", NULL, a, sizeof a), ltcctl_str(o, "due"),
               ltcctl_int_of(o, "days"), ltcctl_str(o, "escalate_to"));
    }
}

static void pretty_health(const json_t *b)
{
    printf("ltcd %s: %s (schema %lld)\n", ltcctl_str(b, "version"), ltcctl_str(b, "status"),
           ltcctl_int_of(b, "schema"));
    if (json_object_get(b, "reason"))
        printf("  since %s: %s\n", ltcctl_str(b, "since"), ltcctl_str(b, "reason"));
}

/* --- verbs --------------------------------------------------------------- */

int ltcctl_health(const struct ltcctl *o, const struct ltcctl_args *a)
{
    (void)a;
    return ltcctl_call(o, "GET", "/health", NULL, pretty_health);
}

/* An instance ID word: a whole number from 1. */
static int instance_id(const struct ltcctl_args *a, const char *s, long long *id)
{
    int64_t v;
    int rc = ltcctl_int(a->verb, "ID", s, 1, ID_MAX, &v);
    *id = (long long)v;
    return rc;
}

/* The lead body of the options: only what was given, so that the office's
 * defaults (tools.lua) fill the rest; the budget status defaults to none. */
static int lead_body(const struct ltcctl_args *a, json_t **out)
{
    const struct ltcctl_verb *v = a->verb;
    static const char *const required[] = {"--office", "--customer", "--title", NULL};
    for (const char *const *r = required; *r; r++)
        if (!ltcctl_opt(a, *r))
            return ltcctl_usage(v, "missing %s (or give a JSON body: lead create FILE|-)", *r);
    int64_t fen = 0, horizon = 0;
    bool given;
    if (ltcctl_money(v, "--amount", ltcctl_opt(a, "--amount"), "--yuan", ltcctl_opt(a, "--yuan"),
                     &fen, &given))
        return LTCCTL_USAGE;
    if (!given)
        return ltcctl_usage(v, "missing the budget: --amount FEN (120000000 is 1,200,000.00 CNY) "
                               "or --yuan YUAN");
    const char *h = ltcctl_opt(a, "--horizon");
    if (h && ltcctl_int(v, "--horizon", h, 0, LEAD_HORIZON_MAX, &horizon))
        return LTCCTL_USAGE;
    json_t *j = json_object();
    static const char *const text[] = {"--office", "--customer", "--title", "--source", NULL};
    for (const char *const *t = text; *t; t++)
        if (ltcctl_opt(a, *t))
            json_object_set_new(j, *t + 2, json_string(ltcctl_opt(a, *t)));
    const char *status = ltcctl_opt(a, "--budget");
    json_t *budget =
        json_pack("{s:I, s:s}", "amount", (json_int_t)fen, "status", status ? status : "none");
    if (ltcctl_opt(a, "--currency"))
        json_object_set_new(budget, "currency", json_string(ltcctl_opt(a, "--currency")));
    json_object_set_new(j, "budget", budget);
    if (h)
        json_object_set_new(j, "horizon_months", json_integer(horizon));
    const char *const *sig;
    int n = ltcctl_opt_all(a, "--signal", &sig);
    if (n) {
        json_t *signals = json_object();
        for (int k = 0; k < n; k++) {
            char name[64];
            int64_t val;
            struct err_detail why = {0};
            if (cli_signal("--signal", sig[k], name, &val, &why)) {
                json_decref(signals);
                json_decref(j);
                return ltcctl_usage(v, "%s", why.msg);
            }
            if (json_object_get(signals, name)) {
                json_decref(signals);
                json_decref(j);
                return ltcctl_usage(v, "--signal %s given twice", name);
            }
            json_object_set_new(signals, name, json_integer(val));
        }
        json_object_set_new(j, "signals", signals);
    }
    *out = j;
    return 0;
}

int ltcctl_lead_create(const struct ltcctl *o, const struct ltcctl_args *a)
{
    char *body = NULL;
    size_t len = 0;
    if (a->n_pos == 1) {
        /* A JSON body, sent as written: the API checks every field. */
        for (int k = 0; k < LTCCTL_OPTS_MAX; k++)
            if (a->count[k])
                return ltcctl_usage(a->verb, "give a JSON body or options, not both");
        if (!(body = ltcctl_read_file(a->pos[0], LTCCTL_FILE_MAX, &len))) {
            fprintf(stderr, "ltcctl: lead create: cannot read %s\n", a->pos[0]);
            return LTCCTL_USAGE;
        }
    } else {
        json_t *j = NULL;
        int rc = lead_body(a, &j);
        if (rc)
            return rc;
        body = json_dumps(j, JSON_COMPACT);
        len = strlen(body);
        json_decref(j);
    }
    struct ltcctl_buf b = {0};
    long st = ltcctl_request(o, "POST", "/v1/leads", body, len, NULL, &b);
    free(body);
    return ltcctl_finish(o, st, &b, print_instance);
}

int ltcctl_lead_show(const struct ltcctl *o, const struct ltcctl_args *a)
{
    long long id;
    if (instance_id(a, a->pos[0], &id))
        return LTCCTL_USAGE;
    char path[64];
    snprintf(path, sizeof path, "/v1/instances/%lld", id);
    return ltcctl_call(o, "GET", path, NULL, print_instance);
}

int ltcctl_lead_list(const struct ltcctl *o, const struct ltcctl_args *a)
{
    char path[1024];
    size_t off = (size_t)snprintf(path, sizeof path, "/v1/instances");
    int64_t n;
    const char *limit = ltcctl_opt(a, "--limit"), *after = ltcctl_opt(a, "--after");
    if ((limit && ltcctl_int(a->verb, "--limit", limit, 1, 500, &n)) ||
        (after && ltcctl_int(a->verb, "--after", after, 0, ID_MAX, &n)))
        return LTCCTL_USAGE;
    static const char *const filters[] = {"--stage", "--office", "--region", "--temperature",
                                          "--owner", "--limit",  "--after",  NULL};
    for (const char *const *f = filters; *f; f++) {
        const char *v = ltcctl_opt(a, *f);
        if (!v)
            continue;
        /* Filters are IDs: anything else is refused here, not escaped. */
        if (!lead_valid_id(v))
            return ltcctl_usage(a->verb, "%s: '%.40s' is not an ID [a-z0-9_-]", *f, v);
        off += (size_t)snprintf(path + off, sizeof path - off, "%c%s=%s",
                                strchr(path, '?') ? '&' : '?', *f + 2, v);
    }
    return ltcctl_call(o, "GET", path, NULL, print_list);
}

int ltcctl_events(const struct ltcctl *o, const struct ltcctl_args *a)
{
    long long id;
    if (instance_id(a, a->pos[0], &id))
        return LTCCTL_USAGE;
    char path[64];
    snprintf(path, sizeof path, "/v1/instances/%lld/events", id);
    return ltcctl_call(o, "GET", path, NULL, print_events);
}

/* --- actions: KEY=VALUE arguments, typed per action ----------------------- */

enum key_type { K_TEXT, K_FEN, K_INT, K_PCT, K_DATE, K_BOOL, K_JSON };

struct action_key {
    const char *action; /* NULL: every action */
    const char *key;
    enum key_type type;
};

/* The keys each action takes (CONTRACT section 5) and how their values are
 * read; a money key also takes KEY_yuan=YUAN. Action NULL: every action;
 * "*": every action of HQ's process.lua (not the engine's own reevaluate). */
static const struct action_key action_keys[] = {
    {NULL, "at", K_DATE},
    /* KCP dates_in_order: an action dated before the instance's last
     * business date is recorded only when it says it is a correction. */
    {"*", "correction", K_BOOL},
    {"review", "decision", K_TEXT},
    {"review", "note", K_TEXT},
    {"review", "next_review", K_DATE},
    {"review", "owner", K_TEXT},
    {"assign", "ar", K_TEXT},
    {"assign", "sr", K_TEXT},
    {"assign", "fr", K_TEXT},
    {"decide", "kdp", K_TEXT},
    {"decide", "outcome", K_TEXT},
    {"decide", "value", K_FEN},
    {"decide", "discount", K_PCT},
    {"decide", "margin", K_PCT},
    {"decide", "conditions", K_JSON},
    {"decide", "change", K_JSON}, /* ATAC: { "amount": FEN } */
    {"sign", "value", K_FEN},
    {"sign", "currency", K_TEXT},
    {"sign", "terms", K_JSON},
    {"sign", "net_days", K_INT},
    {"milestone", "kind", K_TEXT},
    {"milestone", "amount", K_FEN},
    {"milestone", "ref", K_TEXT},
    {"close", "reason", K_TEXT},
};
#define N_ACTION_KEYS (sizeof action_keys / sizeof *action_keys)

/* True when key 'k' is one of the keys 'action' takes. */
static bool applies(const struct action_key *k, const char *action)
{
    if (!k->action)
        return true;
    if (!strcmp(k->action, "*"))
        return strcmp(action, "reevaluate") != 0;
    return !strcmp(k->action, action);
}

/* True when 'k' is a key of many actions (listed after an action's own). */
static bool common(const struct action_key *k)
{
    return !k->action || !strcmp(k->action, "*");
}

static bool known_action(const char *action)
{
    if (!strcmp(action, "reevaluate"))
        return true;
    for (size_t i = 0; i < N_ACTION_KEYS; i++)
        if (!common(&action_keys[i]) && !strcmp(action_keys[i].action, action))
            return true;
    return false;
}

static const struct action_key *find_key(const char *action, const char *key)
{
    for (size_t i = 0; i < N_ACTION_KEYS; i++)
        if (applies(&action_keys[i], action) && !strcmp(action_keys[i].key, key))
            return &action_keys[i];
    return NULL;
}

/* "decision, note, at" */
static void keys_of(const char *action, char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < N_ACTION_KEYS && off < n; i++) {
            const struct action_key *k = &action_keys[i];
            if (!applies(k, action) || common(k) != (pass == 1))
                continue;
            off += (size_t)snprintf(buf + off, n - off, "%s%s%s%s%s", off ? ", " : "", k->key,
                                    k->type == K_FEN ? " (or " : "", k->type == K_FEN ? k->key : "",
                                    k->type == K_FEN ? "_yuan)" : "");
        }
}

void ltcctl_action_help(FILE *f, const char *action)
{
    static const char *const types[] = {
        [K_TEXT] = "text",
        [K_FEN] = "money in fen, a whole number (or KEY_yuan=YUAN, at most two decimals)",
        [K_INT] = "a whole number of days, 0..3650",
        [K_PCT] = "a percentage, -100..100, at most four decimals",
        [K_DATE] = "a date, YYYY-MM-DD",
        [K_BOOL] = "true or false (correction=true: dated before the last business date)",
        [K_JSON] = "JSON (a list or an object)",
    };
    fprintf(f, "\nkeys (KEY=VALUE):\n");
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < N_ACTION_KEYS; i++) {
            const struct action_key *k = &action_keys[i];
            if (!applies(k, action) || common(k) != (pass == 1))
                continue;
            fprintf(f, "  %-22s %s\n", k->key, types[k->type]);
        }
}

/* One KEY=VALUE into 'body'; LTCCTL_USAGE after printing a refusal. */
static int action_value(const struct ltcctl_verb *v, const char *action, const char *word,
                        json_t *body)
{
    char key[64], fen_key[64];
    const char *val;
    struct err_detail why = {0};
    if (cli_key_value(word, key, &val, &why))
        return ltcctl_usage(v, "%s", why.msg);
    bool yuan = false;
    size_t kl = strlen(key);
    snprintf(fen_key, sizeof fen_key, "%s", key);
    if (kl > 5 && !strcmp(key + kl - 5, "_yuan")) {
        fen_key[kl - 5] = '\0';
        yuan = true;
    }
    const struct action_key *k = find_key(action, fen_key);
    if (yuan && (!k || k->type != K_FEN))
        k = NULL;
    if (!k && known_action(action)) {
        char keys[512];
        keys_of(action, keys, sizeof keys);
        return ltcctl_usage(v, "%s takes no key '%s'; its keys: %s", action, key, keys);
    }
    if (json_object_get(body, fen_key))
        return ltcctl_usage(v, "%s given twice", fen_key);
    json_t *j = NULL;
    int64_t n;
    double d;
    bool whole;
    switch (k ? k->type : K_JSON) {
    case K_TEXT:
        j = json_string(val);
        break;
    case K_FEN: {
        char twin[80];
        snprintf(twin, sizeof twin, "%s_yuan", fen_key);
        if (yuan ? cli_yuan(key, val, 0, MONEY_MAX, &n, &why)
                 : cli_fen(key, val, 0, MONEY_MAX, twin, &n, &why))
            return ltcctl_usage(v, "%s", why.msg);
        j = json_integer(n);
        break;
    }
    case K_INT:
        if (cli_int(key, val, 0, 3650, &n, &why))
            return ltcctl_usage(v, "%s", why.msg);
        j = json_integer(n);
        break;
    case K_PCT:
        if (cli_percent(key, val, -100, 100, &d, &whole, &why))
            return ltcctl_usage(v, "%s", why.msg);
        j = whole ? json_integer((json_int_t)d) : json_real(d);
        break;
    case K_DATE:
        if (cli_date(key, val, &why))
            return ltcctl_usage(v, "%s", why.msg);
        j = json_string(val);
        break;
    case K_BOOL:
        if (strcmp(val, "true") && strcmp(val, "false"))
            return ltcctl_usage(v, "%s: '%.40s' is not true or false", key, val);
        j = json_boolean(!strcmp(val, "true"));
        break;
    case K_JSON:
        /* A list or object (terms, conditions), or for an action ltcctl does
         * not know, JSON when it parses and else text: the daemon checks it. */
        j = json_loads(val, JSON_DECODE_ANY, NULL);
        if (k && !json_is_array(j) && !json_is_object(j)) {
            json_decref(j);
            return ltcctl_usage(v, "%s: expected a JSON list, e.g. %s='[{...}]'", key, key);
        }
        if (!j)
            j = json_string(val);
        break;
    }
    json_object_set_new(body, fen_key, j);
    return 0;
}

static const char *current_action = "";
static char current_kdp[16];

/* One or two lines on what an action did (the whole instance: lead show). */
static void print_action(const json_t *i)
{
    printf("instance %lld: %s -> stage %s\n", ltcctl_int_of(i, "id"), current_action,
           ltcctl_str(i, "stage"));
    const json_t *ms = json_object_get(i, "milestones");
    const json_t *c = json_object_get(i, "contract"), *cl = json_object_get(i, "closure");
    char m[MONEY_TEXT_MAX], d[16], mg[16];
    if (!strcmp(current_action, "decide")) {
        const json_t *g = json_object_get(json_object_get(i, "gates"), current_kdp);
        printf("  %s %s at %s level by %s (%s, discount %s, margin %s)\n", current_kdp,
               ltcctl_str(g, "outcome"), ltcctl_str(g, "level"), ltcctl_str(g, "decided_by"),
               ltcctl_money_of(g, "value", NULL, m, sizeof m),
               ltcctl_pct_of(g, "discount", d, sizeof d),
               ltcctl_pct_of(g, "margin", mg, sizeof mg));
    } else if (!strcmp(current_action, "milestone") && json_array_size(ms)) {
        const json_t *x = json_array_get(ms, json_array_size(ms) - 1);
        printf("  %s %s %s on %s\n", ltcctl_str(x, "kind"), ltcctl_str(x, "ref"),
               ltcctl_money_of(x, "amount", NULL, m, sizeof m), ltcctl_str(x, "at"));
    } else if (!strcmp(current_action, "sign") && json_is_object(c)) {
        printf("  contract %s signed %s, net %lld days\n",
               ltcctl_money_of(c, "value", json_string_value(json_object_get(c, "currency")), m,
                               sizeof m),
               ltcctl_str(c, "signed_at"), ltcctl_int_of(c, "net_days"));
    } else if (!strcmp(current_action, "close") && json_is_object(cl)) {
        printf("  %s: %s", ltcctl_str(cl, "outcome"), ltcctl_str(cl, "reason"));
        if (json_is_integer(json_object_get(cl, "dso")))
            printf(" (DSO %lld days)", ltcctl_int_of(cl, "dso"));
        printf("\n");
    } else if (!strcmp(current_action, "assign")) {
        const json_t *t = json_object_get(i, "team");
        printf("  team: AR %s, SR %s, FR %s\n", ltcctl_str(t, "ar"), ltcctl_str(t, "sr"),
               ltcctl_str(t, "fr"));
    } else if (!strcmp(current_action, "review")) {
        const json_t *ev = json_object_get(i, "evaluation");
        printf("  evaluation: score %.1f, %s, %s -> %s\n",
               json_number_value(json_object_get(ev, "score")), ltcctl_str(ev, "temperature"),
               ltcctl_str(ev, "maturity"), ltcctl_str(ev, "recommendation"));
        printf("  owner: %s\n", ltcctl_str(i, "owner"));
        if (json_is_string(json_object_get(i, "next_review")))
            printf("  next review: %s\n", ltcctl_str(i, "next_review"));
    } else if (!strcmp(current_action, "reevaluate")) {
        print_instance(i);
    }
}

/* POST ID ACTION with the KEY=VALUE words from 'first'. */
static int post_action(const struct ltcctl *o, const struct ltcctl_args *a, const char *action,
                       int first)
{
    long long id;
    if (instance_id(a, a->pos[0], &id))
        return LTCCTL_USAGE;
    json_t *body = json_pack("{s:s}", "action", action);
    for (int k = first; k < a->n_pos; k++)
        if (action_value(a->verb, action, a->pos[k], body)) {
            json_decref(body);
            return LTCCTL_USAGE;
        }
    json_t *kdp = json_object_get(body, "kdp");
    snprintf(current_kdp, sizeof current_kdp, "%s",
             json_is_string(kdp) ? json_string_value(kdp) : "");
    current_action = action;
    char path[96];
    snprintf(path, sizeof path, "/v1/instances/%lld/actions", id);
    int rc = ltcctl_call(o, "POST", path, body, print_action);
    json_decref(body);
    return rc;
}

int ltcctl_action(const struct ltcctl *o, const struct ltcctl_args *a)
{
    return post_action(o, a, a->verb->words, 1);
}

int ltcctl_act(const struct ltcctl *o, const struct ltcctl_args *a)
{
    return post_action(o, a, a->pos[1], 2);
}

int ltcctl_document(const struct ltcctl *o, const struct ltcctl_args *a)
{
    long long id;
    if (instance_id(a, a->pos[0], &id))
        return LTCCTL_USAGE;
    if (!lead_valid_id(a->pos[1]))
        return ltcctl_usage(a->verb, "KIND: '%.40s' is not a name [a-z0-9_-]", a->pos[1]);
    char path[160];
    snprintf(path, sizeof path, "/v1/instances/%lld/documents/%s", id, a->pos[1]);
    struct ltcctl_buf b = {0};
    long st = ltcctl_request(o, "GET", path, NULL, 0, NULL, &b);
    if (st == 200) { /* the document is text, whatever --json says */
        printf("%s\n", b.p ? b.p : "");
        free(b.p);
        return LTCCTL_OK;
    }
    return ltcctl_finish(o, st, &b, NULL);
}

int ltcctl_receivables(const struct ltcctl *o, const struct ltcctl_args *a)
{
    long long id;
    if (instance_id(a, a->pos[0], &id))
        return LTCCTL_USAGE;
    struct err_detail why = {0};
    if (a->n_pos == 2 && cli_date("DATE", a->pos[1], &why))
        return ltcctl_usage(a->verb, "%s", why.msg);
    char path[128];
    snprintf(path, sizeof path, "/v1/instances/%lld/receivables%s%s", id,
             a->n_pos == 2 ? "?as_of=" : "", a->n_pos == 2 ? a->pos[1] : "");
    return ltcctl_call(o, "GET", path, NULL, print_receivables);
}

static const char *owner_set;

static void print_owner(const json_t *i)
{
    printf("instance %lld: owner %s (stage %s, office %s)\n", ltcctl_int_of(i, "id"),
           json_is_string(json_object_get(i, "owner")) ? ltcctl_str(i, "owner") : owner_set,
           ltcctl_str(i, "stage"), ltcctl_str(i, "office"));
}

/* The assign_owner action: the lead's nurturer, an active person of its
 * office (the daemon checks the person; this checks the words). */
int ltcctl_assign_owner(const struct ltcctl *o, const struct ltcctl_args *a)
{
    long long id;
    struct err_detail why = {0};
    if (instance_id(a, a->pos[0], &id) ||
        ltcctl_refuse(a->verb, cli_id("PERSON", a->pos[1], &why), &why))
        return LTCCTL_USAGE;
    owner_set = a->pos[1];
    json_t *body = json_pack("{s:s, s:s}", "action", "assign_owner", "owner", a->pos[1]);
    char path[96];
    snprintf(path, sizeof path, "/v1/instances/%lld/actions", id);
    int rc = ltcctl_call(o, "POST", path, body, print_owner);
    json_decref(body);
    return rc;
}
