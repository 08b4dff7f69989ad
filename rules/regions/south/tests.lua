-- South Region's rule tests (L4): the outcomes South commits to, checked on every
-- new version of its bundle with HQ's active rules and the offices' active tools.
-- They are guard rails around the thresholds (mature from at most 1,200,000 CNY,
-- a decision more than a year away never mature, a middling lead warm and not
-- hot), so a retuning inside them needs no change here; one that moves an
-- outcome changes its test in the same version (ltcctl rules push the directory).
-- Try them offline first: ltcctl rules test rules/regions/south

local function lead(amount, status, horizon, signals)
    return {
        office = "province-a", customer = "Test Port Authority", title = "Terminal automation",
        source = "sales", horizon_months = horizon,
        budget = { amount = amount, currency = "CNY", status = status },
        signals = signals,
    }
end

local TOP = {
    strategic_fit = 5, urgency = 5, procurement_path = 5, relationship = 5, coach = 5,
    solution_maturity = 5, differentiation = 5, team_availability = 5,
}
local MIDDLING = { strategic_fit = 4, urgency = 4, procurement_path = 3, relationship = 3, coach = 2 }

return {
    {
        name = "an approved 1,200,000 CNY budget deciding in six months converts",
        lead = lead(120000000, "approved", 6, TOP),
        expect = { maturity = "mature", temperature = "hot", recommendation = "convert", score_min = 95 },
    },
    {
        name = "a 400,000 CNY budget is still early",
        lead = lead(40000000, "approved", 6, TOP),
        expect = { maturity = "early", recommendation = "nurture" },
    },
    {
        name = "a decision thirteen months away is early even with the budget approved",
        lead = lead(300000000, "approved", 13, TOP),
        expect = { maturity = "early", recommendation = "nurture" },
    },
    {
        name = "a middling lead with a planned budget is warm, not hot",
        lead = lead(80000000, "planned", 6, MIDDLING),
        expect = { temperature = "warm", score_min = 40, score_max = 50 },
    },
    {
        name = "a fitting lead we know nothing else about is cold",
        lead = lead(0, "none", 6, { strategic_fit = 3 }),
        expect = { temperature = "cold", recommendation = "nurture" },
    },
    {
        name = "no strategic fit closes",
        lead = lead(120000000, "approved", 6, { strategic_fit = 1, urgency = 5, relationship = 5 }),
        expect = { recommendation = "close" },
    },
    -- forecast.lua: South's bids are won more often than HQ assumes.
    {
        name = "a South deal with ATB approved is best case at 60%",
        instance = { stage = "opportunity", region = "south", gates = {
            ATI = { outcome = "approve" }, ATB = { outcome = "approve" } } },
        expect = { probability = 60, category = "best_case" },
    },
    {
        name = "a South deal with ATC approved is a commit at 85%",
        instance = { stage = "opportunity", region = "south", gates = {
            ATI = { outcome = "approve" }, ATB = { outcome = "approve" }, ATC = { outcome = "approve" } } },
        expect = { probability = 85, category = "commit" },
    },
}
