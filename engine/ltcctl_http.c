/* engine/ltcctl_http.c: requests to ltcd and what its answers print (see ltcctl.h). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ltcctl.h"

void ltcctl_buf_add(struct ltcctl_buf *b, const char *p, size_t n)
{
    char *g = realloc(b->p, b->n + n + 1);
    if (!g) {
        fprintf(stderr, "ltcctl: out of memory\n");
        exit(LTCCTL_ERROR);
    }
    b->p = g;
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    ltcctl_buf_add(ud, ptr, size * nmemb);
    return size * nmemb;
}

/* One exchange within 'timeout_ms'; *rc is curl's result (CURLE_OK when
 * the daemon answered, whose status is returned; 0 otherwise). */
static long perform(const struct ltcctl *o, const char *method, const char *path, const char *body,
                    size_t len, const char *ctype, long timeout_ms, struct ltcctl_buf *out,
                    CURLcode *rc)
{
    CURL *c = curl_easy_init();
    char url[4096], auth[1024], ct[128];
    /* http://host:8080/ names the same daemon as http://host:8080: no '//'. */
    size_t base = strlen(o->url);
    while (base && o->url[base - 1] == '/')
        base--;
    snprintf(url, sizeof url, "%.*s%s", (int)base, o->url, path);
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
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    long status = 0;
    *rc = curl_easy_perform(c);
    if (*rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

long ltcctl_request(const struct ltcctl *o, const char *method, const char *path, const char *body,
                    size_t len, const char *ctype, struct ltcctl_buf *out)
{
    CURLcode rc;
    long status = perform(o, method, path, body, len, ctype, LTCCTL_TIMEOUT_MS, out, &rc);
    if (rc != CURLE_OK)
        fprintf(stderr, "ltcctl: cannot reach ltcd at %s: %s\n", o->url, curl_easy_strerror(rc));
    return status;
}

long ltcctl_request_within(const struct ltcctl *o, const char *path, long timeout_ms,
                           struct ltcctl_buf *out, bool *timed_out)
{
    CURLcode rc;
    long status = perform(o, "GET", path, NULL, 0, NULL, timeout_ms, out, &rc);
    *timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    if (rc != CURLE_OK && !*timed_out)
        fprintf(stderr, "ltcctl: cannot reach ltcd at %s: %s\n", o->url, curl_easy_strerror(rc));
    return status;
}

/* details.items of a batch refused as a whole (a review meeting's 422
 * items_refused): every refused item, one a line. */
static void print_items(const json_t *items)
{
    fprintf(stderr, "  %-5s %-8s %-12s %-14s %s\n", "ITEM", "LEAD", "FIELD", "CODE", "MESSAGE");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        char lead[32];
        ltcctl_scalar(json_object_get(it, "instance"), lead, sizeof lead);
        const char *field = ltcctl_str(it, "field");
        fprintf(stderr, "  %-5lld %-8s %-12s %-14s %s\n", ltcctl_int_of(it, "index"), lead,
                *field ? field : "-", ltcctl_str(it, "code"), ltcctl_str(it, "message"));
    }
}

/* The error envelope (CONTRACT section 3) as one line, plus a hint for the
 * refusals whose fix is not in the message. */
static void print_error(long status, const json_t *body)
{
    const json_t *e = json_object_get(body, "error");
    fprintf(stderr, "ltcctl: %ld %s: %s\n", status, ltcctl_str(e, "code"),
            ltcctl_str(e, "message"));
    const json_t *d = json_object_get(e, "details");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)d, k, v)
    {
        if (!strcmp(k, "items") && json_is_array(v)) {
            print_items(v);
            continue;
        }
        char text[256];
        ltcctl_scalar(v, text, sizeof text);
        fprintf(stderr, "  %s: %s\n", k, text);
    }
    if (status == 401)
        fprintf(stderr, "ltcctl: the token was refused; set --token or LTC_TOKEN\n");
}

int ltcctl_finish(const struct ltcctl *o, long status, struct ltcctl_buf *b,
                  ltcctl_print_fn *pretty)
{
    if (status == 0) {
        free(b->p);
        return LTCCTL_UNREACHABLE;
    }
    json_t *body = json_loads(b->p ? b->p : "", JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    int rc = status >= 400 ? LTCCTL_ERROR : LTCCTL_OK;
    if (o->json || !body) {
        printf("%s\n", b->p ? b->p : "");
    } else if (rc) {
        print_error(status, body);
    } else if (pretty) {
        pretty(body);
    } else {
        char *s = json_dumps(body, JSON_INDENT(2));
        printf("%s\n", s ? s : "");
        free(s);
    }
    json_decref(body);
    free(b->p);
    b->p = NULL;
    return rc;
}

int ltcctl_call(const struct ltcctl *o, const char *method, const char *path, const json_t *body,
                ltcctl_print_fn *pretty)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct ltcctl_buf b = {0};
    /* A POST without a body still sends one, empty (Content-Length: 0). */
    const char *send = text ? text : (strcmp(method, "GET") ? "" : NULL);
    long st = ltcctl_request(o, method, path, send, text ? strlen(text) : 0, NULL, &b);
    free(text);
    return ltcctl_finish(o, st, &b, pretty);
}

int ltcctl_get_json(const struct ltcctl *o, const char *path, json_t **body)
{
    struct ltcctl_buf b = {0};
    long st = ltcctl_request(o, "GET", path, NULL, 0, NULL, &b);
    if (st != 200) {
        struct ltcctl quiet = *o;
        quiet.json = false; /* an error here is a message, not output */
        int rc = ltcctl_finish(&quiet, st, &b, NULL);
        return rc ? rc : LTCCTL_ERROR;
    }
    *body = json_loads(b.p ? b.p : "", JSON_ALLOW_NUL, NULL);
    free(b.p);
    return *body ? 0 : LTCCTL_ERROR;
}

bool ltcctl_query_add(char *buf, size_t n, const char *key, const char *val)
{
    size_t off = strlen(buf);
    int k = snprintf(buf + off, n - off, "%c%s=%s", strchr(buf, '?') ? '&' : '?', key, val);
    return k >= 0 && (size_t)k < n - off;
}

char *ltcctl_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    *len = 0;
    if (!f)
        return NULL;
    struct ltcctl_buf b = {0};
    char chunk[8192];
    size_t n;
    while (b.n <= max && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ltcctl_buf_add(&b, chunk, n);
    bool err = ferror(f);
    if (f != stdin)
        fclose(f);
    *len = b.n;
    if (err || b.n > max) {
        free(b.p);
        if (err)
            *len = 0;
        return NULL;
    }
    return b.p ? b.p : strdup("");
}
