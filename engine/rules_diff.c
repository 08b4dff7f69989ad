/* engine/rules_diff.c: what changed between two stored versions of an
 * owner's bundle, file by file, as unified diffs (diff.h). Reads only. */
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "rules_internal.h"
#include "utf8.h"

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One file's entry: { file, status, diff[, approximate] }. */
static json_t *file_entry(const char *name, const json_t *from, const json_t *to)
{
    const char *status = !from                  ? "added"
                         : !to                  ? "removed"
                         : json_equal(from, to) ? "same"
                                                : "changed";
    struct buf out = {0};
    struct diff_stats st;
    int rc =
        diff_unified(name, from ? json_string_value(from) : "", from ? json_string_length(from) : 0,
                     to ? json_string_value(to) : "", to ? json_string_length(to) : 0, &out, &st);
    json_t *text = NULL;
    if (!rc)
        text = out.p ? json_stringn(out.p, out.len) : json_string("");
    if (!rc && !text) /* not UTF-8: a version stored before sources were checked */
        text = utf8_json(out.p);
    buf_deinit(&out);
    json_t *e = json_pack("{s:s, s:s, s:o?}", "file", name, "status", status, "diff", text);
    if (e && st.approximate)
        json_object_set_new(e, "approximate", json_true());
    return text ? e : (json_decref(e), NULL);
}

int rules_diff(struct rules *r, const char *owner, int version, int against, json_t **out,
               struct err_detail *why)
{
    enum rules_layer layer;
    if (rules_owner_layer(owner, &layer))
        return err_set(why, -ERR_NOT_FOUND, "'%s' is not hq, region/ID or office/ID", owner);
    if (!against) {
        struct rules_version *a = rules_active(r, owner);
        against = a ? a->version : 0;
    }
    struct rules__stored to = {0}, from = {0};
    int rc = rules__stored_load(r, owner, version, &to, why);
    if (!rc && against)
        rc = rules__stored_load(r, owner, against, &from, why);
    size_t n = 0;
    const char **names = NULL;
    if (!rc && !(names = malloc((json_object_size(to.files) + json_object_size(from.files) + 1) *
                                sizeof *names)))
        rc = err_set(why, -ERR_NOMEM, "out of memory");
    if (rc) {
        rules__stored_deinit(&to);
        rules__stored_deinit(&from);
        return rc;
    }
    const char *name;
    json_t *src;
    json_object_foreach(to.files, name, src) names[n++] = name;
    json_object_foreach(from.files, name, src)
    {
        if (!json_object_get(to.files, name))
            names[n++] = name;
    }
    qsort(names, n, sizeof *names, cmp_names);
    json_t *files = json_array();
    for (size_t i = 0; i < n && files; i++) {
        json_t *e = file_entry(names[i], json_object_get(from.files, names[i]),
                               json_object_get(to.files, names[i]));
        if (!e || json_array_append_new(files, e)) {
            json_decref(files);
            files = NULL;
        }
    }
    free(names);
    *out = files ? json_pack("{s:s, s:o, s:i, s:o}", "owner", owner, "from",
                             against ? json_integer(against) : json_null(), "to", version, "files",
                             files)
                 : NULL;
    rules__stored_deinit(&to);
    rules__stored_deinit(&from);
    return *out ? 0 : err_set(why, -ERR_NOMEM, "out of memory");
}
