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
    -- Lead management: the review queue's priority (lead.lua priority) and
    -- HQ's default owner, the least-loaded account manager (ties: smallest id).
    {
        name = "a hot, mature lead leads the review queue",
        lead = lead("province-a", STRONG, APPROVED, 3),
        expect = { priority_min = 300 },
    },
    {
        name = "a lead failing the first question goes to the end of the queue",
        lead = lead("province-a", { strategic_fit = 1, urgency = 5 }, APPROVED, 3),
        expect = { recommendation = "close", priority_max = 0 },
    },
    {
        name = "HQ gives a new lead to the least-loaded account manager",
        lead = lead("province-a", STRONG, APPROVED, 3),
        candidates = {
            { id = "amy", roles = { "ar" }, open_leads = 4 },
            { id = "bob", roles = { "ar", "sr" }, open_leads = 2 },
            { id = "cho", roles = { "ar" }, open_leads = 2 },
            { id = "dee", roles = { "sr" }, open_leads = 0 },
        },
        expect = { owner = "bob" },
    },
    -- scorecard.lua: 2 points a visit below the minimum, 5 an overdue budget table.
    {
        name = "five visits of six and no overdue table lose 2 points",
        card = { person = "t", roles = { "ar" }, visits = 5, visits_min = 6, below_min = true,
                 budget_tables_overdue = 0 },
        expect = { points_lost = 2 },
    },
    {
        name = "six visits of six lose nothing; two overdue tables lose 10",
        card = { person = "t", roles = { "ar" }, visits = 6, visits_min = 6, below_min = false,
                 budget_tables_overdue = 2 },
        expect = { points_lost = 10 },
    },
    -- forecast.lua: a deal's step gives its probability (HQ's defaults, North has
    -- no forecast.lua), the probability its category.
    {
        name = "a North lead is a 5% pipeline deal",
        instance = { stage = "lead", region = "north", gates = {} },
        expect = { probability = 5, category = "pipeline" },
    },
    {
        name = "a North deal with ATC approved is a commit at 80%",
        instance = { stage = "opportunity", region = "north", gates = {
            ATI = { outcome = "approve" }, ATB = { outcome = "approve_with_conditions" },
            ATC = { outcome = "approve" } } },
        expect = { probability = 80, category = "commit" },
    },
    {
        name = "a rejected bid is omitted",
        instance = { stage = "opportunity", region = "north", gates = {
            ATI = { outcome = "approve" }, ATB = { outcome = "reject" } } },
        expect = { probability = 0, category = "omitted" },
    },
    -- process.lua migrate: an open instance moves unless a decision is deferred.
    {
        name = "an opportunity migrates",
        instance = { stage = "opportunity", gates = { ATI = { outcome = "approve" } } },
        from = 1,
        expect = { migrate = true },
    },
    {
        name = "a deferred decision keeps the instance on its version",
        instance = { stage = "opportunity", gates = { ATI = { outcome = "defer" } } },
        from = 3,
        expect = { migrate = "ATI was deferred under hq v3" },
    },
}
