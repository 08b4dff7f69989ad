/* tests/fuzz/money_fuzz.c: money text both ways and ltcctl's command-line
 * values (amounts, numbers, dates, ids, units, periods, ISO weeks, choices,
 * text):
 * nothing crashes, every accepted amount prints and parses back to
 * itself, and every refusal carries a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli_value.h"
#include "money.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t v;
    char text[MONEY_TEXT_MAX], plain[MONEY_TEXT_MAX];
    if (!money_parse_minor(s, -MONEY_MAX, MONEY_MAX, &v)) {
        money_format(v, "CNY", text, sizeof text);
        /* "1,200.50": drop the separators, read it back as yuan. */
        size_t k = 0;
        for (const char *p = money_format(v, NULL, text, sizeof text); *p; p++)
            if (*p != ',')
                plain[k++] = *p;
        plain[k] = '\0';
        int64_t back;
        if (money_parse_major(plain, -MONEY_MAX, MONEY_MAX, &back) || back != v)
            abort();
    }
    if (!money_parse_major(s, -MONEY_MAX, MONEY_MAX, &v) && (v < -MONEY_MAX || v > MONEY_MAX))
        abort();
    struct err_detail why = {0};
    char name[64], key[64];
    const char *val;
    double d;
    bool whole;
    static const char *const kinds[] = {"visit", "call", "workshop", "budget_table", NULL};
    int rcs[] = {
        cli_fen("--amount", s, 0, MONEY_MAX, "--yuan", &v, &why),
        cli_yuan("--yuan", s, 0, MONEY_MAX, &v, &why),
        cli_int("--limit", s, 1, 500, &v, &why),
        cli_percent("discount", s, -100, 100, &d, &whole, &why),
        cli_date("at", s, &why),
        cli_signal("--signal", s, name, &v, &why),
        cli_key_value(s, key, &val, &why),
        cli_id("--office", s, &why),
        cli_unit("--unit", s, &why),
        cli_unit_or_customer("--unit", s, &why),
        cli_period("--period", s, &why),
        cli_week("--week", s, &why),
        cli_choice("--kind", s, kinds, &why),
        cli_text("--note", s, 200, &why),
    };
    for (size_t i = 0; i < sizeof rcs / sizeof *rcs; i++)
        if (rcs[i] && !why.msg[0])
            abort();
    if (!cli_signal("--signal", s, name, &v, &why) && (v < 0 || v > CLI_SIGNAL_MAX))
        abort();
    free(s);
    return 0;
}
