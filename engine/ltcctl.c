/* engine/ltcctl.c: the command-line client of ltcd (wraps the HTTP API).
 *
 * ltcctl [--url URL] [--token TOKEN] [--json] COMMAND ...
 * The address and token come from the flags or LTC_URL / LTC_TOKEN. Output is
 * a readable table, or the API's JSON with --json. Exit codes: 0 success,
 * 1 the daemon answered with an error, 2 usage, 3 the daemon is unreachable.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sodium.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "log.h"
#include "rules_tests.h"

static const char usage[] =
    "usage: ltcctl [--url URL] [--token TOKEN] [--json] COMMAND ...\n"
    "\n"
    "  health                           daemon status\n"
    "  lead create FILE|-               create a lead from a JSON body\n"
    "  lead create --office ID --customer TEXT --title TEXT [--source S]\n"
    "              [--amount INT] [--budget approved|planned|none] [--horizon N]\n"
    "              [--signal NAME=0..5]...\n"
    "  lead show ID                     one instance\n"
    "  lead list [--stage S] [--office ID] [--temperature T] [--limit N] [--after ID]\n"
    "  events ID                        an instance's audit trail\n"
    "  reevaluate ID                    evaluate a lead again under today's rules\n"
    "  review|assign|decide|sign|milestone|close ID [KEY=VALUE]...\n"
    "                                   an action; VALUE is JSON when it parses, else text:\n"
    "    review ID decision=convert|nurture|close [note=TEXT]\n"
    "    assign ID ar=NAME sr=NAME fr=NAME\n"
    "    decide ID kdp=ATI|ATB|ATC|ATAC|ATCC outcome=approve|approve_with_conditions|reject|defer\n"
    "              value=FEN discount=PCT margin=PCT "
    "['conditions=[{\"text\",\"owner\",\"due\"}]']\n"
    "    sign ID value=FEN net_days=N 'terms=[{\"milestone\":\"advance\",\"percent\":10},...]'\n"
    "    milestone ID kind=delivery|acceptance|invoice|payment amount=FEN ref=TEXT\n"
    "    close ID reason=TEXT\n"
    "    (any action takes at=YYYY-MM-DD: when it happened)\n"
    "  act ID ACTION [KEY=VALUE]...     the same, for any action name\n"
    "  document ID KIND                 a document from the office's template\n"
    "  receivables ID [YYYY-MM-DD]      invoiced, paid, overdue and escalation as of a date\n"
    "  rules status                     active and pending versions, last errors\n"
    "  rules put OWNER FILE.lua [PATH] [--base V]\n"
    "                                   upload one file (PATH defaults to FILE.lua) as a new\n"
    "                                   version built on the newest one (or on V)\n"
    "  rules push OWNER DIR             upload DIR's *.lua files as one bundle (with\n"
    "                                   DIR/bundle.sig when present)\n"
    "  rules sign DIR KEYFILE           sign DIR's bundle: writes DIR/bundle.sig\n"
    "  rules test DIR [--leads FILE.jsonl] [--hq DIR] [--owner OWNER]\n"
    "                                   run DIR's tests.lua offline (DIR: an owner's\n"
    "                                   directory or a whole tree) with HQ's rules from\n"
    "                                   --hq or the daemon's active version, and evaluate\n"
    "                                   the leads of FILE (a JSON lead body a line);\n"
    "                                   submits nothing; exit 0 when all pass\n"
    "  keygen PREFIX                    an ed25519 key pair: PREFIX.pub, PREFIX.key\n"
    "  rules rm OWNER FILE.lua [--base V]\n"
    "                                   remove one file (a new version, as with put)\n"
    "  rules approve OWNER VERSION      (hq admin)\n"
    "  rules reject OWNER VERSION [REASON]\n"
    "  rules versions OWNER             version history: status, origin, base\n"
    "  rules show OWNER VERSION         one version: each file's source under a header\n"
    "  rules diff OWNER V [W]           what V changes against W (default: the active\n"
    "                                   version), as a unified diff (coloured on a terminal)\n"
    "  rules reload                     re-read the rules directory (hq admin)\n"
    "  rules simulate OWNER VERSION [KEY=VALUE]...  what-if over stored leads\n"
    "                                   (unit=, from=YYYY-MM-DD, to=, limit=, max_ms=)\n"
    "  rules shadow OWNER VERSION [--hours N]  run a pending version beside the active one\n"
    "                                   on live leads for N hours (1..168), or show its run\n"
    "  rules rollback OWNER             back to the previous good version\n"
    "  rules events OWNER               the audit of the owner's rule operations\n"
    "  shares run PERIOD POOL           allocate a bonus pool (fen) over a period\n"
    "  shares show ID                   an allocation run, as a tree\n"
    "  targets set UNIT PERIOD METRIC AMOUNT   metric orders|cash, amount in fen\n"
    "  targets show PERIOD [METRIC]     the roll-up tree with completion\n"
    "\n"
    "Environment: LTC_URL (default http://127.0.0.1:8080), LTC_TOKEN.\n";

struct opts {
    const char *url, *token;
    int json;
};

struct buf {
    char *p;
    size_t n;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct buf *b = ud;
    size_t n = size * nmemb;
    char *g = realloc(b->p, b->n + n + 1);
    if (!g)
        return 0;
    b->p = g;
    memcpy(b->p + b->n, ptr, n);
    b->n += n;
    b->p[b->n] = '\0';
    return n;
}

/* Perform a request; returns the HTTP status (0: unreachable) and the body. */
static long request(const struct opts *o, const char *method, const char *path, const char *body,
                    size_t body_len, const char *ctype, struct buf *out)
{
    CURL *c = curl_easy_init();
    char url[2048], auth[1024], ct[128];
    snprintf(url, sizeof url, "%s%s", o->url, path);
    struct curl_slist *h = NULL;
    if (o->token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->token);
        h = curl_slist_append(h, auth);
    }
    snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "application/json");
    h = curl_slist_append(h, ct);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    long status = 0;
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else
        fprintf(stderr, "ltcctl: cannot reach ltcd at %s: %s\n", o->url, curl_easy_strerror(rc));
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

static int finish(const struct opts *o, long status, struct buf *b, void (*pretty)(const json_t *));

static void print_instance_row(const json_t *i)
{
    const json_t *ev = json_object_get(i, "evaluation");
    printf("%-6lld %-12s %-14s %-24.24s %-30.30s %6.1f %-5s %-7s %s\n",
           (long long)json_integer_value(json_object_get(i, "id")), str(i, "stage"),
           str(i, "office"), str(i, "customer"), str(i, "title"),
           json_number_value(json_object_get(ev, "score")), str(ev, "temperature"),
           str(ev, "maturity"), str(ev, "recommendation"));
}

static const char header[] = "ID     STAGE        OFFICE         CUSTOMER                 TITLE"
                             "                           SCORE TEMP  MATURE  RECOMMEND\n";

static void print_instance(const json_t *i)
{
    const json_t *ev = json_object_get(i, "evaluation");
    printf("instance %lld  stage %s  office %s (region %s)\n",
           (long long)json_integer_value(json_object_get(i, "id")), str(i, "stage"),
           str(i, "office"), str(i, "region"));
    printf("  customer   %s\n  title      %s\n  source     %s\n", str(i, "customer"),
           str(i, "title"), str(i, "source"));
    const json_t *b = json_object_get(i, "budget");
    long long fen = (long long)json_integer_value(json_object_get(b, "amount"));
    printf("  budget     %lld.%02lld %s (%s), decision in %lld months\n", fen / 100, fen % 100,
           str(b, "currency"), str(b, "status"),
           (long long)json_integer_value(json_object_get(i, "horizon_months")));
    printf("  evaluation score %.1f, %s, %s -> %s\n",
           json_number_value(json_object_get(ev, "score")), str(ev, "temperature"),
           str(ev, "maturity"), str(ev, "recommendation"));
    size_t k;
    json_t *r;
    json_array_foreach(json_object_get(ev, "reasons"), k, r)
        printf("             - %s\n", json_string_value(r));
    const char *owner;
    json_t *v;
    printf("  rules     ");
    json_object_foreach(json_object_get(ev, "rules"), owner, v)
        printf(" %s@%lld", owner, (long long)json_integer_value(v));
    printf(" (process pinned to hq@%lld)\n",
           (long long)json_integer_value(json_object_get(json_object_get(i, "rules"), "hq")));
    const json_t *team = json_object_get(i, "team");
    if (json_object_size(team))
        printf("  team       AR %s, SR %s, FR %s\n", str(team, "ar"), str(team, "sr"),
               str(team, "fr"));
    json_object_foreach(json_object_get(i, "gates"), owner, v)
        printf("  gate %-5s %s at %s level by %s\n", owner, str(v, "outcome"), str(v, "level"),
               str(v, "decided_by"));
    const json_t *c = json_object_get(i, "contract");
    if (json_is_object(c)) {
        long long val = (long long)json_integer_value(json_object_get(c, "value"));
        printf("  contract   %lld.%02lld %s signed %s, net %lld days\n", val / 100, val % 100,
               str(c, "currency"), str(c, "signed_at"),
               (long long)json_integer_value(json_object_get(c, "net_days")));
    }
    json_array_foreach(json_object_get(i, "milestones"), k, v)
    {
        long long amt = (long long)json_integer_value(json_object_get(v, "amount"));
        printf("  %-10s %-10s %12lld.%02lld  %s\n", k ? "" : "milestones", str(v, "kind"),
               amt / 100, amt % 100, str(v, "at"));
    }
    const json_t *cl = json_object_get(i, "closure");
    if (json_is_object(cl))
        printf("  closed     %s: %s\n", str(cl, "outcome"), str(cl, "reason"));
    if (json_is_integer(json_object_get(cl, "dso")))
        printf("  DSO        %lld days\n",
               (long long)json_integer_value(json_object_get(cl, "dso")));
    size_t n_actions = json_array_size(json_object_get(i, "actions"));
    if (n_actions) {
        const json_t *last = json_array_get(json_object_get(i, "actions"), n_actions - 1);
        printf("  to do      %zu regional action(s); latest: [%s] %s (due %s)\n", n_actions,
               str(last, "role"), str(last, "action"), str(last, "due"));
    }
}

static void print_receivables(const json_t *r)
{
    long long inv = (long long)json_integer_value(json_object_get(r, "invoiced"));
    long long paid = (long long)json_integer_value(json_object_get(r, "paid"));
    long long over = (long long)json_integer_value(json_object_get(r, "overdue_amount"));
    printf("as of %s: invoiced %lld.%02lld, paid %lld.%02lld, overdue %lld.%02lld\n",
           str(r, "as_of"), inv / 100, inv % 100, paid / 100, paid % 100, over / 100, over % 100);
    size_t k;
    json_t *o;
    json_array_foreach(json_object_get(r, "overdue"), k, o)
    {
        long long a = (long long)json_integer_value(json_object_get(o, "amount"));
        printf("  %-10s %12lld.%02lld due %s, %lld days late -> %s\n", str(o, "ref"), a / 100,
               a % 100, str(o, "due"), (long long)json_integer_value(json_object_get(o, "days")),
               str(o, "escalate_to"));
    }
}

static void print_text(const json_t *t)
{
    (void)t;
}

/* --- simulation and shadow runs: tables ---------------------------------- */

/* A JSON scalar as text (strings bare, numbers as JSON writes them). */
static void scalar(const json_t *v, char *buf, size_t n)
{
    if (json_is_string(v)) {
        snprintf(buf, n, "%s", json_string_value(v));
        return;
    }
    char *t = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    snprintf(buf, n, "%s", t ? t : "-");
    free(t);
}

/* "field before -> after; ..." of a changed entry's before and after. */
static void changes(const json_t *before, const json_t *after, char *buf, size_t n)
{
    size_t off = 0;
    const char *k;
    json_t *v;
    buf[0] = '\0';
    if (json_is_string(json_object_get(before, "error"))) {
        snprintf(buf, n, "was failing: %s", json_string_value(json_object_get(before, "error")));
        return;
    }
    json_object_foreach((json_t *)after, k, v)
    {
        char b[64], a[64];
        scalar(json_object_get(before, k), b, sizeof b);
        scalar(v, a, sizeof a);
        if (off < n)
            off += (size_t)snprintf(buf + off, n - off, "%s%s %s -> %s", off ? "; " : "", k, b, a);
    }
}

static long long int_of(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static void list_title(const char *title, const json_t *r, const char *list, const char *total)
{
    size_t shown = json_array_size(json_object_get(r, list));
    long long all = int_of(r, total);
    if ((long long)shown < all)
        printf("\n%s (%zu of %lld)\n", title, shown, all);
    else
        printf("\n%s (%lld)\n", title, all);
}

static void print_simulation(const json_t *r)
{
    printf("%s v%lld against active v%lld: %lld leads evaluated%s\n", str(r, "owner"),
           int_of(r, "version"), int_of(r, "active_version"), int_of(r, "evaluated"),
           json_is_true(json_object_get(r, "truncated")) ? " (truncated: limit or max_ms)" : "");
    printf("\nCOUNTS\n  %-16s %lld\n  %-16s %lld\n  %-16s %lld\n", "changed",
           int_of(r, "changed_total"), "failed", int_of(r, "failed_total"), "routing",
           int_of(r, "routing_total"));
    const char *what;
    json_t *c;
    json_object_foreach(json_object_get(r, "counts"), what, c)
    {
        const char *k;
        json_t *v;
        json_object_foreach(c, k, v)
            printf("  %-16s %-22s %lld\n", what, k, (long long)json_integer_value(v));
    }
    size_t i;
    json_t *e;
    char text[512];
    list_title("CHANGED", r, "changed", "changed_total");
    if (json_array_size(json_object_get(r, "changed")))
        printf("%-9s %-16s %s\n", "INSTANCE", "OFFICE", "BEFORE -> AFTER");
    json_array_foreach(json_object_get(r, "changed"), i, e)
    {
        changes(json_object_get(e, "before"), json_object_get(e, "after"), text, sizeof text);
        printf("%-9lld %-16s %s\n", int_of(e, "instance"), str(e, "office"), text);
    }
    list_title("FAILED", r, "failed", "failed_total");
    if (json_array_size(json_object_get(r, "failed")))
        printf("%-9s %-16s %-20s %s\n", "INSTANCE", "OFFICE", "RULES", "ERROR");
    json_array_foreach(json_object_get(r, "failed"), i, e)
    {
        char who[96];
        snprintf(who, sizeof who, "%s v%lld", str(e, "owner"), int_of(e, "version"));
        printf("%-9lld %-16s %-20s %s\n", int_of(e, "instance"), str(e, "office"), who,
               str(e, "error"));
    }
    list_title("ROUTING", r, "routing", "routing_total");
    if (json_array_size(json_object_get(r, "routing")))
        printf("%-9s %-16s %-12s %-5s %16s %8s %8s  %s\n", "INSTANCE", "OFFICE", "STAGE", "KDP",
               "VALUE", "DISCOUNT", "MARGIN", "LEVEL BEFORE -> AFTER");
    json_array_foreach(json_object_get(r, "routing"), i, e)
    {
        char d[32], m[32];
        scalar(json_object_get(e, "discount"), d, sizeof d);
        scalar(json_object_get(e, "margin"), m, sizeof m);
        printf("%-9lld %-16s %-12s %-5s %16lld %8s %8s  %s -> %s\n", int_of(e, "instance"),
               str(e, "office"), str(e, "stage"), str(e, "kdp"), int_of(e, "value"), d, m,
               str(e, "before"), str(e, "after"));
    }
}

static void print_shadow(const json_t *r)
{
    printf("%s v%lld shadow: %s, until %s (started %s by %s)\n", str(r, "owner"),
           int_of(r, "version"), str(r, "status"), str(r, "until"), str(r, "started_at"),
           str(r, "started_by"));
    if (json_is_string(json_object_get(r, "end_reason")))
        printf("ended %s: %s\n", str(r, "ended_at"), str(r, "end_reason"));
    printf("\n%-12s %lld\n%-12s %lld\n%-12s %lld\n", "evaluated", int_of(r, "evaluated"),
           "differing", int_of(r, "differing"), "failed", int_of(r, "failed"));
    size_t i;
    json_t *e;
    if (!json_array_size(json_object_get(r, "examples")))
        return;
    printf("\nEXAMPLES\n%-9s %-24s %-8s %s\n", "INSTANCE", "AT", "RESULT", "ACTIVE -> SHADOW");
    json_array_foreach(json_object_get(r, "examples"), i, e)
    {
        char text[512];
        const char *result = json_is_string(json_object_get(e, "error"))   ? "failed"
                             : json_is_true(json_object_get(e, "differs")) ? "differs"
                                                                           : "same";
        if (!strcmp(result, "failed"))
            snprintf(text, sizeof text, "%s", str(e, "error"));
        else if (!strcmp(result, "differs")) {
            /* Only the fields that differ. */
            json_t *a = json_object_get(e, "active"), *sh = json_object_get(e, "shadow");
            json_t *b = json_object(), *af = json_object();
            const char *k;
            json_t *v;
            json_object_foreach(sh, k, v)
            {
                if (json_equal(v, json_object_get(a, k)))
                    continue;
                json_object_set(b, k, json_object_get(a, k));
                json_object_set(af, k, v);
            }
            changes(b, af, text, sizeof text);
            json_decref(b);
            json_decref(af);
        } else {
            snprintf(text, sizeof text, "%s, %s", str(json_object_get(e, "shadow"), "temperature"),
                     str(json_object_get(e, "shadow"), "recommendation"));
        }
        printf("%-9lld %-24s %-8s %s\n", int_of(e, "instance"), str(e, "at"), result, text);
    }
}

static void print_rule_events(const json_t *r)
{
    size_t k;
    json_t *e;
    printf("%-24s %-24s %-18s %-8s %-14s %s\n", "AT", "ACTOR", "ACTION", "VERSION", "HASH",
           "MESSAGE");
    json_array_foreach(json_object_get(r, "events"), k, e)
    {
        char v[16] = "-";
        if (json_is_integer(json_object_get(e, "version")))
            snprintf(v, sizeof v, "v%lld",
                     (long long)json_integer_value(json_object_get(e, "version")));
        printf("%-24s %-24s %-18s %-8s %-14.12s %.80s\n", str(e, "at"), str(e, "actor"),
               str(e, "action"), v, str(e, "hash"), str(e, "message"));
    }
}

static void money(long long fen, char *buf, size_t n)
{
    snprintf(buf, n, "%s%lld.%02lld", fen < 0 ? "-" : "", llabs(fen) / 100, llabs(fen) % 100);
}

/* Print the lines under 'parent', indented by depth. */
static void print_share_lines(const json_t *lines, const char *parent, int depth)
{
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l)
    {
        if (strcmp(str(l, "parent"), parent))
            continue;
        char a[32], c[32];
        money((long long)json_integer_value(json_object_get(l, "amount")), a, sizeof a);
        money((long long)json_integer_value(json_object_get(l, "contribution")), c, sizeof c);
        printf("%*s%-*s %16s   (contribution %s)\n", 2 * depth, "", 40 - 2 * depth, str(l, "unit"),
               a, c);
        if (depth < 6)
            print_share_lines(lines, str(l, "unit"), depth + 1);
    }
}

static void print_run(const json_t *r)
{
    char pool[32];
    money((long long)json_integer_value(json_object_get(r, "pool")), pool, sizeof pool);
    printf("allocation run %lld, period %s, pool %s (input hash %.16s...)\n",
           (long long)json_integer_value(json_object_get(r, "id")), str(r, "period"), pool,
           str(r, "input_hash"));
    print_share_lines(json_object_get(r, "lines"), "hq", 1);
}

static void print_target_node(const json_t *n, int depth)
{
    char t[32] = "-", a[32], pct[16] = "";
    if (json_is_integer(json_object_get(n, "target")))
        money((long long)json_integer_value(json_object_get(n, "target")), t, sizeof t);
    money((long long)json_integer_value(json_object_get(n, "actual")), a, sizeof a);
    const json_t *c = json_object_get(n, "completion");
    char bar[24] = "";
    if (json_is_number(c)) {
        int filled = (int)(json_number_value(c) * 20 + 0.5);
        for (int k = 0; k < 20; k++)
            bar[k] = k < filled ? '#' : '.';
        bar[20] = '\0';
        snprintf(pct, sizeof pct, "%.1f%%", json_number_value(c) * 100);
    }
    printf("%*s%-*s %16s %16s  %-20s %s\n", 2 * depth, "", 28 - 2 * depth, str(n, "unit"), t, a,
           bar, pct);
    size_t i;
    json_t *ch;
    json_array_foreach(json_object_get(n, "children"), i, ch) print_target_node(ch, depth + 1);
}

static void print_targets(const json_t *tree)
{
    printf("targets %s, metric %s\n%-28s %16s %16s\n", str(tree, "period"), str(tree, "metric"),
           "UNIT", "TARGET", "ACTUAL");
    print_target_node(tree, 0);
}

static char *read_all(const char *path, size_t *len);

/* DIR's *.lua files as { NAME: SOURCE }, and their bundle hash (the same
 * as ltcd's: SHA-256 over name, NUL, source, NUL, in name order). */
static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static json_t *read_bundle(const char *dir, unsigned char digest[32])
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] != '.' && len > 4 && !strcmp(e->d_name + len - 4, ".lua"))
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    json_t *files = json_object();
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        size_t len;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        char *src = read_all(path, &len);
        if (src) {
            json_object_set_new(files, names[i], json_stringn(src, len));
            crypto_hash_sha256_update(&st, (const unsigned char *)names[i], strlen(names[i]) + 1);
            crypto_hash_sha256_update(&st, (const unsigned char *)src, len);
            crypto_hash_sha256_update(&st, (const unsigned char *)"", 1);
        }
        free(src);
        free(names[i]);
    }
    crypto_hash_sha256_final(&st, digest);
    return files;
}

static int keygen(const char *prefix)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    char hex[2 * crypto_sign_SECRETKEYBYTES + 1], path[1024];
    crypto_sign_keypair(pk, sk);
    snprintf(path, sizeof path, "%s.pub", prefix);
    FILE *f = fopen(path, "w");
    if (!f)
        return 2;
    fprintf(f, "%s\n", sodium_bin2hex(hex, sizeof hex, pk, sizeof pk));
    fclose(f);
    snprintf(path, sizeof path, "%s.key", prefix);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f)
        return 2;
    fprintf(f, "%s\n", sodium_bin2hex(hex, sizeof hex, sk, sizeof sk));
    fclose(f);
    sodium_memzero(sk, sizeof sk);
    printf("wrote %s.pub (give it to ltcd --hq-pubkey) and %s.key (keep it secret)\n", prefix,
           prefix);
    return 0;
}

static int sign_dir(const char *dir, const char *keyfile)
{
    unsigned char sk[crypto_sign_SECRETKEYBYTES], digest[32], sig[crypto_sign_BYTES];
    char hex[2 * crypto_sign_SECRETKEYBYTES + 8] = "", path[1024];
    size_t n = 0;
    FILE *f = fopen(keyfile, "r");
    if (!f || !fgets(hex, sizeof hex, f)) {
        fprintf(stderr, "ltcctl: cannot read %s\n", keyfile);
        if (f)
            fclose(f);
        return 2;
    }
    fclose(f);
    hex[strcspn(hex, " \t\r\n")] = '\0';
    if (sodium_hex2bin(sk, sizeof sk, hex, strlen(hex), NULL, &n, NULL) || n != sizeof sk) {
        fprintf(stderr, "ltcctl: %s is not an ed25519 secret key in hex\n", keyfile);
        return 2;
    }
    json_t *files = read_bundle(dir, digest);
    if (!files) {
        fprintf(stderr, "ltcctl: cannot read %s\n", dir);
        return 2;
    }
    crypto_sign_detached(sig, NULL, digest, sizeof digest, sk);
    sodium_memzero(sk, sizeof sk);
    snprintf(path, sizeof path, "%s/bundle.sig", dir);
    f = fopen(path, "w");
    if (!f)
        return 2;
    fprintf(f, "%s\n", sodium_bin2hex(hex, sizeof hex, sig, sizeof sig));
    fclose(f);
    printf("signed %zu files of %s: %s\n", json_object_size(files), dir, path);
    json_decref(files);
    return 0;
}

static int push_dir(const struct opts *o, const char *owner, const char *dir)
{
    unsigned char digest[32];
    json_t *files = read_bundle(dir, digest);
    if (!files) {
        fprintf(stderr, "ltcctl: cannot read %s\n", dir);
        return 2;
    }
    json_t *body = json_pack("{s:o}", "files", files);
    char path[1024], sig[256] = "";
    snprintf(path, sizeof path, "%s/bundle.sig", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fgets(sig, sizeof sig, f)) {
            sig[strcspn(sig, " \t\r\n")] = '\0';
            json_object_set_new(body, "signature", json_string(sig));
        }
        fclose(f);
    }
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    snprintf(path, sizeof path, "/v1/rules/%s/bundle", owner);
    struct buf b = {0};
    long st = request(o, "POST", path, text, strlen(text), NULL, &b);
    free(text);
    return finish(o, st, &b, NULL);
}

/* --- rules test: local bundles evaluated offline -------------------------
 *
 * The engine itself (rules_tests.h, linked in) compiles and checks the
 * bundles and evaluates the leads, so a bundle passes here exactly when it
 * would pass the daemon's pipeline against the same HQ rules. Only the
 * bundles given take part: HQ's (--hq, the tree's hq/, or the daemon's active
 * version) and DIR's; other owners' rules (an office's defaults for a
 * region's leads) do not, unless DIR is a tree that holds them. */

struct test_out {
    const struct opts *o;
    json_t *tests; /* --json: the outcomes */
    int errors;    /* bundle errors */
};

static void print_test_error(void *ctx, const char *msg)
{
    struct test_out *t = ctx;
    t->errors++;
    fprintf(stderr, "error: %s\n", msg);
}

/* "score 62, hot, mature, convert" */
static void evaluation_text(const json_t *ev, char *buf, size_t n)
{
    snprintf(buf, n, "score %g, %s, %s, %s", json_number_value(json_object_get(ev, "score")),
             str(ev, "temperature"), str(ev, "maturity"), str(ev, "recommendation"));
}

static void print_test_outcome(void *ctx, const struct rules_test_outcome *oc)
{
    struct test_out *t = ctx;
    if (t->o->json) {
        json_t *j = json_pack("{s:s, s:s, s:b, s:b}", "owner", oc->owner, "file", oc->file,
                              "sample", oc->sample, "passed", !oc->failure);
        if (oc->line)
            json_object_set_new(j, "line", json_integer(oc->line));
        if (oc->name)
            json_object_set_new(j, "name", json_string(oc->name));
        if (oc->failure)
            json_object_set_new(j, "failure", json_string(oc->failure));
        if (oc->evaluation)
            json_object_set_new(j, "evaluation", json_deep_copy(oc->evaluation));
        json_array_append_new(t->tests, j);
        return;
    }
    char line[1024], ev[160] = "";
    struct rules_test_outcome shown = *oc;
    shown.failure = oc->failure ? oc->failure : "";
    rules_test_outcome_format(&shown, line, sizeof line);
    size_t len = strlen(line);
    if (!oc->failure && len >= 2) /* "...: " with nothing after it */
        line[len - 2] = '\0';
    if (oc->evaluation)
        evaluation_text(oc->evaluation, ev, sizeof ev);
    printf("%-4s %s%s%s%s%s%s\n", oc->failure ? "FAIL" : "ok", line, oc->sample ? " for " : "",
           oc->sample ? oc->owner : "", ev[0] ? " (" : "", ev, ev[0] ? ")" : "");
}

/* GET 'path' as JSON: 0 and *body (a new reference), or the exit code. */
static int get_json(const struct opts *o, const char *path, json_t **body)
{
    struct buf b = {0};
    long st = request(o, "GET", path, NULL, 0, NULL, &b);
    if (st != 200) {
        int rc = finish(o, st, &b, NULL);
        return rc ? rc : 1;
    }
    *body = json_loads(b.p ? b.p : "", JSON_ALLOW_NUL, NULL);
    free(b.p);
    return *body ? 0 : 1;
}

/* The daemon's active HQ version: its files (a new reference) and number. */
static int fetch_hq(const struct opts *o, json_t **files, long long *version)
{
    json_t *status = NULL, *v = NULL;
    int rc = get_json(o, "/v1/rules", &status);
    size_t i;
    json_t *ow;
    *version = 0;
    json_array_foreach(json_object_get(status, "owners"), i, ow)
    {
        if (!strcmp(str(ow, "owner"), "hq"))
            *version =
                json_integer_value(json_object_get(json_object_get(ow, "active"), "version"));
    }
    json_decref(status);
    if (rc)
        return rc;
    if (!*version) {
        fprintf(stderr, "ltcctl: the daemon has no active HQ version\n");
        return 1;
    }
    char path[64];
    snprintf(path, sizeof path, "/v1/rules/hq/versions/%lld", *version);
    if ((rc = get_json(o, path, &v)))
        return rc;
    *files = json_incref(json_object_get(v, "files"));
    json_decref(v);
    if (!json_is_object(*files)) {
        json_decref(*files);
        fprintf(stderr, "ltcctl: %s gave no files\n", path);
        return 1;
    }
    return 0;
}

/* Evaluate each line of 'path' (a lead body a line; blank lines skipped). */
static int test_leads(const struct opts *o, struct rules_offline *off, const char *path,
                      json_t *out, int *evaluated, int *failed)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        fprintf(stderr, "ltcctl: cannot read %s\n", path);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    for (int no = 1; (len = getline(&line, &cap, f)) >= 0; no++) {
        size_t k = 0;
        while (k < (size_t)len && strchr(" \t\r\n", line[k]))
            k++;
        if (k == (size_t)len)
            continue;
        json_error_t jerr;
        struct err_detail why = {0};
        json_t *ev = NULL;
        json_t *body = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
        int rc = body ? rules_offline_evaluate(off, body, &ev, &why)
                      : err_set(&why, -ERR_INVALID_JSON, "invalid JSON at column %d: %s",
                                jerr.column, jerr.text);
        json_decref(body);
        if (rc)
            (*failed)++;
        else
            (*evaluated)++;
        if (o->json) {
            json_t *j = json_pack("{s:s, s:i}", "file", path, "line", no);
            json_object_set_new(j, rc ? "error" : "evaluation",
                                rc ? json_string(why.msg) : json_incref(ev));
            json_array_append_new(out, j);
        } else if (rc) {
            printf("lead %s:%d: error: %s\n", path, no, why.msg);
        } else {
            printf("lead %s:%d: score %g, temperature %s, maturity %s, recommendation %s\n", path,
                   no, json_number_value(json_object_get(ev, "score")), str(ev, "temperature"),
                   str(ev, "maturity"), str(ev, "recommendation"));
        }
        json_decref(ev);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return 0;
}

static bool is_dir(const char *path)
{
    struct stat sb;
    return !stat(path, &sb) && S_ISDIR(sb.st_mode);
}

/* Whether DIR brings its own HQ: it is an hq directory, or a tree with one. */
static bool has_own_hq(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/hq", dir);
    if (is_dir(p))
        return true;
    char *real = realpath(dir, NULL);
    const char *base = real ? strrchr(real, '/') : NULL;
    bool hq = base && !strcmp(base + 1, "hq");
    free(real);
    return hq;
}

static int rules_test(const struct opts *o, int argc, char **argv)
{
    const char *dir = argv[0], *leads = NULL, *hq_dir = NULL, *owner = NULL;
    for (int k = 1; k < argc; k += 2) {
        const char *v = k + 1 < argc ? argv[k + 1] : NULL;
        if (v && !strcmp(argv[k], "--leads"))
            leads = v;
        else if (v && !strcmp(argv[k], "--hq"))
            hq_dir = v;
        else if (v && !strcmp(argv[k], "--owner"))
            owner = v;
        else {
            fprintf(stderr, "ltcctl: rules test: unexpected %s\n%s", argv[k], usage);
            return 2;
        }
    }
    if (!is_dir(dir) || (hq_dir && !is_dir(hq_dir))) {
        fprintf(stderr, "ltcctl: rules test: %s is not a directory\n", !is_dir(dir) ? dir : hq_dir);
        return 2;
    }
    log_init(LOG_TEXT, LOG_INFO); /* host.log lines of the rules, on stderr */
    struct test_out t = {.o = o, .tests = json_array()};
    struct rules_offline *off = NULL;
    if (rules_offline_new(print_test_error, &t, &off)) {
        fprintf(stderr, "ltcctl: out of memory\n");
        return 1;
    }
    int rc = 0;
    json_t *hq = NULL;
    long long hq_version = 0;
    if (hq_dir) {
        char p[4096];
        snprintf(p, sizeof p, "%s/hq", hq_dir);
        rules_offline_add_dir(off, is_dir(p) ? p : hq_dir, "hq", false);
    } else if (!has_own_hq(dir) && !(rc = fetch_hq(o, &hq, &hq_version))) {
        if (!o->json)
            printf("HQ rules: hq v%lld, active at %s\n", hq_version, o->url);
        rules_offline_add(off, "hq", hq, false);
    }
    json_decref(hq);
    if (rc) {
        rules_offline_free(off);
        json_decref(t.tests);
        return rc;
    }
    rules_offline_add_dir(off, dir, owner, true);
    struct rules_test_run run = {.cb = print_test_outcome, .ctx = &t, .all = true};
    int evaluated = 0, lead_failed = 0;
    json_t *lead_out = json_array();
    /* Whatever did not validate is reported; the rest is tested all the same. */
    rules_offline_test(off, &run);
    if (leads)
        rc = test_leads(o, off, leads, lead_out, &evaluated, &lead_failed);
    rules_offline_free(off);
    if (rc) {
        json_decref(t.tests);
        json_decref(lead_out);
        return rc;
    }
    int passed = run.tests + run.samples - run.failed;
    if (o->json) {
        json_t *j = json_pack("{s:o, s:o, s:i, s:i, s:i, s:i, s:i}", "tests", t.tests, "leads",
                              lead_out, "bundle_errors", t.errors, "passed", passed, "failed",
                              run.failed, "evaluated", evaluated, "lead_errors", lead_failed);
        char *text = json_dumps(j, JSON_INDENT(2));
        printf("%s\n", text);
        free(text);
        json_decref(j);
    } else {
        json_decref(t.tests);
        json_decref(lead_out);
        if (t.errors)
            printf("bundles: %d error(s), see above; ", t.errors);
        printf("tests: %d passed, %d failed (tests.lua: %d, HQ samples: %d)", passed, run.failed,
               run.tests, run.samples);
        if (leads)
            printf("; leads: %d evaluated, %d failed", evaluated, lead_failed);
        printf("\n");
    }
    return t.errors || run.failed || lead_failed ? 1 : 0;
}

static const char *current_action = "";
static char current_kdp[16];

/* One or two lines on what an action did (the full instance: lead show). */
static void print_action(const json_t *i)
{
    printf("instance %lld: %s -> stage %s\n",
           (long long)json_integer_value(json_object_get(i, "id")), current_action,
           str(i, "stage"));
    const json_t *ms = json_object_get(i, "milestones");
    const json_t *c = json_object_get(i, "contract"), *cl = json_object_get(i, "closure");
    if (!strcmp(current_action, "decide")) {
        const json_t *g = json_object_get(json_object_get(i, "gates"), current_kdp);
        printf("  %s %s at %s level by %s\n", current_kdp, str(g, "outcome"), str(g, "level"),
               str(g, "decided_by"));
    } else if (!strcmp(current_action, "milestone") && json_array_size(ms)) {
        const json_t *m = json_array_get(ms, json_array_size(ms) - 1);
        long long a = (long long)json_integer_value(json_object_get(m, "amount"));
        printf("  %s %s %lld.%02lld on %s\n", str(m, "kind"), str(m, "ref"), a / 100, a % 100,
               str(m, "at"));
    } else if (!strcmp(current_action, "sign") && json_is_object(c)) {
        long long v = (long long)json_integer_value(json_object_get(c, "value"));
        printf("  contract %lld.%02lld %s signed %s, net %lld days\n", v / 100, v % 100,
               str(c, "currency"), str(c, "signed_at"),
               (long long)json_integer_value(json_object_get(c, "net_days")));
    } else if (!strcmp(current_action, "close") && json_is_object(cl)) {
        printf("  %s: %s", str(cl, "outcome"), str(cl, "reason"));
        if (json_is_integer(json_object_get(cl, "dso")))
            printf(" (DSO %lld days)", (long long)json_integer_value(json_object_get(cl, "dso")));
        printf("\n");
    } else if (!strcmp(current_action, "assign")) {
        const json_t *t = json_object_get(i, "team");
        printf("  team: AR %s, SR %s, FR %s\n", str(t, "ar"), str(t, "sr"), str(t, "fr"));
    } else if (!strcmp(current_action, "reevaluate")) {
        print_instance(i);
    }
}

/* POST an action built from KEY=VALUE arguments. */
static int act(const struct opts *o, const char *id, const char *action, int argc, char **argv)
{
    json_t *body = json_pack("{s:s}", "action", action);
    for (int k = 0; k < argc; k++) {
        const char *eq = strchr(argv[k], '=');
        if (!eq || eq == argv[k]) {
            fprintf(stderr, "ltcctl: expected KEY=VALUE, got '%s'\n", argv[k]);
            json_decref(body);
            return 2;
        }
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(eq - argv[k]), argv[k]);
        json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
        json_object_set_new(body, key, v ? v : json_string(eq + 1));
        if (!strcmp(key, "kdp"))
            snprintf(current_kdp, sizeof current_kdp, "%s", eq + 1);
    }
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    char path[256];
    snprintf(path, sizeof path, "/v1/instances/%s/actions", id);
    struct buf b = {0};
    long st = request(o, "POST", path, text, strlen(text), NULL, &b);
    free(text);
    current_action = action;
    return finish(o, st, &b, print_action);
}

static void print_rules(const json_t *body)
{
    size_t i;
    json_t *o;
    printf("%-22s %-8s %-14s %-10s %s\n", "OWNER", "ACTIVE", "HASH", "PENDING", "LAST ERROR");
    json_array_foreach(json_object_get(body, "owners"), i, o)
    {
        const json_t *a = json_object_get(o, "active");
        char pend[64] = "-";
        size_t k, off = 0;
        json_t *p;
        json_array_foreach(json_object_get(o, "pending"), k, p) off +=
            (size_t)snprintf(pend + off, sizeof pend - off, "%sv%lld", k ? "," : "",
                             (long long)json_integer_value(json_object_get(p, "version")));
        char act[16] = "-";
        if (json_is_object(a))
            snprintf(act, sizeof act, "v%lld",
                     (long long)json_integer_value(json_object_get(a, "version")));
        const json_t *e = json_object_get(o, "last_error");
        printf("%-22s %-8s %-14.12s %-10s %s\n", str(o, "owner"), act,
               json_is_object(a) ? str(a, "hash") : "-", pend,
               json_is_object(e) ? str(e, "message") : "");
    }
}

/* Print the outcome; returns the process exit code. */
static int finish(const struct opts *o, long status, struct buf *b, void (*pretty)(const json_t *))
{
    if (status == 0)
        return 3;
    json_t *body = json_loads(b->p ? b->p : "", JSON_DECODE_ANY, NULL);
    int rc = status >= 400;
    if (o->json || !body) {
        printf("%s\n", b->p ? b->p : "");
    } else if (rc && (!pretty || json_object_get(body, "error"))) {
        const json_t *e = json_object_get(body, "error");
        fprintf(stderr, "ltcctl: %ld %s: %s\n", status, str(e, "code"), str(e, "message"));
        if (status == 401)
            fprintf(stderr, "ltcctl: the token was refused; set --token or LTC_TOKEN\n");
    } else if (pretty) {
        pretty(body);
    } else {
        char *s = json_dumps(body, JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
    }
    json_decref(body);
    free(b->p);
    return rc;
}

static void pretty_list(const json_t *body)
{
    size_t i;
    json_t *x;
    printf("%s", header);
    json_array_foreach(json_object_get(body, "instances"), i, x) print_instance_row(x);
    const json_t *next = json_object_get(body, "next");
    if (json_is_integer(next))
        printf("(more: --after %lld)\n", (long long)json_integer_value(next));
}

static void pretty_events(const json_t *body)
{
    size_t i;
    json_t *e;
    printf("%-4s %-24s %-26s %-12s %s\n", "SEQ", "AT", "ACTOR", "ACTION", "RULES");
    json_array_foreach(json_object_get(body, "events"), i, e)
    {
        char *rules = json_dumps(json_object_get(e, "rules"), JSON_COMPACT);
        printf("%-4lld %-24s %-26s %-12s %s\n",
               (long long)json_integer_value(json_object_get(e, "seq")), str(e, "at"),
               str(e, "actor"), str(e, "action"), rules ? rules : "");
        free(rules);
    }
}

static void pretty_health(const json_t *b)
{
    printf("ltcd %s: %s (schema %lld)\n", str(b, "version"), str(b, "status"),
           (long long)json_integer_value(json_object_get(b, "schema")));
    if (json_object_get(b, "reason"))
        printf("  since %s: %s\n", str(b, "since"), str(b, "reason"));
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f)
        return NULL;
    struct buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        on_data(chunk, 1, n, &b);
    if (f != stdin)
        fclose(f);
    *len = b.n;
    return b.p ? b.p : strdup("");
}

/* A number typed on the command line goes to the daemon as written, for it
 * to check in full: an integer literal as a JSON integer, anything else as
 * text, which the daemon refuses naming the field. Never atoll: "12abc" is
 * not 12, and 2^64 is not 2^63 - 1. */
static json_t *arg_number(const char *v)
{
    json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
    if (json_is_integer(j))
        return j;
    json_decref(j);
    return json_string(v);
}

static int lead_create(const struct opts *o, int argc, char **argv)
{
    char *body = NULL;
    size_t len = 0;
    if (argc == 1 && argv[0][0] != '-') {
        body = read_all(argv[0], &len);
    } else if (argc == 1 && !strcmp(argv[0], "-")) {
        body = read_all("-", &len);
    } else {
        json_t *j =
            json_pack("{s:{s:s}, s:o}", "budget", "status", "none", "signals", json_object());
        for (int i = 0; i + 1 < argc; i += 2) {
            const char *f = argv[i], *v = argv[i + 1];
            if (!strcmp(f, "--office") || !strcmp(f, "--customer") || !strcmp(f, "--title") ||
                !strcmp(f, "--source"))
                json_object_set_new(j, f + 2, json_string(v));
            else if (!strcmp(f, "--amount"))
                json_object_set_new(json_object_get(j, "budget"), "amount", arg_number(v));
            else if (!strcmp(f, "--budget"))
                json_object_set_new(json_object_get(j, "budget"), "status", json_string(v));
            else if (!strcmp(f, "--horizon"))
                json_object_set_new(j, "horizon_months", arg_number(v));
            else if (!strcmp(f, "--signal") && strchr(v, '=')) {
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)(strchr(v, '=') - v), v);
                json_object_set_new(json_object_get(j, "signals"), name,
                                    arg_number(strchr(v, '=') + 1));
            } else {
                fprintf(stderr, "ltcctl: lead create: unknown option %s\n%s", f, usage);
                json_decref(j);
                return 2;
            }
        }
        if (!json_object_get(json_object_get(j, "budget"), "amount"))
            json_object_set_new(json_object_get(j, "budget"), "amount", json_integer(0));
        body = json_dumps(j, JSON_COMPACT);
        len = body ? strlen(body) : 0;
        json_decref(j);
    }
    if (!body) {
        fprintf(stderr, "ltcctl: cannot read %s\n", argv[0]);
        return 2;
    }
    struct buf b = {0};
    long st = request(o, "POST", "/v1/leads", body, len, NULL, &b);
    free(body);
    return finish(o, st, &b, print_instance);
}

/* PUT (src != NULL) or DELETE of one file, built on 'base' (NULL: the newest). */
static int rules_put(const struct opts *o, const char *owner, const char *file, const char *path,
                     const char *base)
{
    size_t len = 0;
    char *src = path ? read_all(path, &len) : NULL;
    if (path && !src) {
        fprintf(stderr, "ltcctl: cannot read %s\n", path);
        return 2;
    }
    char url[512];
    snprintf(url, sizeof url, "/v1/rules/%s/%s%s%s", owner, file, base ? "?base=" : "",
             base ? base : "");
    struct buf b = {0};
    long st = path ? request(o, "PUT", url, src, len, "text/x-lua", &b)
                   : request(o, "DELETE", url, NULL, 0, NULL, &b);
    free(src);
    if (st && st < 400 && !o->json) {
        json_t *j = json_loads(b.p, 0, NULL);
        const json_t *on = json_object_get(j, "base");
        printf("%s %s: version %lld %s", owner, file,
               (long long)json_integer_value(json_object_get(j, "version")), str(j, "status"));
        if (json_is_integer(on))
            printf(" (built on v%lld)", (long long)json_integer_value(on));
        printf("\n");
        json_decref(j);
        free(b.p);
        return 0;
    }
    return finish(o, st, &b, NULL);
}

/* Colour for the diff and version views: only on a terminal, never with NO_COLOR. */
static int use_colour;
#define C_RED   "\033[31m"
#define C_GREEN "\033[32m"
#define C_CYAN  "\033[36m"
#define C_BOLD  "\033[1m"
#define C_OFF   "\033[0m"

/* One file's diff: its two header lines, then hunks (where a removed
 * "-- comment" line starts with "---" too). */
static void print_diff_text(const char *d)
{
    int in_hunk = 0;
    while (*d) {
        size_t n = strcspn(d, "\n");
        const char *c = NULL;
        if (!strncmp(d, "@@ ", 3)) {
            c = C_CYAN;
            in_hunk = 1;
        } else if (!in_hunk) {
            c = C_BOLD;
        } else if (*d == '-') {
            c = C_RED;
        } else if (*d == '+') {
            c = C_GREEN;
        }
        if (use_colour && c)
            printf("%s%.*s%s\n", c, (int)n, d, C_OFF);
        else
            printf("%.*s\n", (int)n, d);
        d += n + (d[n] == '\n');
    }
}

/* GET .../diff: a summary line, then every changed file's unified diff. */
static void print_diff(const json_t *r)
{
    const json_t *from = json_object_get(r, "from");
    int counts[4] = {0};
    static const char *const kinds[] = {"changed", "added", "removed", "same"};
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(r, "files"), i, f)
    {
        for (int k = 0; k < 4; k++)
            counts[k] += !strcmp(str(f, "status"), kinds[k]);
    }
    char against[32] = "an empty bundle (nothing active)";
    if (json_is_integer(from))
        snprintf(against, sizeof against, "v%lld", (long long)json_integer_value(from));
    printf("%s v%lld against %s: %d changed, %d added, %d removed, %d same\n", str(r, "owner"),
           (long long)json_integer_value(json_object_get(r, "to")), against, counts[0], counts[1],
           counts[2], counts[3]);
    json_array_foreach(json_object_get(r, "files"), i, f)
    {
        if (!strcmp(str(f, "status"), "same"))
            continue;
        if (json_is_true(json_object_get(f, "approximate")))
            printf("(%s: too different for a minimal diff; shown as one replacement)\n",
                   str(f, "file"));
        print_diff_text(str(f, "diff"));
    }
}

/* GET .../versions/V: a header line, then each file's source under its name. */
static void print_version(const json_t *v)
{
    char base[24] = "none";
    if (json_is_integer(json_object_get(v, "base")))
        snprintf(base, sizeof base, "v%lld",
                 (long long)json_integer_value(json_object_get(v, "base")));
    printf("%s v%lld: %s, origin %s, built on %s, hash %.12s, created %s by %s\n", str(v, "owner"),
           (long long)json_integer_value(json_object_get(v, "version")), str(v, "status"),
           str(v, "origin"), base, str(v, "hash"), str(v, "created_at"), str(v, "created_by"));
    const json_t *files = json_object_get(v, "files");
    const char *names[256];
    size_t n = 0;
    const char *name;
    json_t *src;
    json_object_foreach((json_t *)files, name, src)
    {
        if (n < 256)
            names[n++] = name;
    }
    qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_object_get(files, names[i]);
        size_t len = json_string_length(t);
        const char *text = json_string_value(t);
        printf("\n%s==> %s <==%s\n", use_colour ? C_BOLD : "", names[i], use_colour ? C_OFF : "");
        fwrite(text ? text : "", 1, len, stdout);
        if (len && text[len - 1] != '\n')
            printf("\n");
    }
}

static void print_versions(const json_t *r)
{
    printf("%-8s %-11s %-6s %-6s %-14s %-24s %s\n", "VERSION", "STATUS", "ORIGIN", "BASE", "HASH",
           "CREATED", "BY");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(r, "versions"), i, v)
    {
        char ver[16], base[16] = "-";
        snprintf(ver, sizeof ver, "v%lld",
                 (long long)json_integer_value(json_object_get(v, "version")));
        if (json_is_integer(json_object_get(v, "base")))
            snprintf(base, sizeof base, "v%lld",
                     (long long)json_integer_value(json_object_get(v, "base")));
        printf("%-8s %-11s %-6s %-6s %-14.12s %-24s %s\n", ver, str(v, "status"), str(v, "origin"),
               base, str(v, "hash"), str(v, "created_at"), str(v, "created_by"));
    }
}

/* rules put|rm OWNER FILE [PATH] [--base V]: the path (put) and the base. */
static int put_args(int n, char **a, int put, const char **path, const char **base)
{
    *path = put ? a[3] : NULL;
    *base = NULL;
    for (int k = 4; k < n; k++) {
        if (!strcmp(a[k], "--base") && k + 1 < n)
            *base = a[++k];
        else if (put && *path == a[3] && strncmp(a[k], "--", 2))
            *path = a[k];
        else
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {getenv("LTC_URL"), getenv("LTC_TOKEN"), 0};
    if (!o.url)
        o.url = "http://127.0.0.1:8080";
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (!strcmp(argv[i], "--json"))
            o.json = 1;
        else if (!strcmp(argv[i], "--url") && i + 1 < argc)
            o.url = argv[++i];
        else if (!strcmp(argv[i], "--token") && i + 1 < argc)
            o.token = argv[++i];
        else if (!strcmp(argv[i], "--help")) {
            fputs(usage, stdout);
            return 0;
        } else {
            fprintf(stderr, "ltcctl: unknown option %s\n%s", argv[i], usage);
            return 2;
        }
    }
    int n = argc - i;
    char **a = argv + i;
    char path[1024];
    struct buf b = {0};
    curl_global_init(CURL_GLOBAL_DEFAULT);
#define IS(k, s) (n > (k) && !strcmp(a[k], s))
    if (IS(0, "health"))
        return finish(&o, request(&o, "GET", "/health", NULL, 0, NULL, &b), &b, pretty_health);
    if (IS(0, "lead") && IS(1, "create") && n >= 3)
        return lead_create(&o, n - 2, a + 2);
    if (IS(0, "lead") && IS(1, "show") && n == 3) {
        snprintf(path, sizeof path, "/v1/instances/%s", a[2]);
        return finish(&o, request(&o, "GET", path, NULL, 0, NULL, &b), &b, print_instance);
    }
    if (IS(0, "lead") && IS(1, "list")) {
        size_t off = (size_t)snprintf(path, sizeof path, "/v1/instances?");
        for (int k = 2; k + 1 < n; k += 2)
            off += (size_t)snprintf(path + off, sizeof path - off, "%s=%s&", a[k] + 2, a[k + 1]);
        return finish(&o, request(&o, "GET", path, NULL, 0, NULL, &b), &b, pretty_list);
    }
    if (IS(0, "events") && n == 2) {
        snprintf(path, sizeof path, "/v1/instances/%s/events", a[1]);
        return finish(&o, request(&o, "GET", path, NULL, 0, NULL, &b), &b, pretty_events);
    }
    static const char *const verbs[] = {"reevaluate", "review",    "assign", "decide",
                                        "sign",       "milestone", "close",  NULL};
    for (const char *const *v = verbs; n >= 2 && *v; v++)
        if (!strcmp(a[0], *v))
            return act(&o, a[1], a[0], n - 2, a + 2);
    if (IS(0, "act") && n >= 3)
        return act(&o, a[1], a[2], n - 3, a + 3);
    if (IS(0, "document") && n == 3) {
        snprintf(path, sizeof path, "/v1/instances/%s/documents/%s", a[1], a[2]);
        long st = request(&o, "GET", path, NULL, 0, NULL, &b);
        if (st == 200) {
            printf("%s\n", b.p ? b.p : "");
            free(b.p);
            return 0;
        }
        return finish(&o, st, &b, print_text);
    }
    if (IS(0, "receivables") && (n == 2 || n == 3)) {
        snprintf(path, sizeof path, "/v1/instances/%s/receivables%s%s", a[1],
                 n == 3 ? "?as_of=" : "", n == 3 ? a[2] : "");
        return finish(&o, request(&o, "GET", path, NULL, 0, NULL, &b), &b, print_receivables);
    }
    if (IS(0, "rules") && IS(1, "status"))
        return finish(&o, request(&o, "GET", "/v1/rules", NULL, 0, NULL, &b), &b, print_rules);
    if (IS(0, "rules") && (IS(1, "put") || IS(1, "rm")) && n >= 4) {
        const char *file_path, *base;
        if (!put_args(n, a, IS(1, "put"), &file_path, &base))
            return rules_put(&o, a[2], a[3], file_path, base);
    }
    if (IS(0, "rules") && IS(1, "push") && n == 4)
        return push_dir(&o, a[2], a[3]);
    if (IS(0, "rules") && IS(1, "sign") && n == 4)
        return sign_dir(a[2], a[3]);
    if (IS(0, "rules") && IS(1, "test") && n >= 3)
        return rules_test(&o, n - 2, a + 2);
    if (IS(0, "keygen") && n == 2)
        return keygen(a[1]);
    if (IS(0, "rules") && (IS(1, "approve") || IS(1, "reject")) && n >= 4) {
        snprintf(path, sizeof path, "/v1/rules/%s/versions/%s/%s", a[2], a[3], a[1]);
        json_t *j = json_pack("{s:s}", "reason", n >= 5 ? a[4] : "rejected");
        char *body = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        long st = request(&o, "POST", path, body, strlen(body), NULL, &b);
        free(body);
        return finish(&o, st, &b, NULL);
    }
    use_colour = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    if (IS(0, "rules") && IS(1, "versions") && n == 3) {
        snprintf(path, sizeof path, "/v1/rules/%s/versions", a[2]);
        return finish(&o, request(&o, "GET", path, NULL, 0, NULL, &b), &b, print_versions);
    }
    if (IS(0, "rules") && IS(1, "show") && n == 3 && strchr(a[2], '@')) { /* OWNER@VERSION */
        snprintf(path, sizeof path, "/v1/rules/%.*s/versions/%s", (int)(strchr(a[2], '@') - a[2]),
                 a[2], strchr(a[2], '@') + 1);
        return finish(&o, request(&o, "GET", path, NULL, 0, NULL, &b), &b, print_version);
    }
    if (IS(0, "rules") && IS(1, "show") && n == 4) {
        snprintf(path, sizeof path, "/v1/rules/%s/versions/%s", a[2], a[3]);
        return finish(&o, request(&o, "GET", path, NULL, 0, NULL, &b), &b, print_version);
    }
    if (IS(0, "rules") && IS(1, "diff") && (n == 4 || n == 5)) {
        snprintf(path, sizeof path, "/v1/rules/%s/versions/%s/diff%s%s", a[2], a[3],
                 n == 5 ? "?against=" : "", n == 5 ? a[4] : "");
        return finish(&o, request(&o, "GET", path, NULL, 0, NULL, &b), &b, print_diff);
    }
    if (IS(0, "rules") && IS(1, "simulate") && n >= 4) {
        json_t *body = json_object();
        for (int k = 4; k < n; k++) {
            const char *eq = strchr(a[k], '=');
            if (!eq)
                continue;
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)(eq - a[k]), a[k]);
            json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
            json_object_set_new(body, key, v ? v : json_string(eq + 1));
        }
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        snprintf(path, sizeof path, "/v1/rules/%s/versions/%s/simulate", a[2], a[3]);
        long st = request(&o, "POST", path, text, strlen(text), NULL, &b);
        free(text);
        return finish(&o, st, &b, print_simulation);
    }
    if (IS(0, "rules") && IS(1, "shadow") && (n == 4 || (n == 6 && !strcmp(a[4], "--hours")))) {
        snprintf(path, sizeof path, "/v1/rules/%s/versions/%s/shadow", a[2], a[3]);
        if (n == 4)
            return finish(&o, request(&o, "GET", path, NULL, 0, NULL, &b), &b, print_shadow);
        json_t *body = json_pack("{s:o}", "hours", arg_number(a[5]));
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        long st = request(&o, "POST", path, text, strlen(text), NULL, &b);
        free(text);
        return finish(&o, st, &b, print_shadow);
    }
    if (IS(0, "rules") && IS(1, "rollback") && n == 3) {
        snprintf(path, sizeof path, "/v1/rules/%s/rollback", a[2]);
        return finish(&o, request(&o, "POST", path, "", 0, NULL, &b), &b, NULL);
    }
    if (IS(0, "rules") && IS(1, "events") && n == 3) {
        snprintf(path, sizeof path, "/v1/rules/%s/events", a[2]);
        return finish(&o, request(&o, "GET", path, NULL, 0, NULL, &b), &b, print_rule_events);
    }
    if (IS(0, "shares") && IS(1, "run") && n == 4) {
        json_t *body = json_pack("{s:s, s:o}", "period", a[2], "pool", arg_number(a[3]));
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        long st = request(&o, "POST", "/v1/shares/runs", text, strlen(text), NULL, &b);
        free(text);
        return finish(&o, st, &b, print_run);
    }
    if (IS(0, "shares") && IS(1, "show") && n == 3) {
        snprintf(path, sizeof path, "/v1/shares/runs/%s", a[2]);
        return finish(&o, request(&o, "GET", path, NULL, 0, NULL, &b), &b, print_run);
    }
    if (IS(0, "targets") && IS(1, "set") && n == 6) {
        json_t *body = json_pack("{s:s, s:o}", "metric", a[4], "amount", arg_number(a[5]));
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        snprintf(path, sizeof path, "/v1/targets/%s/%s", a[2], a[3]);
        long st = request(&o, "PUT", path, text, strlen(text), NULL, &b);
        free(text);
        return finish(&o, st, &b, NULL);
    }
    if (IS(0, "targets") && IS(1, "show") && (n == 3 || n == 4)) {
        snprintf(path, sizeof path, "/v1/targets?period=%s&metric=%s", a[2],
                 n == 4 ? a[3] : "orders");
        return finish(&o, request(&o, "GET", path, NULL, 0, NULL, &b), &b, print_targets);
    }
    if (IS(0, "rules") && IS(1, "reload"))
        return finish(&o, request(&o, "POST", "/v1/rules/reload", "", 0, NULL, &b), &b, NULL);
#undef IS
    fputs(usage, stderr);
    return 2;
}
