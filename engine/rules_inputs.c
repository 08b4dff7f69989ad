/* engine/rules_inputs.c: the inputs HQ declares as data, read once per HQ
 * version when it loads: the lead signals of lead.lua (name, range, meaning)
 * and the body fields of each process action of process.lua. Requests are
 * checked against the declaration of the version they run under; a missing
 * declaration checks nothing beyond the engine's own checks (lead.c). */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "lead.h"
#include "rules_internal.h"

/* Body keys the engine itself reads, accepted by every action. */
static const char *const engine_keys[] = {"action", "at", NULL};

/* "a, b, c" of an object's keys, sorted (jansson keeps insertion order, and
 * Lua's pairs has none), into out. */
static void key_list(const json_t *o, char *out, size_t n)
{
    const char *names[RULES_INPUTS_MAX];
    size_t count = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        if (count < RULES_INPUTS_MAX)
            names[count++] = k;
    }
    for (size_t i = 1; i < count; i++) /* insertion sort: at most RULES_INPUTS_MAX */
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < count && len < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%s", i ? ", " : "", names[i]);
}

/* --- the declarations, checked at load ----------------------------------- */

static int check_signal(const char *name, const json_t *d, struct err_detail *why)
{
    const char *f = "hq/lead.lua";
    if (!lead_valid_id(name))
        return err_field(why, -ERR_RULE_REJECTED, "signals",
                         "%s: signals: name '%.40s' is not an ID [a-z0-9_-]", f, name);
    if (!json_is_object(d))
        return err_field(why, -ERR_RULE_REJECTED, "signals",
                         "%s: signals.%s: expected { min = INT, max = INT, meaning = \"text\" }", f,
                         name);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)d, k, v)
    {
        if (strcmp(k, "min") && strcmp(k, "max") && strcmp(k, "meaning"))
            return err_field(why, -ERR_RULE_REJECTED, "signals",
                             "%s: signals.%s.%.40s: unknown key (accepted: max, meaning, min)", f,
                             name, k);
    }
    const json_t *min = json_object_get(d, "min"), *max = json_object_get(d, "max"),
                 *meaning = json_object_get(d, "meaning");
    if (!json_is_integer(min) || !json_is_integer(max) || json_integer_value(min) < 0 ||
        json_integer_value(max) > 5 || json_integer_value(min) > json_integer_value(max))
        return err_field(why, -ERR_RULE_REJECTED, "signals",
                         "%s: signals.%s: min and max must be integers with 0 <= min <= max <= 5",
                         f, name);
    size_t n = json_string_length(meaning);
    if (!json_is_string(meaning) || n == 0 || n > RULES_MEANING_MAX)
        return err_field(why, -ERR_RULE_REJECTED, "signals",
                         "%s: signals.%s.meaning: expected text of 1 to %d bytes", f, name,
                         RULES_MEANING_MAX);
    return 0;
}

static int load_signals(struct rules_version *v, struct err_detail *why)
{
    if (sandbox_kind(v->sb, "lead.lua", "signals") == SANDBOX_NONE)
        return 0;
    json_t *s = NULL;
    int rc = sandbox_call(v->sb, "lead.lua", "signals", NULL, 0, &s, why);
    if (rc)
        return rc;
    const json_t *o = rules__as_object(s);
    if (!json_is_object(o) || json_object_size(o) == 0 || json_object_size(o) > LEAD_SIGNALS_MAX)
        rc = err_field(why, -ERR_RULE_REJECTED, "signals",
                       "hq/lead.lua: signals: expected a table of 1 to %d signals "
                       "{ NAME = { min, max, meaning } }",
                       LEAD_SIGNALS_MAX);
    const char *k;
    json_t *d;
    if (!rc)
        json_object_foreach((json_t *)o, k, d)
        {
            if ((rc = check_signal(k, d, why)))
                break;
        }
    if (!rc)
        v->signals = json_deep_copy(o);
    json_decref(s);
    return rc ? rc : v->signals ? 0 : err_set(why, -ERR_NOMEM, "out of memory");
}

/* A list of distinct field names into a new object { NAME: true }. */
static int field_set(const json_t *list, const char *what, json_t *into, struct err_detail *why)
{
    const char *f = "hq/process.lua";
    if (!json_is_array(list) || json_array_size(list) > RULES_INPUTS_MAX)
        return err_field(why, -ERR_RULE_REJECTED, "bodies",
                         "%s: %s: expected a list of at most %d field names", f, what,
                         RULES_INPUTS_MAX);
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        const char *name = json_string_value(x);
        if (!name || !lead_valid_id(name))
            return err_field(why, -ERR_RULE_REJECTED, "bodies",
                             "%s: %s[%zu]: expected a field name [a-z0-9_-]", f, what, i + 1);
        if (rules__in_list(engine_keys, name) || json_object_get(into, name))
            return err_field(why, -ERR_RULE_REJECTED, "bodies",
                             "%s: %s[%zu]: '%s' is listed twice (action and at are the engine's)",
                             f, what, i + 1, name);
        if (json_object_set_new(into, name, json_true()))
            return err_set(why, -ERR_NOMEM, "out of memory");
    }
    if (json_object_size(into) > RULES_INPUTS_MAX)
        return err_field(why, -ERR_RULE_REJECTED, "bodies", "%s: %s: more than %d fields", f, what,
                         RULES_INPUTS_MAX);
    return 0;
}

/* bodies = { ACTION = { FIELD, ... }, ... } and body_common = { FIELD, ... }
 * become v->bodies = { ACTION: { FIELD: true, ... } } with the common fields
 * and the engine's keys in each. */
static int load_bodies(struct rules_version *v, struct err_detail *why)
{
    if (sandbox_kind(v->sb, "process.lua", "bodies") == SANDBOX_NONE)
        return 0;
    json_t *b = NULL, *common = NULL, *out = json_object(), *shared = json_object();
    int rc = out && shared ? 0 : err_set(why, -ERR_NOMEM, "out of memory");
    if (!rc)
        rc = sandbox_call(v->sb, "process.lua", "bodies", NULL, 0, &b, why);
    if (!rc && sandbox_kind(v->sb, "process.lua", "body_common") != SANDBOX_NONE &&
        !(rc = sandbox_call(v->sb, "process.lua", "body_common", NULL, 0, &common, why)))
        rc = field_set(common, "body_common", shared, why);
    const json_t *o = rc ? NULL : rules__as_object(b);
    if (!rc &&
        (!json_is_object(o) || json_object_size(o) == 0 || json_object_size(o) > RULES_INPUTS_MAX))
        rc = err_field(why, -ERR_RULE_REJECTED, "bodies",
                       "hq/process.lua: bodies: expected { ACTION = { FIELD, ... } } for 1 to %d "
                       "actions",
                       RULES_INPUTS_MAX);
    const char *action;
    json_t *list;
    if (!rc)
        json_object_foreach((json_t *)o, action, list)
        {
            char what[80];
            snprintf(what, sizeof what, "bodies.%.40s", action);
            json_t *fields = json_deep_copy(shared);
            if (!lead_valid_id(action) || !strcmp(action, "reevaluate"))
                rc = err_field(why, -ERR_RULE_REJECTED, "bodies",
                               "hq/process.lua: %s: not an action name (reevaluate is the "
                               "engine's)",
                               what);
            else if (!fields)
                rc = err_set(why, -ERR_NOMEM, "out of memory");
            else
                rc = field_set(list, what, fields, why);
            for (const char *const *k = engine_keys; !rc && *k; k++)
                json_object_set_new(fields, *k, json_true());
            if (!rc)
                json_object_set_new(out, action, fields);
            else
                json_decref(fields);
            if (rc)
                break;
        }
    if (!rc) {
        v->bodies = out;
        out = NULL;
    }
    json_decref(out);
    json_decref(shared);
    json_decref(common);
    json_decref(b);
    return rc;
}

int rules__inputs_load(struct rules_version *v, struct err_detail *why)
{
    int rc = load_signals(v, why);
    return rc ? rc : load_bodies(v, why);
}

/* --- requests against the declarations ----------------------------------- */

int rules__check_signals(const struct rules_version *hq, const json_t *lead, struct err_detail *why)
{
    if (!hq->signals)
        return 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(lead, "signals"), k, v)
    {
        const json_t *d = json_object_get(hq->signals, k);
        char field[80];
        snprintf(field, sizeof field, "signals.%.60s", k);
        if (!d) {
            char known[RULES_INPUTS_MAX * 66];
            key_list(hq->signals, known, sizeof known);
            return err_field(why, -ERR_INVALID_FIELD, field,
                             "%s: unknown signal (HQ's signals: %s)", field, known);
        }
        json_int_t n = json_integer_value(v), min = json_integer_value(json_object_get(d, "min")),
                   max = json_integer_value(json_object_get(d, "max"));
        if (n < min || n > max)
            return err_field(why, -ERR_INVALID_FIELD, field,
                             "%s: %lld is outside its range %lld..%lld (%s)", field, (long long)n,
                             (long long)min, (long long)max,
                             json_string_value(json_object_get(d, "meaning")));
    }
    return 0;
}

int rules__check_body(const struct rules_version *hq, const json_t *input, struct err_detail *why)
{
    if (!hq->bodies)
        return 0;
    const char *action = json_string_value(json_object_get(input, "action"));
    const json_t *fields = action ? json_object_get(hq->bodies, action) : NULL;
    char list[RULES_INPUTS_MAX * 66];
    if (!fields) /* process.lua refuses it, naming the actions of the instance's stage */
        return 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)input, k, v)
    {
        if (json_object_get(fields, k))
            continue;
        key_list(fields, list, sizeof list);
        const char *name = k[0] ? k : "(an empty key)"; /* the field names something */
        return err_field(why, -ERR_INVALID_FIELD, name, "%.60s: unknown field of %s (accepted: %s)",
                         name, action, list);
    }
    return 0;
}
