-- An adaptation the South region submits (L4): hot from a score of 60, and
-- leads count as mature from 500,000.00 CNY decided within nine months.
-- Submit: LTC_TOKEN=south-admin-token bin/ltcctl rules put region/south \
--             thresholds.lua examples/adaptation/regions/south/thresholds.lua
-- HQ approves: LTC_TOKEN=hq-admin-token bin/ltcctl rules approve region/south V
return {
    mature_budget = 50000000, -- fen
    horizon_months = 9,
    hot = 60,
    warm = 30,
}
