/* engine/money.h
 *
 * Money as text, both ways, exactly: amounts are int64 counts of the
 * currency's minor unit (fen for CNY, 100 to the yuan), never floating point.
 *
 * In: money_parse_minor("120000000") and money_parse_major("1200000.50"),
 * each the whole string or nothing: no sign but a leading '-' where the range
 * allows it, no spaces, no separators ("1,200"), no exponent ("1e6"), no hex,
 * no leading zeros; a major amount has at most two decimals ("12.5" is 1250
 * fen, "12.505" is refused, never rounded). Out: money_format(120000050,
 * "CNY") is "1,200,000.50 CNY", the one way ltcctl prints money (and the
 * dashboard shows it). Leaf module; no allocation.
 */
#ifndef ENGINE_MONEY_H
#define ENGINE_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Minor units to the major unit (fen to the yuan). */
#define MONEY_SCALE 100
/* The largest amount (in minor units) anything takes: what a double, a Lua
 * number and SQLite's arithmetic hold exactly (num.h's NUM_EXACT_MAX). */
#define MONEY_MAX ((int64_t)1 << 53)
/* Room for money_format's longest text: "-90,071,992,547,409.92 " + currency. */
#define MONEY_TEXT_MAX 48

/* Sums held within +-MONEY_MAX. A figure summed from many amounts (a
 * funnel stage, a pipeline, a roll-up) may pass 2^53 although none of its
 * parts does; it is then reported at the cap, +-MONEY_MAX, which no part
 * reaches alone but by an amount of exactly 2^53, and stays there: once a
 * part is at the cap, so is every sum it enters (money_capped tells).
 *
 * money_join: a kept sum's two columns (the store's _hi and _lo, see
 * store_schema.c's migration 14), hi * 2^32 + lo, held within the cap.
 * money_add: a + b held within the cap, the cap's sign that of a capped
 * operand (a's when both are). */
int64_t money_join(int64_t hi, int64_t lo);
int64_t money_add(int64_t a, int64_t b);
static inline bool money_capped(int64_t v)
{
    return v >= MONEY_MAX || v <= -MONEY_MAX;
}

/* Parse the whole of 's' as a count of minor units in [min, max]. 0 on
 * success (*out set), -1 for anything else (*out untouched). */
int money_parse_minor(const char *s, int64_t min, int64_t max, int64_t *out);

/* Parse the whole of 's' as major units with at most two decimals
 * ("1200000", "1200000.5", "1200000.50"), converted exactly to minor units
 * in [min, max]. 0 or -1 as money_parse_minor. */
int money_parse_major(const char *s, int64_t min, int64_t max, int64_t *out);

/* "1,200,000.00 CNY" into buf (n >= MONEY_TEXT_MAX holds any amount with a
 * three-letter currency); currency NULL or "" gives "1,200,000.00". Returns
 * buf, truncated to fit like snprintf. */
char *money_format(int64_t minor, const char *currency, char *buf, size_t n);

#endif
