/* engine/auth.c */
#include "auth.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = {
    [AUTH_ADMIN] = "admin",   [AUTH_REVIEWER] = "reviewer",
    [AUTH_AR] = "ar",         [AUTH_SR] = "sr",
    [AUTH_FR] = "fr",         [AUTH_FINANCE] = "finance",
    [AUTH_VIEWER] = "viewer",
};

struct auth_set {
    char name[256]; /* the file (or name) it was read from */
    size_t n;
    struct auth_principal *items; /* owned, in file order */
    size_t *by_digest;            /* owned: item indexes by token digest, then file order */
};

static const struct auth_set *sorting; /* qsort's context: loading is single-threaded */

static int cmp_digest(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = memcmp(sorting->items[x].token_sha256, sorting->items[y].token_sha256, 32);
    return c ? c : (x > y) - (x < y);
}

const char *auth_role_name(enum auth_role role)
{
    return role_names[role];
}

const char *auth_level_name(enum auth_level level)
{
    return level == AUTH_LEVEL_HQ ? "hq" : level == AUTH_LEVEL_REGION ? "region" : "office";
}

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-' && *s != '_')
            return false;
    return true;
}

enum auth_level auth_unit_level(const char *unit)
{
    if (!strcmp(unit, "hq"))
        return AUTH_LEVEL_HQ;
    if (!strncmp(unit, "region/", 7) && valid_id(unit + 7))
        return AUTH_LEVEL_REGION;
    if (!strncmp(unit, "office/", 7) && valid_id(unit + 7))
        return AUTH_LEVEL_OFFICE;
    return 0;
}

static int hex_digest(const char *hex, uint8_t out[32])
{
    if (strlen(hex) != 64)
        return -1;
    size_t bin_len;
    if (sodium_hex2bin(out, 32, hex, 64, NULL, &bin_len, NULL) || bin_len != 32)
        return -1;
    return 0;
}

/* A person id: as a unit id, 1..AUTH_PERSON_MAX-1 of [a-z0-9_-]. */
static bool person_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= AUTH_PERSON_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return false;
    return true;
}

static int parse_line(char *line, const char *name, int lineno, struct auth_principal *p,
                      struct err_detail *why)
{
    char *save = NULL;
    char *tok = strtok_r(line, " \t\r", &save);
    char *unit = strtok_r(NULL, " \t\r", &save);
    char *role = strtok_r(NULL, " \t\r", &save);
    char *person = strtok_r(NULL, " \t\r", &save);
    char *extra = strtok_r(NULL, " \t\r", &save);
    if (!tok || !unit || !role || extra)
        return err_set(why, -ERR_USAGE, "%s:%d: expected 'TOKEN UNIT ROLE [PERSON]'", name, lineno);
    memset(p, 0, sizeof *p);
    if (person && !person_id_ok(person))
        return err_set(why, -ERR_USAGE, "%s:%d: person '%.80s' is not an id of 1 to %d [a-z0-9_-]",
                       name, lineno, person, AUTH_PERSON_MAX - 1);
    if (person)
        strcpy(p->person, person);
    if (!strncmp(tok, "sha256:", 7)) {
        if (hex_digest(tok + 7, p->token_sha256))
            return err_set(why, -ERR_USAGE, "%s:%d: sha256: needs 64 hex digits", name, lineno);
    } else {
        crypto_hash_sha256(p->token_sha256, (const unsigned char *)tok, strlen(tok));
    }
    p->level = auth_unit_level(unit);
    if (!p->level || strlen(unit) >= sizeof p->unit)
        return err_set(why, -ERR_USAGE, "%s:%d: unit '%s' is not hq, region/ID or office/ID", name,
                       lineno, unit);
    strcpy(p->unit, unit);
    size_t r;
    for (r = 0; r < sizeof role_names / sizeof *role_names; r++)
        if (!strcmp(role, role_names[r]))
            break;
    if (r == sizeof role_names / sizeof *role_names)
        return err_set(why, -ERR_USAGE, "%s:%d: unknown role '%s'", name, lineno, role);
    p->role = (enum auth_role)r;
    p->line = lineno;
    return 0;
}

int auth_set_parse(const char *text, const char *name, struct auth_set **out,
                   struct err_detail *why)
{
    if (sodium_init() < 0)
        return err_set(why, -ERR_INTERNAL, "libsodium failed to initialise");
    struct auth_set *set = calloc(1, sizeof *set);
    char *copy = strdup(text);
    if (!set || !copy) {
        free(set);
        free(copy);
        return err_set(why, -ERR_NOMEM, "out of memory");
    }
    snprintf(set->name, sizeof set->name, "%s", name);
    int rc = 0, lineno = 0;
    for (char *line = copy, *next; line && rc == 0; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        lineno++;
        line[strcspn(line, "#")] = '\0';
        line += strspn(line, " \t\r");
        if (!*line)
            continue;
        struct auth_principal *grown = realloc(set->items, (set->n + 1) * sizeof *grown);
        if (!grown) {
            rc = err_set(why, -ERR_NOMEM, "out of memory");
            break;
        }
        set->items = grown;
        rc = parse_line(line, name, lineno, &set->items[set->n], why);
        if (rc == 0)
            set->n++;
    }
    free(copy);
    if (rc) {
        auth_set_free(set);
        return rc;
    }
    for (size_t i = 0; i < set->n; i++) {
        struct auth_principal *p = &set->items[i];
        p->unit_id = p->level == AUTH_LEVEL_HQ ? "" : p->unit + 7;
    }
    set->by_digest = malloc((set->n ? set->n : 1) * sizeof *set->by_digest);
    if (!set->by_digest) {
        auth_set_free(set);
        return err_set(why, -ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < set->n; i++)
        set->by_digest[i] = i;
    sorting = set;
    qsort(set->by_digest, set->n, sizeof *set->by_digest, cmp_digest);
    sorting = NULL;
    /* One token, one principal: a token on two lines (plain or as its hash)
     * is refused, naming both, rather than one line silently winning (a
     * line added to take a token's rights away would change nothing). */
    for (size_t i = 1; i < set->n; i++) {
        const struct auth_principal *a = &set->items[set->by_digest[i - 1]],
                                    *b = &set->items[set->by_digest[i]];
        if (!memcmp(a->token_sha256, b->token_sha256, 32)) {
            int first = a->line < b->line ? a->line : b->line;
            int again = a->line < b->line ? b->line : a->line;
            auth_set_free(set);
            return err_set(why, -ERR_USAGE,
                           "%s:%d: the token of line %d again (each token names one principal)",
                           name, again, first);
        }
    }
    *out = set;
    return 0;
}

int auth_set_load(const char *path, struct auth_set **out, struct err_detail *why)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(why, -ERR_IO, "cannot open tokens file %s", path);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            char *g = realloc(buf, cap);
            if (!g) {
                free(buf);
                fclose(f);
                return err_set(why, -ERR_NOMEM, "out of memory");
            }
            buf = g;
        }
        memcpy(buf + len, chunk, got);
        len += got;
    }
    fclose(f);
    if (!buf)
        buf = strdup("");
    else
        buf[len] = '\0';
    if (!buf)
        return err_set(why, -ERR_NOMEM, "out of memory");
    int rc = auth_set_parse(buf, path, out, why);
    free(buf);
    return rc;
}

int auth_set_check_units(const struct auth_set *set, auth_unit_known_fn *known, void *ctx,
                         struct err_detail *why)
{
    for (size_t i = 0; i < set->n; i++) {
        const struct auth_principal *p = &set->items[i];
        if (p->level != AUTH_LEVEL_HQ && !known(p->unit, ctx))
            return err_set(why, -ERR_USAGE, "%s:%d: unit '%s' is not in the org tree (hq/org.lua)",
                           set->name, p->line, p->unit);
    }
    return 0;
}

struct auth_set *auth_set_new_empty(void)
{
    return calloc(1, sizeof(struct auth_set));
}

void auth_set_free(struct auth_set *set)
{
    if (!set)
        return;
    free(set->items);
    free(set->by_digest);
    free(set);
}

size_t auth_set_count(const struct auth_set *set)
{
    return set->n;
}

const struct auth_principal *auth_find(const struct auth_set *set, const char *token, size_t len)
{
    uint8_t digest[32];
    crypto_hash_sha256(digest, (const unsigned char *)token, len);
    /* The first entry (in file order) of the lowest digest not below it. */
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(set->items[set->by_digest[mid]].token_sha256, digest, 32) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < set->n && !memcmp(set->items[set->by_digest[lo]].token_sha256, digest, 32))
        return &set->items[set->by_digest[lo]];
    return NULL;
}

bool auth_sees(const struct auth_principal *p, const char *region, const char *office)
{
    switch (p->level) {
    case AUTH_LEVEL_HQ:
        return true;
    case AUTH_LEVEL_REGION:
        return region && !strcmp(region, p->unit_id);
    case AUTH_LEVEL_OFFICE:
        return office && !strcmp(office, p->unit_id);
    }
    return false;
}
