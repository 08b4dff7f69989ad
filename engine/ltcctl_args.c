/* engine/ltcctl_args.c: a verb's words split and checked, and help (see ltcctl.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli_value.h"
#include "ltcctl.h"
#include "money.h"

/* The options every verb takes, wherever they are written. */
static const struct ltcctl_opt global_opts[] = {
    {"--url", "URL", "the daemon (default $LTC_URL, else http://127.0.0.1:8080)", false},
    {"--token", "TOKEN", "the bearer token (default $LTC_TOKEN)", false},
    {"--json", NULL, "print the API's JSON as it came, for scripts", false},
    {"--help", NULL, "this verb's usage and options", false},
    {NULL, NULL, NULL, false},
};

int ltcctl_usage(const struct ltcctl_verb *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ltcctl: %s: ", v->words);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: ltcctl %s %s\n(ltcctl %s --help lists its options)\n", v->words,
            v->usage, v->words);
    return LTCCTL_USAGE;
}

static int find_opt(const struct ltcctl_opt *opts, const char *name)
{
    for (int k = 0; opts && opts[k].name; k++)
        if (!strcmp(opts[k].name, name))
            return k;
    return -1;
}

/* "--base V, --json" */
static void opt_names(const struct ltcctl_opt *opts, char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int k = 0; opts && opts[k].name && off < n; k++)
        off += (size_t)snprintf(buf + off, n - off, "%s%s%s%s", off ? ", " : "", opts[k].name,
                                opts[k].arg ? " " : "", opts[k].arg ? opts[k].arg : "");
}

int ltcctl_args_parse(const struct ltcctl_verb *v, int argc, char **argv, struct ltcctl *o,
                      struct ltcctl_args *a)
{
    memset(a, 0, sizeof *a);
    a->verb = v;
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        /* "-" is a word (stdin); "--" ends the options. */
        if (!strcmp(w, "--")) {
            for (i++; i < argc; i++) {
                if (a->n_pos == LTCCTL_POS_MAX)
                    return ltcctl_usage(v, "too many words (at most %d)", LTCCTL_POS_MAX);
                a->pos[a->n_pos++] = argv[i];
            }
            break;
        }
        if (strncmp(w, "--", 2)) {
            if (a->n_pos == LTCCTL_POS_MAX)
                return ltcctl_usage(v, "too many words (at most %d)", LTCCTL_POS_MAX);
            a->pos[a->n_pos++] = argv[i];
            continue;
        }
        int g = find_opt(global_opts, w), k = find_opt(v->opts, w);
        const struct ltcctl_opt *spec = k >= 0 ? &v->opts[k] : g >= 0 ? &global_opts[g] : NULL;
        if (!spec) {
            char names[512];
            opt_names(v->opts, names, sizeof names);
            return ltcctl_usage(v,
                                "unknown option %s; its options: %s%s--json, --url URL, "
                                "--token TOKEN",
                                w, names, names[0] ? ", " : "");
        }
        const char *val = NULL;
        if (spec->arg) {
            if (i + 1 >= argc)
                return ltcctl_usage(v, "%s needs a value: %s %s", w, w, spec->arg);
            val = argv[++i];
        }
        if (g >= 0 && k < 0) {
            if (!strcmp(w, "--json"))
                o->json = true;
            else if (!strcmp(w, "--url"))
                o->url = val;
            else if (!strcmp(w, "--token"))
                o->token = val;
            else { /* --help */
                ltcctl_help_verb(stdout, v);
                return -1;
            }
            continue;
        }
        if (a->count[k] && !spec->repeat)
            return ltcctl_usage(v, "%s given twice", w);
        if (a->count[k] == LTCCTL_REPEAT_MAX)
            return ltcctl_usage(v, "%s given more than %d times", w, LTCCTL_REPEAT_MAX);
        a->val[k][a->count[k]++] = spec->arg ? val : "";
    }
    if (a->n_pos < v->min_pos || a->n_pos > v->max_pos) {
        if (a->n_pos < v->min_pos)
            return ltcctl_usage(v, "%s", a->n_pos ? "missing words" : "what to act on is missing");
        return ltcctl_usage(v, "unexpected '%s'", a->pos[v->max_pos]);
    }
    return 0;
}

const char *ltcctl_opt(const struct ltcctl_args *a, const char *name)
{
    int k = find_opt(a->verb->opts, name);
    return k >= 0 && a->count[k] ? a->val[k][a->count[k] - 1] : NULL;
}

int ltcctl_opt_all(const struct ltcctl_args *a, const char *name, const char *const **vals)
{
    int k = find_opt(a->verb->opts, name);
    *vals = k >= 0 ? a->val[k] : NULL;
    return k >= 0 ? a->count[k] : 0;
}

int ltcctl_int(const struct ltcctl_verb *v, const char *what, const char *s, int64_t min,
               int64_t max, int64_t *out)
{
    struct err_detail why = {0};
    if (!cli_int(what, s, min, max, out, &why))
        return 0;
    return ltcctl_usage(v, "%s", why.msg);
}

int ltcctl_money(const struct ltcctl_verb *v, const char *fen_name, const char *fen,
                 const char *yuan_name, const char *yuan, int64_t *out, bool *given)
{
    return ltcctl_money_upto(v, fen_name, fen, yuan_name, yuan, MONEY_MAX, out, given);
}

int ltcctl_money_upto(const struct ltcctl_verb *v, const char *fen_name, const char *fen,
                      const char *yuan_name, const char *yuan, int64_t max, int64_t *out,
                      bool *given)
{
    struct err_detail why = {0};
    *given = fen || yuan;
    if (fen && yuan)
        return ltcctl_usage(v, "%s and %s both given: give the amount once, in fen or in yuan",
                            fen_name, yuan_name);
    if ((fen && cli_fen(fen_name, fen, 0, max, yuan_name, out, &why)) ||
        (yuan && cli_yuan(yuan_name, yuan, 0, max, out, &why)))
        return ltcctl_usage(v, "%s", why.msg);
    return 0;
}

int ltcctl_refuse(const struct ltcctl_verb *v, int rc, const struct err_detail *why)
{
    return rc ? ltcctl_usage(v, "%s", why->msg) : 0;
}

void ltcctl_help_verb(FILE *f, const struct ltcctl_verb *v)
{
    fprintf(f, "usage: ltcctl %s %s\n\n", v->words, v->usage);
    for (const char *s = v->summary; *s;) {
        size_t n = strcspn(s, "\n");
        fprintf(f, "  %.*s\n", (int)n, s);
        s += n + (s[n] == '\n');
    }
    if (v->fn == ltcctl_action)
        ltcctl_action_help(f, v->words);
    fprintf(f, "\noptions:\n");
    for (int pass = 0; pass < 2; pass++) {
        const struct ltcctl_opt *opts = pass ? global_opts : v->opts;
        for (int k = 0; opts && opts[k].name; k++) {
            char name[64];
            snprintf(name, sizeof name, "%s%s%s", opts[k].name, opts[k].arg ? " " : "",
                     opts[k].arg ? opts[k].arg : "");
            fprintf(f, "  %-22s %s%s\n", name, opts[k].help, opts[k].repeat ? " (repeatable)" : "");
        }
    }
}

void ltcctl_help_all(FILE *f)
{
    fprintf(f, "usage: ltcctl [--url URL] [--token TOKEN] [--json] VERB ...\n"
               "       ltcctl help [VERB]   ltcctl VERB --help\n\n");
    for (const struct ltcctl_verb *v = ltcctl_verbs; v->words; v++) {
        char line[512];
        snprintf(line, sizeof line, "%s %s", v->words, v->usage);
        size_t n = strcspn(v->summary, "\n");
        if (strlen(line) <= 38) {
            fprintf(f, "  %-38s %.*s\n", line, (int)n, v->summary);
        } else {
            /* A long usage on its own lines, the summary under it. */
            for (const char *u = line; *u;) {
                size_t k = strcspn(u, "\n");
                fprintf(f, "  %.*s\n", (int)k, u);
                u += k + (u[k] == '\n');
            }
            fprintf(f, "  %-38s %.*s\n", "", (int)n, v->summary);
        }
        char names[512];
        opt_names(v->opts, names, sizeof names);
        if (names[0])
            fprintf(f, "  %-38s options: %s\n", "", names);
    }
    fprintf(f, "\nEvery verb also takes --json (the API's JSON, for scripts), --url URL and "
               "--token TOKEN.\n"
               "Money is typed in fen (integer minor units: 120000000 is 1,200,000.00 CNY) or in "
               "yuan\nwith the verb's yuan option (--yuan 1200000.00, value_yuan=...), and "
               "printed as 1,200,000.00 CNY.\n"
               "Environment: LTC_URL (default http://127.0.0.1:8080), LTC_TOKEN.\n"
               "Exit codes: 0 done, 1 the daemon refused (or a test failed), 2 bad usage "
               "(nothing sent),\n3 the daemon is unreachable or did not answer within --wait, "
               "4 done in part (migrate:\nsome instances refused, or more remain).\n");
}
