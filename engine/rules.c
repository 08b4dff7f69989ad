/* engine/rules.c: the registry of rule versions: the pipeline of
 * rules_submit, activation and approval, the rules directory, status. */
#include "rules.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lead.h"
#include "log.h"
#include "rules_internal.h"
#include "utf8.h"

struct owner_slot {
    char name[RULES_OWNER_MAX];
    struct rules_version *active;                      /* one reference */
    struct rules_version *retired[RULES_RETIRED_KEEP]; /* one reference each, newest first */
    struct rules__errors errors;                       /* last_error and counts */
};

struct rules {
    struct store *st; /* borrowed */
    char *dir;        /* owned; may be NULL */
    bool auto_approve;
    size_t n_owners;
    struct owner_slot *owners; /* owned, RULES_MAX_OWNERS */
    uint64_t loads_ok, loads_failed, unchanged;
    /* Older HQ versions that instances pinned, compiled on demand; a ring,
     * one reference each. */
    struct rules_version *pinned[RULES_PINNED_KEEP];
    size_t pinned_next;
    bool hq_signed;                 /* HQ versions need a valid signature */
    unsigned char hq_key[32];       /* ed25519 public key */
    struct rules__shadows *shadows; /* owned (rules_shadow.c) */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool rules__in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (!strcmp(*list, s))
            return true;
    return false;
}

int rules_owner_layer(const char *owner, enum rules_layer *layer)
{
    if (!strcmp(owner, "hq")) {
        *layer = RULES_HQ;
        return 0;
    }
    if (!strncmp(owner, "region/", 7) && lead_valid_id(owner + 7)) {
        *layer = RULES_REGION;
        return 0;
    }
    if (!strncmp(owner, "office/", 7) && lead_valid_id(owner + 7)) {
        *layer = RULES_OFFICE;
        return 0;
    }
    return -1;
}

/* "hq" -> "hq/", "region/x" -> "regions/x/", "office/y" -> "offices/y/" */
void rules__owner_dir(const char *owner, char *buf, size_t n)
{
    if (!strcmp(owner, "hq"))
        snprintf(buf, n, "hq/");
    else if (!strncmp(owner, "region/", 7))
        snprintf(buf, n, "regions/%s/", owner + 7);
    else
        snprintf(buf, n, "offices/%s/", owner + 7);
}

/* --- versions ------------------------------------------------------------ */

void rules_version_ref(struct rules_version *v)
{
    v->refs++;
}

void rules_version_unref(struct rules_version *v)
{
    if (!v || --v->refs > 0)
        return;
    sandbox_free(v->sb);
    json_decref(v->files);
    org_free(v->org);
    json_decref(v->bounds);
    json_decref(v->thresholds);
    json_decref(v->lead_defaults);
    json_decref(v->authority);
    json_decref(v->stages);
    json_decref(v->share);
    json_decref(v->signals);
    json_decref(v->bodies);
    json_decref(v->forecast);
    json_decref(v->resolved);
    free(v);
}

void rules__bundle_hash(const json_t *files, char out[65])
{
    /* jansson iterates objects in sorted key order only when asked; sort here. */
    const char *names[RULES_FILES_MAX];
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)files, k, v)
    {
        if (n < RULES_FILES_MAX)
            names[n++] = k;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    for (size_t i = 0; i < n; i++) {
        const json_t *src = json_object_get(files, names[i]);
        crypto_hash_sha256_update(&st, (const unsigned char *)names[i], strlen(names[i]) + 1);
        crypto_hash_sha256_update(&st, (const unsigned char *)json_string_value(src),
                                  json_string_length(src) + 1);
    }
    unsigned char digest[32];
    crypto_hash_sha256_final(&st, digest);
    sodium_bin2hex(out, 65, digest, 32);
}

/* --- the registry --------------------------------------------------------- */

static struct owner_slot *slot_find(struct rules *r, const char *owner, bool create)
{
    for (size_t i = 0; i < r->n_owners; i++)
        if (!strcmp(r->owners[i].name, owner))
            return &r->owners[i];
    if (!create || r->n_owners == RULES_MAX_OWNERS)
        return NULL;
    struct owner_slot *s = &r->owners[r->n_owners++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", owner);
    return s;
}

struct rules_version *rules_active(struct rules *r, const char *owner)
{
    struct owner_slot *s = slot_find(r, owner, false);
    return s ? s->active : NULL;
}

struct store *rules__store(struct rules *r)
{
    return r->st;
}

struct rules_version *rules_hq(struct rules *r)
{
    return rules_active(r, "hq");
}

/* Make 'v' (one reference, handed over) the owner's active version. */
static void swap_in(struct rules *r, struct rules_version *v)
{
    struct owner_slot *s = slot_find(r, v->owner, true);
    if (!s) { /* more than RULES_MAX_OWNERS owners: the version is dropped */
        log_error("rules: %s v%d not activated in memory: too many owners", v->owner, v->version);
        rules_version_unref(v);
        return;
    }
    if (s->active) {
        rules_version_unref(s->retired[RULES_RETIRED_KEEP - 1]);
        memmove(&s->retired[1], &s->retired[0], (RULES_RETIRED_KEEP - 1) * sizeof s->retired[0]);
        s->retired[0] = s->active;
    }
    s->active = v;
}

static void record_error_kind(struct rules *r, enum rules__error_kind kind, const char *owner,
                              int version, const char *hash, const char *actor,
                              const struct err_detail *why)
{
    struct owner_slot *s = slot_find(r, owner, true);
    int64_t at = now_ms();
    if (s)
        rules__errors_note(&s->errors, kind, version, why->msg, at);
    r->loads_failed++;
    log_warn("rules: %s rejected: %s", owner, why->msg);
    if (!store_in_transaction(r->st))
        store_rule_event_append(r->st, owner, 0, at, actor, "validation_failed", hash, why->msg,
                                NULL);
}

/* A refusal of the pipeline, its kind from its code (rules.h). */
static void record_error(struct rules *r, const char *owner, int version, const char *hash,
                         const char *actor, const struct err_detail *why)
{
    record_error_kind(r, rules__errors_kind_of(why->code), owner, version, hash, actor, why);
}

/* What was read from an owner's directory (the tree's own files and hash,
 * before any merge), recorded when it is taken in. */
struct disk_read {
    char hash[65];
    char *files; /* owned: JSON text */
};

/* A new bundle on its way in, whatever its source. */
struct candidate {
    const char *owner;
    const json_t *files;   /* borrowed: the whole new bundle { FILE: SOURCE } */
    const char *signature; /* HQ: hex signature of its hash, or NULL */
    const char *origin;    /* "api" or "disk" */
    const char *actor;
    int base;                     /* the version it is built on; -1: the newest */
    const struct disk_read *disk; /* from the rules directory: recorded with it; else NULL */
};

static int disk_record(struct rules *r, const char *owner, const struct disk_read *d,
                       struct err_detail *why)
{
    return store_rule_disk_set(r->st, owner, d->hash, d->files, now_ms(), why);
}

/* Store a validated version built on 'base' and, when 'activate', make it
 * active: one transaction (older pending versions superseded, the disk read
 * recorded), then the pointer swap. Takes over v's reference. */
static int persist(struct rules *r, struct rules_version *v, const struct candidate *c, int base,
                   bool activate, struct err_detail *why)
{
    char *files = json_dumps(v->files, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(12));
    const char *origin = c->origin, *actor = c->actor;
    int64_t at = now_ms();
    struct store_rule_version row = {
        .owner = v->owner,
        .version = v->version,
        .hash = v->hash,
        .status = "pending", /* until store_rule_activate, when activated at once */
        .files = files,
        .origin = origin,
        .created_at_ms = at,
        .created_by = actor,
        .signature = v->layer == RULES_HQ ? c->signature : NULL,
        .base = base,
    };
    int rc = files ? store_begin(r->st, why) : err_set(why, -ERR_NOMEM, "out of memory");
    if (!rc)
        rc = store_rule_version_insert(r->st, &row, why);
    if (!rc)
        rc = store_rule_event_append(r->st, v->owner, v->version, at, actor, "upload", v->hash,
                                     origin, why);
    /* The newest submission wins: it replaces every older pending version. */
    if (!rc)
        rc = store_rule_supersede(r->st, v->owner, v->version, at, actor, why);
    if (!rc && c->disk)
        rc = disk_record(r, v->owner, c->disk, why);
    if (!rc && activate) {
        const char *approver = v->layer == RULES_REGION ? "auto-approve" : NULL;
        rc = store_rule_activate(r->st, v->owner, v->version, at, approver, why);
        if (!rc)
            rc = store_rule_event_append(r->st, v->owner, v->version, at, actor, "activate",
                                         v->hash, NULL, why);
        v->activated_at_ms = at;
        if (approver)
            snprintf(v->approved_by, sizeof v->approved_by, "%s", approver);
    }
    if (!rc)
        rc = store_commit(r->st, why);
    else
        store_rollback(r->st);
    free(files);
    if (!rc)
        rules__shadows_settle(r, v->owner);
    if (rc || !activate) {
        rules_version_unref(v);
        return rc;
    }
    log_info("rules: %s v%d active (%.12s)", v->owner, v->version, v->hash);
    swap_in(r, v); /* may free v */
    return 0;
}

/* With an HQ key, an HQ bundle must carry a valid ed25519 signature of its
 * hash (the 32 bytes of the SHA-256, signed detached, in hex). */
static int verify_hq(const struct rules *r, const char *hash_hex, const char *signature,
                     struct err_detail *why)
{
    if (!r->hq_signed)
        return 0;
    unsigned char digest[32], sig[crypto_sign_BYTES];
    size_t n = 0;
    if (!signature)
        return err_field(why, -ERR_RULE_REJECTED, "signature",
                         "hq: HQ bundles must be signed (hq/bundle.sig, or POST "
                         "/v1/rules/hq/bundle with a signature)");
    if (sodium_hex2bin(sig, sizeof sig, signature, strlen(signature), NULL, &n, NULL) ||
        n != sizeof sig || sodium_hex2bin(digest, 32, hash_hex, 64, NULL, &n, NULL) || n != 32 ||
        crypto_sign_verify_detached(sig, digest, 32, r->hq_key))
        return err_field(why, -ERR_RULE_REJECTED, "signature",
                         "hq: the bundle signature does not verify with the HQ key");
    return 0;
}

static int submit(struct rules *r, const struct candidate *c, struct rules_result *res,
                  struct err_detail *why);

int rules_submit(struct rules *r, const char *owner, const json_t *files, const char *origin,
                 const char *actor, struct rules_result *res, struct err_detail *why)
{
    return rules_submit_signed(r, owner, files, NULL, origin, actor, res, why);
}

int rules_submit_signed(struct rules *r, const char *owner, const json_t *files,
                        const char *signature, const char *origin, const char *actor,
                        struct rules_result *res, struct err_detail *why)
{
    struct candidate c = {owner, files, signature, origin, actor, -1, NULL};
    return submit(r, &c, res, why);
}

/* --- lineage: what a new version is built on ------------------------------ */

/* A refused candidate: its number is spent on its content ('key'), so that
 * the number its messages cite never names anything else. */
static void refuse_kind(struct rules *r, enum rules__error_kind kind, const char *owner, int number,
                        const char *key, const char *hash, const char *actor,
                        const struct err_detail *why)
{
    if (!store_in_transaction(r->st))
        store_rule_number_spend(r->st, owner, number, key, NULL);
    record_error_kind(r, kind, owner, number, hash, actor, why);
}

/* As refuse_kind, the kind from the error's code (rules.h). */
static void refuse(struct rules *r, const char *owner, int number, const char *key,
                   const char *hash, const char *actor, const struct err_detail *why)
{
    refuse_kind(r, rules__errors_kind_of(why->code), owner, number, key, hash, actor, why);
}

/* The files of a stored version (a new reference): the compiled active one
 * when it is that version, else read back from the store, hash checked. */
static int version_files(struct rules *r, const char *owner, int version, json_t **files,
                         char hash[65], struct err_detail *why)
{
    struct rules_version *a = rules_active(r, owner);
    if (a && a->version == version) {
        snprintf(hash, 65, "%s", a->hash);
        *files = json_deep_copy(a->files);
        return *files ? 0 : err_set(why, -ERR_NOMEM, "out of memory");
    }
    struct rules__stored vl;
    int rc = rules__stored_load(r, owner, version, &vl, why);
    if (rc)
        return rc;
    snprintf(hash, 65, "%s", vl.hash);
    *files = vl.files; /* handed over */
    return 0;
}

static int submit(struct rules *r, const struct candidate *c, struct rules_result *res,
                  struct err_detail *why)
{
    const char *owner = c->owner;
    enum rules_layer layer;
    if (rules_owner_layer(owner, &layer))
        return err_set(why, -ERR_NOT_FOUND, "'%s' is not hq, region/ID or office/ID", owner);
    char hash[65], head_hash[65] = "";
    rules__bundle_hash(c->files, hash);
    int head = 0, dropped = 0, number = 0;
    int rc = store_rule_version_head(r->st, owner, &head, why);
    if (!rc && head) {
        json_t *hf = NULL;
        rc = version_files(r, owner, head, &hf, head_hash, why);
        json_decref(hf);
    }
    if (rc)
        return rc;
    res->base = c->base < 0 ? head : c->base;
    /* Only the newest version counts as "the same": content equal to an
     * older one is a new version on top (a revert), never a silent no-op. */
    if (head && !strcmp(hash, head_hash)) {
        r->unchanged++;
        res->version = head;
        res->status = "unchanged";
        return c->disk ? disk_record(r, owner, c->disk, why) : 0;
    }
    /* The tree never brings back by itself what was superseded or rejected. */
    if (c->disk && (rc = store_rule_version_dropped(r->st, owner, hash, &dropped, why)))
        return rc;
    if (dropped) {
        res->version = dropped;
        res->status = "skipped";
        log_info("rules: %s: the tree on disk is the content of v%d, superseded or rejected; "
                 "not submitted again",
                 owner, dropped);
        return disk_record(r, owner, c->disk, why);
    }
    if ((rc = store_rule_number_next(r->st, owner, hash, &number, why)))
        return rc;
    struct rules_version *v = NULL;
    rc = rules__compile(owner, layer, number, c->files, rules_hq(r), &v, why);
    if (!rc && layer == RULES_HQ && (rc = verify_hq(r, v->hash, c->signature, why))) {
        rules_version_unref(v);
        v = NULL;
    }
    if (rc) {
        refuse(r, owner, number, hash, hash, c->actor, why);
        return rc;
    }
    /* The version's own tests.lua and HQ's samples of its scope (rules_tests.c). */
    if ((rc = rules__run_tests(r, v, NULL, why))) {
        rules_version_unref(v);
        refuse(r, owner, number, hash, hash, c->actor, why);
        return rc;
    }
    bool activate = layer != RULES_REGION || r->auto_approve;
    res->version = v->version;
    res->status = activate ? "active" : "pending";
    if ((rc = persist(r, v, c, res->base, activate, why)))
        return rc;
    struct owner_slot *s = slot_find(r, owner, true);
    if (s)
        rules__errors_settle(&s->errors, res->version, activate);
    r->loads_ok++;
    return 0;
}

int rules_put_file(struct rules *r, const char *owner, const char *file, const char *src,
                   size_t len, const char *actor, struct rules_result *res, struct err_detail *why)
{
    return rules_put_file_on(r, owner, file, src, len, 0, actor, res, why);
}

static int on_base_status(const struct store_rule_version *v, void *ctx)
{
    snprintf(ctx, 16, "%s", v->status);
    return 0;
}

int rules_put_file_on(struct rules *r, const char *owner, const char *file, const char *src,
                      size_t len, int base, const char *actor, struct rules_result *res,
                      struct err_detail *why)
{
    size_t n = strlen(file);
    if (n < 5 || n > 64 || strcmp(file + n - 4, ".lua") || strchr(file, '/') || file[0] == '.')
        return err_set(why, -ERR_INVALID_FIELD, "file name must be NAME.lua, got '%.64s'", file);
    enum rules_layer layer;
    if (rules_owner_layer(owner, &layer))
        return err_set(why, -ERR_NOT_FOUND, "'%s' is not hq, region/ID or office/ID", owner);
    char status[16] = "", hash[65];
    int rc = base ? store_rule_version_get(r->st, owner, base, on_base_status, status, why)
                  : store_rule_version_head(r->st, owner, &base, why);
    if (!rc && !strcmp(status, "rejected"))
        rc = err_field(why, -ERR_CONFLICT, "base",
                       "%s v%d was rejected: build on a pending, active or earlier version, or "
                       "submit the whole bundle",
                       owner, base);
    json_t *files = NULL;
    if (!rc)
        rc = base ? version_files(r, owner, base, &files, hash, why)
                  : ((files = json_object()) ? 0 : err_set(why, -ERR_NOMEM, "out of memory"));
    if (rc)
        return rc;
    /* Unchecked: the source's bytes are checked (and refused by offset) in
     * the pipeline, before anything serializes them. */
    json_t *s = src ? json_stringn_nocheck(src, len) : NULL;
    if (src && !s) {
        rc = err_set(why, -ERR_NOMEM, "out of memory");
    } else if (!src && !json_object_get(files, file)) {
        rc = base ? err_set(why, -ERR_NOT_FOUND, "%s v%d has no file %s", owner, base, file)
                  : err_set(why, -ERR_NOT_FOUND, "%s has no file %s", owner, file);
    } else {
        if (src)
            json_object_set_new(files, file, s);
        else
            json_object_del(files, file);
        struct candidate c = {owner, files, NULL, "api", actor, base, NULL};
        rc = submit(r, &c, res, why);
    }
    json_decref(files);
    return rc;
}

int rules__check_source(const char *owner, int version, const char *file, const char *src,
                        size_t len, struct err_detail *why)
{
    char dir[160];
    rules__owner_dir(owner, dir, sizeof dir);
    if (len > SANDBOX_SOURCE_MAX_BYTES)
        return err_field(why, -ERR_RULE_SOURCE, file,
                         "%s v%d: %s%s: %zu bytes, over the %u-byte (%u KiB) limit of a source "
                         "file",
                         owner, version, dir, file, len, SANDBOX_SOURCE_MAX_BYTES,
                         SANDBOX_SOURCE_MAX_BYTES / 1024);
    size_t bad = utf8_bad_offset(src, len, false);
    if (bad == len)
        return 0;
    return err_field(why, -ERR_RULE_SOURCE, file,
                     "%s v%d: %s%s: byte offset %zu: %s (0x%02x); a source must be UTF-8 "
                     "without NUL",
                     owner, version, dir, file, bad, src[bad] ? "not valid UTF-8" : "a NUL byte",
                     (unsigned char)src[bad]);
}

static int on_stored_row(const struct store_rule_version *v, void *ctx)
{
    struct rules__stored *vl = ctx;
    /* NULs kept: what was hashed is read back, so the hash check means something. */
    vl->files = v->files ? json_loads(v->files, JSON_ALLOW_NUL, NULL) : NULL;
    snprintf(vl->status, sizeof vl->status, "%s", v->status);
    snprintf(vl->hash, sizeof vl->hash, "%s", v->hash);
    snprintf(vl->approved_by, sizeof vl->approved_by, "%s", v->approved_by ? v->approved_by : "");
    vl->activated_at_ms = v->activated_at_ms;
    snprintf(vl->signature, sizeof vl->signature, "%s", v->signature ? v->signature : "");
    return 0;
}

void rules__stored_deinit(struct rules__stored *s)
{
    json_decref(s->files);
    s->files = NULL;
}

int rules__stored_load(struct rules *r, const char *owner, int version, struct rules__stored *out,
                       struct err_detail *why)
{
    memset(out, 0, sizeof *out);
    int rc = store_rule_version_get(r->st, owner, version, on_stored_row, out, why);
    if (rc)
        return rc;
    bool readable = json_is_object(out->files) && json_object_size(out->files) <= RULES_FILES_MAX;
    const char *name;
    json_t *src;
    json_object_foreach(out->files, name, src) readable = readable && json_is_string(src);
    char hash[65] = "";
    if (readable)
        rules__bundle_hash(out->files, hash);
    if (!readable)
        rc = err_set(why, -ERR_STORE,
                     "%s v%d: the stored sources cannot be read back; refusing to run them", owner,
                     version);
    else if (strcmp(hash, out->hash))
        rc = err_set(why, -ERR_STORE,
                     "%s v%d: the stored sources do not match the version's hash %.12s (the "
                     "database was changed outside ltcd?); refusing to run them",
                     owner, version, out->hash);
    if (rc)
        rules__stored_deinit(out);
    return rc;
}

/* Make a stored version active again: recompiled and validated against the
 * HQ rules (and key) of today, activated in one transaction with its audit
 * event, then swapped in. An approval names the approver and supersedes older
 * pending versions; a rollback keeps the version's approver. */
static int activate_stored(struct rules *r, const char *owner, int version, const char *actor,
                           bool approval, struct err_detail *why)
{
    enum rules_layer layer;
    if (rules_owner_layer(owner, &layer))
        return err_set(why, -ERR_NOT_FOUND, "'%s' is not a rule owner", owner);
    struct rules__stored vl;
    int rc = rules__stored_load(r, owner, version, &vl, why);
    if (!rc && approval && strcmp(vl.status, "pending"))
        rc = err_set(why, -ERR_CONFLICT, "%s v%d is %s, not pending", owner, version, vl.status);
    if (!rc && layer == RULES_HQ)
        rc = verify_hq(r, vl.hash, vl.signature[0] ? vl.signature : NULL, why);
    struct rules_version *v = NULL;
    if (!rc)
        rc = rules__compile(owner, layer, version, vl.files, layer == RULES_HQ ? NULL : rules_hq(r),
                            &v, why);
    rules__stored_deinit(&vl);
    if (rc)
        return rc;
    int64_t at = now_ms();
    rc = store_begin(r->st, why);
    if (!rc)
        rc = store_rule_activate(r->st, owner, version, at, approval ? actor : NULL, why);
    if (!rc && approval)
        rc = store_rule_supersede(r->st, owner, version, at, actor, why);
    if (!rc)
        rc = store_rule_event_append(r->st, owner, version, at, actor,
                                     approval ? "approve" : "rollback", v->hash, NULL, why);
    if (!rc)
        rc = store_commit(r->st, why);
    else
        store_rollback(r->st);
    if (rc) {
        rules_version_unref(v);
        return rc;
    }
    v->activated_at_ms = at;
    snprintf(v->approved_by, sizeof v->approved_by, "%s", approval ? actor : vl.approved_by);
    swap_in(r, v);
    struct owner_slot *s = slot_find(r, owner, true);
    if (s)
        rules__errors_settle(&s->errors, version, true);
    rules__shadows_settle(r, owner);
    log_info("rules: %s v%d %s by %s", owner, version, approval ? "approved" : "rolled back to",
             actor);
    return 0;
}

int rules_approve(struct rules *r, const char *owner, int version, const char *actor,
                  struct err_detail *why)
{
    return activate_stored(r, owner, version, actor, true, why);
}

int rules_rollback(struct rules *r, const char *owner, const char *actor, struct rules_result *res,
                   struct err_detail *why)
{
    int prev = 0;
    int rc = store_rule_version_previous(r->st, owner, &prev, why);
    if (!rc && !prev)
        rc = err_set(why, -ERR_CONFLICT, "%s has no earlier good version to roll back to", owner);
    if (!rc)
        rc = activate_stored(r, owner, prev, actor, false, why);
    if (rc)
        return rc;
    res->version = prev;
    res->status = "active";
    return 0;
}

int rules_reject(struct rules *r, const char *owner, int version, const char *actor,
                 const char *reason, struct err_detail *why)
{
    /* Rejecting runs nothing: status and hash are enough, even of corrupted sources. */
    struct rules__stored vl = {0};
    int rc = store_rule_version_get(r->st, owner, version, on_stored_row, &vl, why);
    rules__stored_deinit(&vl);
    if (!rc && strcmp(vl.status, "pending"))
        rc = err_set(why, -ERR_CONFLICT, "%s v%d is %s, not pending", owner, version, vl.status);
    if (!rc)
        rc = store_begin(r->st, why);
    if (rc)
        return rc;
    rc = store_rule_set_status(r->st, owner, version, "rejected", reason, why);
    if (!rc)
        rc = store_rule_event_append(r->st, owner, version, now_ms(), actor, "reject", vl.hash,
                                     reason, why);
    if (!rc)
        rc = store_commit(r->st, why);
    else
        store_rollback(r->st);
    if (!rc)
        rules__shadows_settle(r, owner);
    return rc;
}

int rules_hq_version(struct rules *r, int version, struct rules_version **out,
                     struct err_detail *why)
{
    struct owner_slot *s = slot_find(r, "hq", false);
    struct rules_version *found = NULL;
    if (s && s->active && s->active->version == version)
        found = s->active;
    for (int k = 0; s && !found && k < RULES_RETIRED_KEEP; k++)
        if (s->retired[k] && s->retired[k]->version == version)
            found = s->retired[k];
    for (size_t k = 0; !found && k < RULES_PINNED_KEEP; k++)
        if (r->pinned[k] && r->pinned[k]->version == version)
            found = r->pinned[k];
    if (!found) {
        struct rules__stored vl;
        int rc = rules__stored_load(r, "hq", version, &vl, why);
        if (!rc)
            rc = rules__compile("hq", RULES_HQ, version, vl.files, NULL, &found, why);
        rules__stored_deinit(&vl);
        if (rc)
            return rc;
        rules_version_unref(r->pinned[r->pinned_next]);
        r->pinned[r->pinned_next] = found; /* the ring's reference */
        r->pinned_next = (r->pinned_next + 1) % RULES_PINNED_KEEP;
    }
    rules_version_ref(found);
    *out = found;
    return 0;
}

/* --- the rules directory --------------------------------------------------- */

struct sync_ctx {
    struct rules *r;
    const char *actor;
    int failed;
};

/* The bundle to submit for what the tree now holds: the newest version with
 * the files that changed on disk since the last read applied on top (added
 * or changed files replace the newest version's, files removed on disk are
 * removed), so that what arrived through the API since stays. A signed HQ
 * tree goes in whole: the signature is of its own hash. A new reference. */
static json_t *disk_bundle(struct rules *r, const char *owner, enum rules_layer layer, json_t *disk,
                           const char *last_text, struct err_detail *why)
{
    int head = 0;
    char hash[65];
    json_t *out = NULL;
    if (layer == RULES_HQ && r->hq_signed)
        return json_incref(disk);
    if (store_rule_version_head(r->st, owner, &head, why))
        return NULL;
    if (!head)
        return json_incref(disk);
    if (version_files(r, owner, head, &out, hash, why))
        return NULL;
    json_t *last = last_text ? json_loads(last_text, JSON_ALLOW_NUL, NULL) : NULL;
    const char *name;
    json_t *src;
    json_object_foreach(disk, name, src)
    {
        if (!json_equal(src, json_object_get(last, name)))
            json_object_set(out, name, src);
    }
    json_object_foreach(last, name, src)
    {
        if (!json_object_get(disk, name))
            json_object_del(out, name);
    }
    json_decref(last);
    return out;
}

/* Take in an owner's tree as read from disk: nothing at all when it is what
 * was read last time, else through the pipeline. */
static int take_from_disk(struct rules *r, const char *owner, enum rules_layer layer, json_t *files,
                          const char *sig, const char *actor, struct err_detail *why)
{
    struct disk_read d = {0};
    char last_hash[65];
    char *last_text = NULL;
    rules__bundle_hash(files, d.hash);
    int rc = store_rule_disk_get(r->st, owner, last_hash, &last_text, why);
    if (rc || !strcmp(last_hash, d.hash)) {
        free(last_text);
        return rc;
    }
    json_t *bundle = disk_bundle(r, owner, layer, files, last_text, why);
    d.files = json_dumps(files, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(12));
    free(last_text);
    if (!bundle || !d.files)
        rc = why->code ? why->code : err_set(why, -ERR_NOMEM, "out of memory");
    struct rules_result res;
    struct candidate c = {owner, bundle, sig, "disk", actor, -1, &d};
    if (!rc)
        rc = submit(r, &c, &res, why);
    json_decref(bundle);
    free(d.files);
    return rc;
}

static void sync_owner(const char *owner, const char *path, int dirfd, const char *problem,
                       void *ctx)
{
    struct sync_ctx *sc = ctx;
    struct err_detail why = {0};
    if (!owner) {
        log_warn("rules: %s: %s", path, problem);
        sc->failed++;
        return;
    }
    json_t *files = NULL;
    enum rules_layer layer;
    int number = 0;
    /* The number it would get, so that the messages and last_error of an
     * unreadable tree name it (spent on "unreadable": key ""). */
    int rc = rules_owner_layer(owner, &layer)
                 ? err_set(&why, -ERR_RULE_REJECTED, "%s: bad directory name", path)
                 : store_rule_number_next(sc->r->st, owner, "", &number, &why);
    char sig[2 * crypto_sign_BYTES + 16] = "";
    if (!rc && problem)
        rc = err_set(&why, -ERR_RULE_REJECTED, "%s v%d: %s: %s", owner, number, path, problem);
    if (!rc)
        rc = rules__tree_read(dirfd, owner, number, &files, layer == RULES_HQ ? sig : NULL,
                              sizeof sig, &why);
    bool unreadable = rc && number;
    if (!rc)
        rc = take_from_disk(sc->r, owner, layer, files, sig[0] ? sig : NULL, sc->actor, &why);
    else if (unreadable) /* the bundle could not be read */
        refuse_kind(sc->r, RULES__ERROR_LOAD, owner, number, "", NULL, sc->actor, &why);
    else
        record_error_kind(sc->r, RULES__ERROR_LOAD, owner, number, NULL, sc->actor, &why);
    json_decref(files);
    sc->failed += rc != 0;
}

static int restore_active(struct rules *r, bool changed_only, int *loaded, struct err_detail *why);

int rules_sync_disk(struct rules *r, const char *actor)
{
    if (!r->dir)
        return 0;
    struct sync_ctx sc = {.r = r, .actor = actor};
    struct err_detail why = {0};
    /* Nodes sharing a database read their trees one at a time, each first
     * taking in what another activated (say, the same tree, read first). */
    int loaded = 0;
    if (store_nodes_lock(r->st, &why) || restore_active(r, true, &loaded, &why) ||
        rules__tree_visit(r->dir, sync_owner, &sc, &why)) {
        store_nodes_unlock(r->st);
        record_error_kind(r, RULES__ERROR_LOAD, "hq", 0, NULL, actor, &why);
        return 1;
    }
    store_nodes_unlock(r->st);
    return sc.failed;
}

/* --- open / close / status ---------------------------------------------- */

struct active_row {
    char owner[RULES_OWNER_MAX];
    int version;
};

struct active_list {
    struct active_row *rows;
    size_t n;
};

static int on_active(const char *owner, int version, void *ctx)
{
    struct active_list *al = ctx;
    struct active_row *g = realloc(al->rows, (al->n + 1) * sizeof *g);
    if (!g)
        return 1;
    al->rows = g;
    snprintf(g[al->n].owner, sizeof g[al->n].owner, "%s", owner);
    g[al->n++].version = version;
    return 0;
}

/* Recompile the stored active versions, HQ first: all of them, or
 * (changed_only) those not active in memory; *loaded counts them. */
static int restore_active(struct rules *r, bool changed_only, int *loaded, struct err_detail *why)
{
    struct active_list al = {0};
    int rc = store_rule_active_list(r->st, on_active, &al, why);
    for (int pass = 0; pass < 2 && !rc; pass++)
        for (size_t i = 0; i < al.n; i++) {
            bool is_hq = !strcmp(al.rows[i].owner, "hq");
            if (is_hq != (pass == 0))
                continue;
            const struct rules_version *now = rules_active(r, al.rows[i].owner);
            if (changed_only && now && now->version == al.rows[i].version)
                continue;
            enum rules_layer layer;
            struct rules__stored vl = {0};
            struct err_detail w = {0};
            struct rules_version *v = NULL;
            int lrc = rules_owner_layer(al.rows[i].owner, &layer);
            if (!lrc)
                lrc = rules__stored_load(r, al.rows[i].owner, al.rows[i].version, &vl, &w);
            if (lrc == -ERR_STORE) { /* never start on something other than what was stored */
                rc = err_set(why, lrc, "%s", w.msg);
                break;
            }
            if (!lrc && layer == RULES_HQ)
                lrc = verify_hq(r, vl.hash, vl.signature[0] ? vl.signature : NULL, &w);
            if (!lrc)
                lrc = rules__compile(al.rows[i].owner, layer, al.rows[i].version, vl.files,
                                     rules_hq(r), &v, &w);
            rules__stored_deinit(&vl);
            if (lrc) {
                record_error(r, al.rows[i].owner, al.rows[i].version, NULL, "ltcd", &w);
                continue;
            }
            v->activated_at_ms = vl.activated_at_ms;
            snprintf(v->approved_by, sizeof v->approved_by, "%s", vl.approved_by);
            swap_in(r, v);
            if (changed_only) {
                struct owner_slot *s = slot_find(r, al.rows[i].owner, true);
                if (s)
                    rules__errors_settle(&s->errors, al.rows[i].version, true);
                rules__shadows_settle(r, al.rows[i].owner);
                log_info("rules: %s v%d active (activated by another node)", al.rows[i].owner,
                         al.rows[i].version);
            }
            (*loaded)++;
        }
    free(al.rows);
    return rc;
}

int rules_follow_store(struct rules *r, int *loaded, struct err_detail *why)
{
    *loaded = 0;
    int rc = restore_active(r, true, loaded, why);
    if (!rc)
        rules__shadows_follow(r);
    return rc;
}

int rules_open(struct store *st, const char *dir, bool auto_approve, struct rules **out,
               struct err_detail *why)
{
    struct rules_options o = {.dir = dir, .auto_approve = auto_approve};
    return rules_open_with(st, &o, out, why);
}

int rules_open_with(struct store *st, const struct rules_options *o, struct rules **out,
                    struct err_detail *why)
{
    const char *dir = o->dir;
    bool auto_approve = o->auto_approve;
    if (sodium_init() < 0)
        return err_set(why, -ERR_INTERNAL, "libsodium failed to initialise");
    struct rules *r = calloc(1, sizeof *r);
    if (!r || !(r->owners = calloc(RULES_MAX_OWNERS, sizeof *r->owners))) {
        free(r);
        return err_set(why, -ERR_NOMEM, "out of memory");
    }
    r->st = st;
    r->dir = dir ? strdup(dir) : NULL;
    r->auto_approve = auto_approve;
    if (o->hq_key) {
        r->hq_signed = true;
        memcpy(r->hq_key, o->hq_key, sizeof r->hq_key);
    }
    int loaded = 0;
    int rc = restore_active(r, false, &loaded, why);
    if (!rc)
        rules_sync_disk(r, "ltcd");
    if (!rc && !rules_hq(r)) {
        struct owner_slot *s = slot_find(r, "hq", false);
        rc = err_set(why, -ERR_RULE_REJECTED, "no valid HQ rules: %s",
                     s && s->errors.kind ? s->errors.msg : "rules/hq is missing");
    }
    if (!rc)
        rc = rules__shadows_open(r, &r->shadows, why);
    if (rc) {
        rules_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* --- a registry without a store (rules_tests.c: --check-rules, ltcctl) ---- */

struct rules *rules__memory_new(void)
{
    struct rules *r = calloc(1, sizeof *r);
    if (!r || !(r->owners = calloc(RULES_MAX_OWNERS, sizeof *r->owners))) {
        free(r);
        return NULL;
    }
    return r;
}

struct rules *rules__memory_on(struct store *st)
{
    struct rules *r = rules__memory_new();
    if (r)
        r->st = st;
    return r;
}

void rules__active_each(struct rules *r, rules__active_fn *fn, void *ctx)
{
    for (size_t i = 0; i < r->n_owners; i++)
        if (r->owners[i].active)
            fn(r->owners[i].active, ctx);
}

void rules__memory_put(struct rules *r, struct rules_version *v)
{
    rules_version_ref(v);
    swap_in(r, v);
}

void rules_close(struct rules *r)
{
    if (!r)
        return;
    rules__shadows_close(r->shadows);
    for (size_t i = 0; i < RULES_PINNED_KEEP; i++)
        rules_version_unref(r->pinned[i]);
    for (size_t i = 0; i < r->n_owners; i++) {
        rules_version_unref(r->owners[i].active);
        for (int k = 0; k < RULES_RETIRED_KEEP; k++)
            rules_version_unref(r->owners[i].retired[k]);
    }
    free(r->owners);
    free(r->dir);
    free(r);
}

static json_t *ms_to_iso(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[40];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return json_string(buf);
}

/* Each version's origin and base (lineage); null for none. */
static json_t *lineage_json(const struct store_rule_version *v)
{
    return json_pack("{s:s, s:o}", "origin", v->origin, "base",
                     v->base > 0 ? json_integer(v->base) : json_null());
}

struct status_ctx {
    json_t *pending; /* borrowed: the owner's pending list */
    json_t *active;  /* owned: the active version's lineage_json, or NULL */
};

static int on_pending(const struct store_rule_version *v, void *ctx)
{
    struct status_ctx *sc = ctx;
    if (!strcmp(v->status, "pending")) {
        json_t *p =
            json_pack("{s:i, s:s, s:o, s:s}", "version", v->version, "hash", v->hash, "created_at",
                      ms_to_iso(v->created_at_ms), "created_by", v->created_by);
        json_object_update_new(p, lineage_json(v));
        json_array_append_new(sc->pending, p);
    } else if (!strcmp(v->status, "active")) {
        json_decref(sc->active);
        sc->active = lineage_json(v);
    }
    return 0;
}

json_t *rules_status_json(struct rules *r)
{
    json_t *owners = json_array();
    for (size_t i = 0; i < r->n_owners; i++) {
        struct owner_slot *s = &r->owners[i];
        json_t *active = json_null(), *pending = json_array(), *err;
        if (s->active)
            active =
                json_pack("{s:i, s:s, s:o, s:s?}", "version", s->active->version, "hash",
                          s->active->hash, "activated_at", ms_to_iso(s->active->activated_at_ms),
                          "approved_by", s->active->approved_by[0] ? s->active->approved_by : NULL);
        struct status_ctx sc = {pending, NULL};
        store_rule_version_list(r->st, s->name, on_pending, &sc, NULL);
        if (json_is_object(active) && sc.active)
            json_object_update(active, sc.active);
        json_decref(sc.active);
        err = rules__errors_json(&s->errors);
        json_array_append_new(owners, json_pack("{s:s, s:o, s:o, s:o}", "owner", s->name, "active",
                                                active, "pending", pending, "last_error", err));
    }
    return json_pack("{s:o}", "owners", owners);
}

/* --- rule errors and shadows: what rules_errors.c and rules_shadow.c keep here */

struct rules__errors *rules__errors_of(struct rules *r, const char *owner)
{
    struct owner_slot *s = slot_find(r, owner, true);
    return s ? &s->errors : NULL;
}

void rules__errors_each(struct rules *r, rules__errors_fn *fn, void *ctx)
{
    for (size_t i = 0; i < r->n_owners; i++)
        fn(r->owners[i].name, &r->owners[i].errors, ctx);
}

struct rules__shadows *rules__shadows(struct rules *r)
{
    return r->shadows;
}

void rules_stats(struct rules *r, struct rules_stats *out)
{
    memset(out, 0, sizeof *out);
    out->loads_ok = r->loads_ok;
    out->loads_failed = r->loads_failed;
    out->unchanged = r->unchanged;
    for (size_t i = 0; i < r->n_owners; i++) {
        struct rules_version *vs[1 + RULES_RETIRED_KEEP] = {r->owners[i].active};
        memcpy(&vs[1], r->owners[i].retired, sizeof r->owners[i].retired);
        for (int k = 0; k < 1 + RULES_RETIRED_KEEP; k++)
            if (vs[k]) {
                out->versions_alive++;
                out->mem_bytes += sandbox_mem_bytes(vs[k]->sb);
            }
    }
}
