-- HQ's rule tests (tests.lua, every layer may have one): leads with the outcome
-- HQ's scoring and the fixed cut-offs must give them. Every new HQ version runs
-- them, each lead evaluated as a real lead of its office (the region's and the
-- office's active rules with the new HQ version), and is refused when one fails.
-- A test: { name = "...", lead = { a lead body }, expect = { maturity, temperature,
-- recommendation, score_min, score_max } } (any subset of expect).
-- They hold whatever a region's thresholds are within HQ's bounds.

local function lead(office, signals, budget, horizon)
    return {
        office = office, customer = "Test Customer", title = "Test opportunity",
        source = "sales", horizon_months = horizon,
        budget = budget, signals = signals,
    }
end

local STRONG = {
    strategic_fit = 5, urgency = 5, procurement_path = 5, relationship = 5, coach = 5,
    solution_maturity = 5, differentiation = 5, team_availability = 5,
}
local APPROVED = { amount = 300000000, currency = "CNY", status = "approved" } -- 3,000,000.00 CNY
local NONE = { amount = 0, currency = "CNY", status = "none" }

return {
    {
        name = "a strong lead with an approved budget deciding soon converts",
        lead = lead("province-a", STRONG, APPROVED, 3),
        expect = { maturity = "mature", temperature = "hot", recommendation = "convert", score_min = 90 },
    },
    {
        name = "the same lead in the North converts too",
        lead = lead("city-c", STRONG, APPROVED, 3),
        expect = { maturity = "mature", temperature = "hot", recommendation = "convert" },
    },
    {
        name = "a fitting lead we know nothing else about is cold and nurtured",
        lead = lead("province-b", { strategic_fit = 3 }, NONE, 6),
        expect = { maturity = "early", temperature = "cold", recommendation = "nurture", score_max = 10 },
    },
    {
        name = "no strategic fit closes, however strong",
        lead = lead("province-a", { strategic_fit = 1, urgency = 5, relationship = 5, coach = 5 },
                    APPROVED, 3),
        expect = { recommendation = "close" },
    },
    {
        name = "unacceptable risk closes",
        lead = lead("city-d", { strategic_fit = 5, risk = 4, urgency = 5, relationship = 5 },
                    APPROVED, 3),
        expect = { recommendation = "close" },
    },
}
