/* tests/fuzz/tokens_fuzz.c: the tokens file parser, with its optional
 * person column, and its units against an org tree: whatever the input, a
 * refusal says why (every unit refusal names file, line and unit), and every
 * principal found has a well-formed unit and a person id that is empty or
 * 1..63 of [a-z0-9_-]. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

static bool known(const char *unit, void *ctx)
{
    (void)ctx;
    return !strcmp(unit, "region/south") || !strcmp(unit, "office/province-a");
}

static void check_person(const struct auth_principal *p)
{
    size_t n = strnlen(p->person, sizeof p->person);
    if (n == sizeof p->person)
        abort(); /* not terminated */
    for (size_t i = 0; i < n; i++) {
        char c = p->person[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            abort();
    }
    if (!auth_unit_level(p->unit))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct auth_set *set = NULL;
    struct err_detail why = {0};
    if (auth_set_parse(text, "fuzz", &set, &why) == 0) {
        auth_find(set, text, strlen(text));
        struct err_detail u = {0};
        if (auth_set_check_units(set, known, NULL, &u) && !strstr(u.msg, "fuzz:"))
            abort();
        /* Each line's first word is a token (or a sha256: form that finds nothing). */
        for (char *line = text; line && *line;) {
            char *nl = strchr(line, '\n');
            size_t skip = strspn(line, " \t\r");
            size_t len = strcspn(line + skip, " \t\r\n#");
            const struct auth_principal *p = len ? auth_find(set, line + skip, len) : NULL;
            if (p)
                check_person(p);
            line = nl ? nl + 1 : NULL;
        }
        auth_set_free(set);
    } else if (!why.msg[0]) {
        abort();
    }
    free(text);
    return 0;
}
