/* engine/auth.h
 *
 * Principals and what they may see. A principal is one line of the tokens
 * file: `TOKEN UNIT ROLE [PERSON]`, where TOKEN is the secret itself or `sha256:HEX`
 * (its SHA-256), UNIT is `hq`, `region/ID` or `office/ID`, and ROLE one of
 * auth_role_names, and PERSON (optional) the person id of the holder, 1..63
 * of [a-z0-9_-], recorded beside the actor in instance events. Only the SHA-256 of each token is
 * kept in memory, and a presented token is compared against every entry in constant time.
 *
 * Scope: a principal sees the instances of its unit and of the units below it
 * (hq > region > office). Loop thread only.
 */
#ifndef ENGINE_AUTH_H
#define ENGINE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define AUTH_UNIT_MAX   80 /* bytes of "region/ID" or "office/ID", with NUL */
#define AUTH_PERSON_MAX 64 /* bytes of a person id, with NUL */

enum auth_role { AUTH_ADMIN, AUTH_REVIEWER, AUTH_AR, AUTH_SR, AUTH_FR, AUTH_FINANCE, AUTH_VIEWER };
enum auth_level { AUTH_LEVEL_OFFICE = 1, AUTH_LEVEL_REGION = 2, AUTH_LEVEL_HQ = 3 };

struct auth_principal {
    uint8_t token_sha256[32];
    char unit[AUTH_UNIT_MAX]; /* "hq", "region/south", "office/province-a" */
    enum auth_level level;    /* from the unit's prefix */
    const char *unit_id;      /* points into unit after the '/', "" for hq */
    enum auth_role role;
    int line;                     /* of the tokens file, for messages */
    char person[AUTH_PERSON_MAX]; /* "" when the tokens file names none */
};

struct auth_set; /* opaque; immutable once loaded */

/* Parse a tokens file. On success *out is a new set owned by the caller
 * (auth_set_free). Errors name the file and line; a token on two lines
 * (plain or hashed) is one of them. */
int auth_set_load(const char *path, struct auth_set **out, struct err_detail *why);

/* Parse tokens from a string (used by tests and auth_set_load). */
int auth_set_parse(const char *text, const char *name, struct auth_set **out,
                   struct err_detail *why);

/* Units of the org tree: every principal's unit must name a node of it.
 * 'known' answers for "region/ID" and "office/ID" ("hq" always exists).
 * The first unknown unit gives -ERR_USAGE, one line naming the file the
 * set was read from, the line and the unit. */
typedef bool auth_unit_known_fn(const char *unit, void *ctx);
int auth_set_check_units(const struct auth_set *set, auth_unit_known_fn *known, void *ctx,
                         struct err_detail *why);

/* An empty set: every token is unknown. */
struct auth_set *auth_set_new_empty(void);
void auth_set_free(struct auth_set *set);
size_t auth_set_count(const struct auth_set *set);

/* The principal holding 'token' (borrowed from the set), or NULL. A binary search over the tokens'
 * SHA-256 digests: its cost grows with the log of the number of tokens, and
 * its timing can tell of digests only, never of a token's bytes (a client
 * cannot choose a token whose digest comes near a stored one). */
const struct auth_principal *auth_find(const struct auth_set *set, const char *token, size_t len);

/* Parse "hq" / "region/ID" / "office/ID". Returns the level, or 0 if malformed. */
enum auth_level auth_unit_level(const char *unit);

/* True when the principal may see an instance of that region and office. */
bool auth_sees(const struct auth_principal *p, const char *region, const char *office);

const char *auth_role_name(enum auth_role role);
const char *auth_level_name(enum auth_level level);

#endif
