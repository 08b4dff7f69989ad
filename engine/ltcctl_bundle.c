/* engine/ltcctl_bundle.c: local rule bundles: push, sign, keygen and the
 * offline tests of `rules test` (see ltcctl.h). */
#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lead.h"
#include "log.h"
#include "ltcctl.h"
#include "rules_tests.h"

static char pushed_owner[128];

/* "region/south bundle: version 3 pending (built on v2)" */
static void print_pushed(const json_t *j)
{
    const json_t *on = json_object_get(j, "base");
    printf("%s bundle: version %lld %s", pushed_owner, ltcctl_int_of(j, "version"),
           ltcctl_str(j, "status"));
    if (json_is_integer(on))
        printf(" (built on v%lld)", (long long)json_integer_value(on));
    printf("\n");
}

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
        char *src = ltcctl_read_file(path, LTCCTL_FILE_MAX, &len);
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

static int push_dir(const struct ltcctl *o, const char *owner, const char *dir)
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
    struct ltcctl_buf b = {0};
    long st = ltcctl_request(o, "POST", path, text, strlen(text), NULL, &b);
    free(text);
    return ltcctl_finish(o, st, &b, print_pushed);
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
    const struct ltcctl *o;
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
             ltcctl_str(ev, "temperature"), ltcctl_str(ev, "maturity"),
             ltcctl_str(ev, "recommendation"));
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

/* The daemon's active HQ version: its files (a new reference) and number. */
static int fetch_hq(const struct ltcctl *o, json_t **files, long long *version)
{
    json_t *status = NULL, *v = NULL;
    int rc = ltcctl_get_json(o, "/v1/rules", &status);
    size_t i;
    json_t *ow;
    *version = 0;
    json_array_foreach(json_object_get(status, "owners"), i, ow)
    {
        if (!strcmp(ltcctl_str(ow, "owner"), "hq"))
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
    if ((rc = ltcctl_get_json(o, path, &v)))
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
static int test_leads(const struct ltcctl *o, struct rules_offline *off, const char *path,
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
                   no, json_number_value(json_object_get(ev, "score")),
                   ltcctl_str(ev, "temperature"), ltcctl_str(ev, "maturity"),
                   ltcctl_str(ev, "recommendation"));
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

int ltcctl_rules_test(const struct ltcctl *o, const struct ltcctl_args *a)
{
    const char *dir = a->pos[0], *leads = ltcctl_opt(a, "--leads"), *hq_dir = ltcctl_opt(a, "--hq"),
               *owner = ltcctl_opt(a, "--owner");
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

int ltcctl_rules_push(const struct ltcctl *o, const struct ltcctl_args *a)
{
    const char *owner = a->pos[0];
    bool unit = !strncmp(owner, "region/", 7) || !strncmp(owner, "office/", 7);
    if (strcmp(owner, "hq") && !(unit && lead_valid_id(owner + 7)))
        return ltcctl_usage(a->verb, "OWNER: '%.60s' is not hq, region/ID or office/ID", owner);
    snprintf(pushed_owner, sizeof pushed_owner, "%s", owner);
    return push_dir(o, owner, a->pos[1]);
}

int ltcctl_rules_sign(const struct ltcctl *o, const struct ltcctl_args *a)
{
    (void)o;
    return sign_dir(a->pos[0], a->pos[1]);
}

int ltcctl_keygen(const struct ltcctl *o, const struct ltcctl_args *a)
{
    (void)o;
    return keygen(a->pos[0]);
}
