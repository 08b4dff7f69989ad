-- Lead evaluation (L3, HQ). The engine calls evaluate(lead, thresholds) and
-- applies the fixed cut-offs (CONTRACT section 4) to what it returns:
--   { score = 0..100, fit = bool, risk_ok = bool, reasons = { "...", ... } }
-- The three questions of the lead review meeting:
--   1. Is this a lead at all?   strategic fit, acceptable risk
--   2. How far away is it?      urgency, procurement path, budget, horizon
--   3. Can we win?              relationship, coach, solution, differentiation,
--                               team availability, competition
-- Signals are 0..5 as the lead's author rates them; a missing signal counts 0
-- (competition and risk count 0 as "none"). SIGNALS below declares every
-- signal HQ knows: the engine refuses a lead naming any other (a misspelt
-- strategy_fit would otherwise count as 0) or a value outside its range.

local SIGNALS = {
    strategic_fit = { min = 0, max = 5,
        meaning = "the need fits our strategy (question 1; below 2 closes the lead)" },
    risk = { min = 0, max = 5,
        meaning = "risk of the deal (question 1; above 3 closes the lead)" },
    urgency = { min = 0, max = 5,
        meaning = "the customer's business need is urgent (question 2)" },
    procurement_path = { min = 0, max = 5,
        meaning = "the procurement path is clear (question 2)" },
    relationship = { min = 0, max = 5,
        meaning = "our relationship with the customer (question 3)" },
    coach = { min = 0, max = 5,
        meaning = "a coach inside the customer helps us (question 3)" },
    solution_maturity = { min = 0, max = 5,
        meaning = "our solution is mature for this need (question 3)" },
    differentiation = { min = 0, max = 5,
        meaning = "our value proposition stands apart (question 3)" },
    team_availability = { min = 0, max = 5,
        meaning = "the key sales team is available (question 3)" },
    competition = { min = 0, max = 5,
        meaning = "strength of the competition (0: none; lowers the score)" },
}

local WEIGHTS = {           -- points per signal level (5 levels)
    urgency = 3, procurement_path = 2,
    relationship = 2, coach = 1.5, solution_maturity = 1.5,
    differentiation = 1.5, team_availability = 1,
}

local function signal(lead, name)
    return lead.signals[name] or 0
end

local function evaluate(lead, thresholds)
    local reasons = {}
    local fit = signal(lead, "strategic_fit") >= 2
    local risk_ok = signal(lead, "risk") <= 3
    if not fit then reasons[#reasons + 1] = "no strategic fit (strategic_fit < 2)" end
    if not risk_ok then reasons[#reasons + 1] = "risk not acceptable (risk > 3)" end

    local points, max = 0, 0
    for name, w in pairs(WEIGHTS) do
        points = points + w * signal(lead, name)
        max = max + w * 5
    end
    points = points - 1.5 * signal(lead, "competition")
    local score = 100 * points / max
    if lead.budget.status == "approved" then
        score = score + 10
        reasons[#reasons + 1] = "customer budget approved"
    elseif lead.budget.status == "planned" then
        score = score + 5
    end
    if lead.horizon_months > thresholds.horizon_months then
        score = score - 10
        reasons[#reasons + 1] = "decision beyond " .. thresholds.horizon_months .. " months"
    end
    if score < 0 then score = 0 elseif score > 100 then score = 100 end
    score = math.floor(score * 10 + 0.5) / 10
    return { score = score, fit = fit, risk_ok = risk_ok, reasons = reasons }
end

-- The review queue's order (lead management): the engine calls
-- priority(lead, evaluation) for every lead waiting for review and lists the
-- highest first. Hot and mature leads come first, then the score; a lead the
-- first question rejects goes to the end so the meeting can close it.
local TEMPERATURE_BONUS = { hot = 200, warm = 100, cold = 0 }
local function priority(lead, evaluation)
    if evaluation.recommendation == "close" then return evaluation.score - 1000 end
    local p = evaluation.score + (TEMPERATURE_BONUS[evaluation.temperature] or 0)
    if evaluation.maturity == "mature" then p = p + 50 end
    return p
end

return {
    evaluate = evaluate,
    signals = SIGNALS,
    -- HQ defaults; a region's thresholds.lua overrides any of them within bounds.
    thresholds = { mature_budget = 100000000, horizon_months = 12, hot = 70, warm = 40 },
    -- HQ defaults for lead fields a body leaves out; an office's tools.lua overrides.
    defaults = { budget = { currency = "CNY" }, signals = {} },
    -- Sample leads every new version (HQ, region, office) must evaluate.
    samples = {
        {
            office = "province-a", customer = "Sample Telecom", title = "Core network refresh",
            source = "sales", horizon_months = 6,
            budget = { amount = 300000000, currency = "CNY", status = "approved" },
            signals = { strategic_fit = 4, urgency = 4, relationship = 3, coach = 2 },
        },
        {
            office = "city-c", customer = "Sample Grid", title = "Metering pilot",
            source = "technical", horizon_months = 24,
            budget = { amount = 0, currency = "CNY", status = "none" },
            signals = {},
        },
    },
    -- Lead management: the queue's priority, and the review meeting's days
    -- (a region's thresholds.lua may set nurture_days within bounds.lua).
    priority = priority,
    review = { nurture_days = 14, stale_days = 21 },
}
