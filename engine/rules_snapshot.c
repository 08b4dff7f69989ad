/* engine/rules_snapshot.c: the active rules copied for a job's thread (see
 * rules.h): which versions, then the same versions compiled again there. */
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"

struct rules_snapshot {
    size_t n, cap;
    struct {
        char owner[RULES_OWNER_MAX];
        enum rules_layer layer;
        int version;
        int64_t activated_at_ms;
        char approved_by[RULES_OWNER_MAX];
        int checked_hq;
    } * v; /* owned; HQ first */
    bool failed;
};

static void note(const struct rules_version *v, void *ctx)
{
    struct rules_snapshot *s = ctx;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        void *g = realloc(s->v, cap * sizeof *s->v);
        if (!g) {
            s->failed = true;
            return;
        }
        s->v = g;
        s->cap = cap;
    }
    size_t at = s->n++;
    if (v->layer == RULES_HQ && at) { /* HQ compiles first: the others check against it */
        s->v[at] = s->v[0];
        at = 0;
    }
    memset(&s->v[at], 0, sizeof s->v[at]);
    memcpy(s->v[at].owner, v->owner, sizeof v->owner);
    memcpy(s->v[at].approved_by, v->approved_by, sizeof v->approved_by);
    s->v[at].layer = v->layer;
    s->v[at].version = v->version;
    s->v[at].activated_at_ms = v->activated_at_ms;
    s->v[at].checked_hq = v->checked_hq;
}

int rules_snapshot_take(struct rules *r, struct rules_snapshot **out, struct err_detail *why)
{
    struct rules_snapshot *s = calloc(1, sizeof *s);
    if (s)
        rules__active_each(r, note, s);
    if (!s || s->failed || !s->n || s->v[0].layer != RULES_HQ) {
        rules_snapshot_free(s);
        return err_set(why, s ? -ERR_INTERNAL : -ERR_NOMEM, "no active HQ version to copy");
    }
    *out = s;
    return 0;
}

void rules_snapshot_free(struct rules_snapshot *s)
{
    if (s)
        free(s->v);
    free(s);
}

int rules_snapshot_open(const struct rules_snapshot *s, struct store *reader, struct rules **out,
                        struct err_detail *why)
{
    struct rules *r = rules__memory_on(reader);
    if (!r)
        return err_set(why, -ERR_NOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < s->n && !rc; i++) {
        struct rules__stored vl;
        struct rules_version *v = NULL, *hq = rules_hq(r);
        rc = rules__stored_load(r, s->v[i].owner, s->v[i].version, &vl, why);
        /* Checked against the HQ version the loop's copy was checked against:
         * an HQ activated since may have narrowed the bounds, and the loop
         * runs the version all the same. */
        if (hq)
            rules_version_ref(hq);
        if (!rc && hq && s->v[i].checked_hq && s->v[i].checked_hq != hq->version) {
            rules_version_unref(hq);
            hq = NULL;
            rc = rules_hq_version(r, s->v[i].checked_hq, &hq, why);
        }
        if (!rc)
            rc = rules__compile(s->v[i].owner, s->v[i].layer, s->v[i].version, vl.files, hq, &v,
                                why);
        rules_version_unref(hq);
        rules__stored_deinit(&vl);
        if (rc) {
            char msg[ERR_DETAIL_MAX];
            memcpy(msg, why->msg, sizeof msg);
            rc = err_set(why, -ERR_STORE, "%s v%d: active version cannot be copied: %s",
                         s->v[i].owner, s->v[i].version, msg);
            break;
        }
        sandbox_set_call_wall_ms(v->sb, SANDBOX_JOB_CALL_WALL_MS); /* off the loop */
        v->activated_at_ms = s->v[i].activated_at_ms;
        memcpy(v->approved_by, s->v[i].approved_by, sizeof v->approved_by);
        rules__memory_put(r, v);
        rules_version_unref(v);
    }
    if (rc) {
        rules_close(r);
        return rc;
    }
    *out = r;
    return 0;
}
