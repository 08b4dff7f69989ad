-- North Region's rule tests (L4), run on every new version of its bundle: what
-- its thresholds function means. Technical leads from network analysis stay
-- mature over the long state-grid cycles (18 months); other leads do not, and
-- heat is judged stricter than HQ's default (hot from 75, warm from 45).
-- Try them offline first: ltcctl rules test rules/regions/north

local function lead(source, amount, status, horizon, signals)
    return {
        office = "city-c", customer = "Test Grid Company", title = "Substation monitoring",
        source = source, horizon_months = horizon,
        budget = { amount = amount, currency = "CNY", status = status },
        signals = signals,
    }
end

local TOP = {
    strategic_fit = 5, urgency = 5, procurement_path = 5, relationship = 5, coach = 5,
    solution_maturity = 5, differentiation = 5, team_availability = 5,
}

return {
    {
        name = "a technical lead deciding in fifteen months is still mature",
        lead = lead("technical", 300000000, "approved", 15, TOP),
        expect = { maturity = "mature", temperature = "hot", recommendation = "convert" },
    },
    {
        name = "a sales lead deciding in fifteen months is early",
        lead = lead("sales", 300000000, "approved", 15, TOP),
        expect = { maturity = "early", recommendation = "nurture" },
    },
    {
        name = "a score of 71.6 is warm here, not hot",
        lead = lead("sales", 300000000, "approved", 6, {
            strategic_fit = 4, urgency = 5, procurement_path = 4, relationship = 4, coach = 3,
            solution_maturity = 2,
        }),
        expect = { temperature = "warm", recommendation = "convert", score_min = 70, score_max = 75 },
    },
    {
        name = "a sales lead scoring 40.2 is cold here",
        lead = lead("sales", 80000000, "planned", 6, {
            strategic_fit = 4, urgency = 3, procurement_path = 3, relationship = 2, coach = 2,
        }),
        expect = { temperature = "cold", recommendation = "nurture", score_min = 40, score_max = 45 },
    },
    {
        name = "no strategic fit closes",
        lead = lead("technical", 300000000, "approved", 6, { strategic_fit = 0, urgency = 5 }),
        expect = { recommendation = "close" },
    },
    -- assignment.lua: technical leads to the least-loaded solution expert,
    -- the others to the least-loaded account manager.
    {
        name = "a technical lead goes to the least-loaded solution expert",
        lead = lead("technical", 300000000, "approved", 6, TOP),
        candidates = {
            { id = "an", roles = { "ar" }, open_leads = 0 },
            { id = "sa", roles = { "sr" }, open_leads = 3 },
            { id = "sb", roles = { "sr", "ar" }, open_leads = 1 },
        },
        expect = { owner = "sb" },
    },
    {
        name = "a sales lead goes to the least-loaded account manager",
        lead = lead("sales", 300000000, "approved", 6, TOP),
        candidates = {
            { id = "an", roles = { "ar" }, open_leads = 2 },
            { id = "sa", roles = { "sr" }, open_leads = 0 },
            { id = "sb", roles = { "sr", "ar" }, open_leads = 1 },
        },
        expect = { owner = "sb" },
    },
}
