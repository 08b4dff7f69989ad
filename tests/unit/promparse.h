/* tests/unit/promparse.h: a strict parser of the Prometheus text format
 * (0.0.4) for the tests: every line is a # HELP, a # TYPE (before its
 * samples, once per family) or a sample `name{label="value",...} number`;
 * names and label names are valid; counters are whole and not negative;
 * histogram buckets are cumulative with increasing le, end with +Inf, and
 * _count equals the +Inf bucket. Returns 0, or -1 with a message. */
#ifndef PROMPARSE_H
#define PROMPARSE_H

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct prom_family {
    char name[128], type[16];
    int samples;
};

static int prom_name_ok(const char *s, size_t n)
{
    if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
            return 0;
    return 1;
}

/* Parse the labels at *p (after '{'); returns the le value or NAN, and the
 * label text without le into key (for grouping). */
static int prom_labels(const char **p, char *key, size_t keyn, double *le, char *err, size_t errn)
{
    const char *s = *p;
    size_t k = 0;
    *le = NAN;
    key[0] = '\0';
    while (*s && *s != '}') {
        const char *name = s;
        while (*s && *s != '=')
            s++;
        if (!prom_name_ok(name, (size_t)(s - name)) || s[0] != '=' || s[1] != '"') {
            snprintf(err, errn, "bad label name or '=\"'");
            return -1;
        }
        size_t nlen = (size_t)(s - name);
        s += 2;
        char value[256];
        size_t v = 0;
        while (*s && *s != '"') {
            if (*s == '\\') {
                s++;
                if (*s != '\\' && *s != '"' && *s != 'n') {
                    snprintf(err, errn, "bad escape in label value");
                    return -1;
                }
            }
            if (v + 1 < sizeof value)
                value[v++] = *s;
            s++;
        }
        value[v] = '\0';
        if (*s != '"') {
            snprintf(err, errn, "unterminated label value");
            return -1;
        }
        s++;
        if (nlen == 2 && !strncmp(name, "le", 2))
            *le = !strcmp(value, "+Inf") ? INFINITY : strtod(value, NULL);
        else
            k += (size_t)snprintf(key + k, keyn - k, "%.*s=%s;", (int)nlen, name, value);
        if (*s == ',')
            s++;
        else if (*s != '}') {
            snprintf(err, errn, "expected ',' or '}'");
            return -1;
        }
    }
    if (*s != '}') {
        snprintf(err, errn, "unterminated labels");
        return -1;
    }
    *p = s + 1;
    return 0;
}

static int prom_check(const char *text, char *err, size_t errn)
{
    struct prom_family fam[256];
    int nf = 0, cur = -1, lineno = 0;
    double last_le = -INFINITY, last_bucket = -1, inf_bucket = -1;
    char hist_key[512] = "";
    const char *line = text;
    while (*line) {
        const char *end = strchr(line, '\n');
        if (!end) {
            snprintf(err, errn, "last line has no newline");
            return -1;
        }
        lineno++;
        char buf[1024];
        size_t n = (size_t)(end - line);
        if (n >= sizeof buf) {
            snprintf(err, errn, "line %d too long", lineno);
            return -1;
        }
        memcpy(buf, line, n);
        buf[n] = '\0';
        line = end + 1;
        if (!strncmp(buf, "# HELP ", 7))
            continue;
        if (!strncmp(buf, "# TYPE ", 7)) {
            char name[128], type[16];
            if (sscanf(buf + 7, "%127s %15s", name, type) != 2 ||
                (strcmp(type, "counter") && strcmp(type, "gauge") && strcmp(type, "histogram") &&
                 strcmp(type, "summary") && strcmp(type, "untyped"))) {
                snprintf(err, errn, "line %d: bad TYPE", lineno);
                return -1;
            }
            for (int i = 0; i < nf; i++)
                if (!strcmp(fam[i].name, name)) {
                    snprintf(err, errn, "line %d: TYPE of %s declared twice", lineno, name);
                    return -1;
                }
            if (nf == 256)
                return -1;
            snprintf(fam[nf].name, sizeof fam[nf].name, "%s", name);
            snprintf(fam[nf].type, sizeof fam[nf].type, "%s", type);
            fam[nf].samples = 0;
            cur = nf++;
            continue;
        }
        if (buf[0] == '#' || !buf[0]) {
            snprintf(err, errn, "line %d: stray comment or blank line", lineno);
            return -1;
        }
        const char *p = buf;
        while (*p && *p != '{' && *p != ' ')
            p++;
        size_t nlen = (size_t)(p - buf);
        if (!prom_name_ok(buf, nlen)) {
            snprintf(err, errn, "line %d: bad metric name", lineno);
            return -1;
        }
        char key[512] = "";
        double le = NAN;
        if (*p == '{') {
            p++;
            if (prom_labels(&p, key, sizeof key, &le, err, errn))
                return -1;
        }
        if (*p != ' ') {
            snprintf(err, errn, "line %d: expected a space before the value", lineno);
            return -1;
        }
        char *vend;
        double v = strtod(p + 1, &vend);
        if (vend == p + 1 || (*vend && *vend != ' ')) {
            snprintf(err, errn, "line %d: bad value", lineno);
            return -1;
        }
        if (cur < 0) {
            snprintf(err, errn, "line %d: sample before any TYPE", lineno);
            return -1;
        }
        struct prom_family *f = &fam[cur];
        size_t fl = strlen(f->name);
        const char *suffix = buf + fl;
        if (strncmp(buf, f->name, fl)) {
            snprintf(err, errn, "line %d: sample of another family than %s", lineno, f->name);
            return -1;
        }
        f->samples++;
        if (!strcmp(f->type, "counter") && (v < 0 || v != floor(v))) {
            snprintf(err, errn, "line %d: counter not a whole number >= 0", lineno);
            return -1;
        }
        if (!strcmp(f->type, "histogram")) {
            if (!strncmp(suffix, "_bucket", 7)) {
                if (isnan(le)) {
                    snprintf(err, errn, "line %d: bucket without le", lineno);
                    return -1;
                }
                if (strcmp(key, hist_key)) {
                    snprintf(hist_key, sizeof hist_key, "%s", key);
                    last_le = -INFINITY;
                    last_bucket = -1;
                }
                if (le <= last_le || v < last_bucket) {
                    snprintf(err, errn, "line %d: buckets not cumulative", lineno);
                    return -1;
                }
                last_le = le;
                last_bucket = v;
                if (isinf(le))
                    inf_bucket = v;
            } else if (!strncmp(suffix, "_count", 6)) {
                if (v != inf_bucket) {
                    snprintf(err, errn, "line %d: _count differs from the +Inf bucket", lineno);
                    return -1;
                }
            } else if (strncmp(suffix, "_sum", 4)) {
                snprintf(err, errn, "line %d: unknown histogram series", lineno);
                return -1;
            }
        } else if (*suffix && *suffix != '{' && *suffix != ' ') {
            snprintf(err, errn, "line %d: sample name does not match its family", lineno);
            return -1;
        }
    }
    return 0;
}

#endif
