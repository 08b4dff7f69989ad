/* engine/rules_bounds.c: relations between bounded values, declared by HQ's
 * bounds.lua `relations` (see rules_internal.h): the declaration's own check
 * when an HQ version loads, and a lower layer's values checked against it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rules_internal.h"

static const char *const sections[] = {"thresholds", "authority", "share", NULL};
static const char *const relation_keys[] = {"sum", "total", NULL};

/* The value at dotted 'path' below 'o' (borrowed), or NULL. */
static const json_t *path_get(const json_t *o, const char *path)
{
    char seg[RULES_RELATION_PATH_MAX];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n == 0 || n >= sizeof seg)
            return NULL;
        memcpy(seg, path, n);
        seg[n] = '\0';
        o = json_object_get(rules__as_object(o), seg);
        path += n + (path[n] == '.');
    }
    return o;
}

/* "share.triangle.ar" -> section "share" (copied into sec), "triangle.ar". */
static const char *split_section(const char *field, char *sec, size_t n)
{
    size_t len = strcspn(field, ".");
    snprintf(sec, n, "%.*s", (int)len, field);
    return field[len] ? field + len + 1 : field + len;
}

static int check_one_decl(const json_t *bounds, const json_t *rel, size_t i, struct err_detail *why)
{
    const char *F = "hq/bounds.lua: relations";
    const char *k;
    json_t *x;
    if (!json_is_object(rel))
        return err_field(why, -ERR_RULE_REJECTED, "relations",
                         "%s[%zu]: expected { sum = { FIELD, ... }, total = N }", F, i);
    json_object_foreach((json_t *)rel, k, x)
    {
        if (!rules__in_list(relation_keys, k))
            return err_field(why, -ERR_RULE_REJECTED, "relations",
                             "%s[%zu]: unknown key '%.40s' (a relation is { sum = { FIELD, ... }, "
                             "total = N })",
                             F, i, k);
    }
    const json_t *sum = json_object_get(rel, "sum"), *total = json_object_get(rel, "total");
    size_t n = json_array_size(sum);
    if (!json_is_array(sum) || n < 2 || n > RULES_RELATION_FIELDS_MAX)
        return err_field(why, -ERR_RULE_REJECTED, "relations",
                         "%s[%zu].sum: expected a list of 2 to %d field names", F, i,
                         RULES_RELATION_FIELDS_MAX);
    if (!json_is_number(total) || !isfinite(json_number_value(total)))
        return err_field(why, -ERR_RULE_REJECTED, "relations", "%s[%zu].total: expected a number",
                         F, i);
    char first[32] = "";
    for (size_t j = 0; j < n; j++) {
        const json_t *f = json_array_get(sum, j);
        const char *name = json_string_value(f);
        if (!name || !name[0] || strlen(name) >= RULES_RELATION_PATH_MAX)
            return err_field(why, -ERR_RULE_REJECTED, "relations",
                             "%s[%zu].sum[%zu]: expected a field name such as "
                             "\"share.triangle.ar\"",
                             F, i, j + 1);
        char sec[32];
        const char *rest = split_section(name, sec, sizeof sec);
        const json_t *leaf = rest[0] ? path_get(json_object_get(bounds, sec), rest) : NULL;
        if (!rules__in_list(sections, sec) || !json_is_object(leaf) ||
            (!json_object_get(leaf, "min") && !json_object_get(leaf, "max")))
            return err_field(why, -ERR_RULE_REJECTED, "relations",
                             "%s[%zu].sum[%zu]: '%.60s' names no bounded value (SECTION.FIELD "
                             "with a { min, max } bound; SECTION is thresholds, authority or "
                             "share)",
                             F, i, j + 1, name);
        if (j == 0)
            snprintf(first, sizeof first, "%s", sec);
        else if (strcmp(first, sec))
            return err_field(why, -ERR_RULE_REJECTED, "relations",
                             "%s[%zu].sum: '%.60s' is not in '%s': a relation's fields lie in one "
                             "section (one file)",
                             F, i, name, first);
        for (size_t m = 0; m < j; m++)
            if (!strcmp(json_string_value(json_array_get(sum, m)), name))
                return err_field(why, -ERR_RULE_REJECTED, "relations", "%s[%zu].sum: '%.60s' twice",
                                 F, i, name);
    }
    return 0;
}

/* Check one relation on 'value' (completed from 'defaults'); 1 when it does
 * not apply (value gives none of its fields), 0 when it holds, or an error. */
static int check_one(const json_t *rel, const json_t *value, const json_t *defaults,
                     const char *file, struct err_detail *why)
{
    const json_t *sum = json_object_get(rel, "sum");
    double total = json_number_value(json_object_get(rel, "total")), got = 0;
    char text[ERR_DETAIL_MAX] = "";
    size_t off = 0, given = 0;
    const char *missing = NULL;
    for (size_t j = 0; j < json_array_size(sum); j++) {
        char sec[32];
        const char *rest =
            split_section(json_string_value(json_array_get(sum, j)), sec, sizeof sec);
        const json_t *v = path_get(value, rest);
        bool from_default = !v;
        if (!v)
            v = path_get(defaults, rest);
        given += !from_default;
        if (!json_is_number(v)) {
            missing = missing ? missing : rest;
            continue;
        }
        got += json_number_value(v);
        if (off < sizeof text)
            off += (size_t)snprintf(text + off, sizeof text - off, "%s%s", j ? " + " : "", rest);
        if (from_default && off < sizeof text)
            off += (size_t)snprintf(text + off, sizeof text - off, " (HQ default %.15g)",
                                    json_number_value(v));
    }
    if (!given)
        return 1;
    char fields[ERR_DETAIL_MAX] = "", sec[32];
    for (size_t j = 0, o = 0; j < json_array_size(sum) && o < sizeof fields; j++)
        o += (size_t)snprintf(
            fields + o, sizeof fields - o, "%s%s", j ? " + " : "",
            split_section(json_string_value(json_array_get(sum, j)), sec, sizeof sec));
    if (missing)
        return err_field(why, -ERR_RULE_REJECTED, missing,
                         "%s: %s is missing and HQ has no default for it; HQ requires %s = %.15g",
                         file, missing, fields, total);
    if (fabs(got - total) <= 1e-9 * fmax(1.0, fabs(total)))
        return 0;
    const char *field = split_section(json_string_value(json_array_get(sum, 0)), sec, sizeof sec);
    return err_field(why, -ERR_RULE_REJECTED, field, "%s: %s = %.15g, must be %.15g", file, text,
                     got, total);
}

int rules__relations_check(const json_t *bounds, const char *section, const json_t *value,
                           const json_t *defaults, const char *file, struct rules__diag *d,
                           struct err_detail *why)
{
    const json_t *rels = json_object_get(bounds, "relations");
    int first = 0;
    for (size_t i = 0; i < json_array_size(rels); i++) {
        const json_t *rel = json_array_get(rels, i);
        char sec[32];
        split_section(json_string_value(json_array_get(json_object_get(rel, "sum"), 0)), sec,
                      sizeof sec);
        if (strcmp(sec, section))
            continue;
        int rc = check_one(rel, value, defaults, file, why);
        if (rc < 0) {
            if (!d)
                return rc;
            rules__diag_report(d, why);
            first = first ? first : rc;
        }
    }
    return first;
}

int rules__relations_check_decl(const struct rules_version *hq, struct err_detail *why)
{
    const json_t *rels = json_object_get(hq->bounds, "relations");
    if (!rels)
        return 0;
    if (!json_is_array(rels) /* Lua's {} crosses as [] */ ||
        json_array_size(rels) > RULES_RELATIONS_MAX)
        return err_field(why, -ERR_RULE_REJECTED, "relations",
                         "hq/bounds.lua: relations: expected a list of at most %d relations",
                         RULES_RELATIONS_MAX);
    for (size_t i = 0; i < json_array_size(rels); i++) {
        int rc = check_one_decl(hq->bounds, json_array_get(rels, i), i + 1, why);
        if (rc)
            return rc;
    }
    /* HQ's own defaults must hold where they give every field of a relation. */
    static const struct {
        const char *section, *file;
    } defaults[] = {{"thresholds", "hq/lead.lua: thresholds"}, {"share", "hq/share.lua: params"}};
    for (size_t k = 0; k < sizeof defaults / sizeof *defaults; k++) {
        const json_t *v = !strcmp(defaults[k].section, "share") ? hq->share : hq->thresholds;
        int rc = v ? rules__relations_check(hq->bounds, defaults[k].section, v, NULL,
                                            defaults[k].file, NULL, why)
                   : 0;
        if (rc)
            return rc;
    }
    return 0;
}
