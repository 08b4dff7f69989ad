-- The tests of the adaptation (tests.lua, L4): what hot from 60 and mature from
-- 500,000.00 CNY within nine months mean for South's leads. Pushed with the
-- thresholds as one version, they run before it can wait for HQ; try them
-- offline first (HQ's rules fetched from the daemon, or --hq rules/hq):
--   bin/ltcctl rules test examples/adaptation/regions/south --hq rules/hq
-- Each lead scores 100 x (weighted signals) / 62.5, +10 with an approved budget,
-- +5 with a planned one, -10 when the decision is beyond the horizon.

local function lead(amount, status, horizon, signals)
    return {
        office = "province-a", customer = "Test Port Authority", title = "Terminal automation",
        source = "sales", horizon_months = horizon,
        budget = { amount = amount, currency = "CNY", status = status },
        signals = signals,
    }
end

-- urgency 5, relationship 5, coach 5: 32.5 of 62.5 points, a score of 52.
local GOOD = { strategic_fit = 4, urgency = 5, relationship = 5, coach = 5 }

return {
    {
        name = "a lead scoring 62 is hot from 60",
        lead = lead(60000000, "approved", 6, GOOD),
        expect = { temperature = "hot", maturity = "mature", recommendation = "convert",
                   score_min = 62, score_max = 62 },
    },
    {
        name = "500,000 CNY approved and decided within nine months is mature",
        lead = lead(50000000, "approved", 9, GOOD),
        expect = { maturity = "mature", recommendation = "convert" },
    },
    {
        name = "a decision in ten months is early",
        lead = lead(50000000, "approved", 10, GOOD),
        expect = { maturity = "early", temperature = "warm", recommendation = "nurture" },
    },
    {
        name = "a lead scoring 30.6 is warm from 30",
        lead = lead(20000000, "planned", 6, { strategic_fit = 3, urgency = 3, relationship = 2, coach = 2 }),
        expect = { temperature = "warm", score_min = 30, score_max = 35 },
    },
}
