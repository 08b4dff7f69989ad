-- Forecast (L1-L3, HQ, locked): an open instance's win probability and its
-- forecast category, for the pipeline (GET /v1/pipeline).
--
-- The engine calls, for each lead or opportunity with an expected close date,
--   probability(instance, stages) -> an integer percent 0..100
--   category(instance, probability) -> "commit" | "best_case" | "pipeline" | "omitted"
-- where stages are the probabilities per step below, overlaid by the
-- region's regions/ID/forecast.lua (L4, within bounds.lua's forecast.stages).
-- The instance is read-only here.
--
-- A step is how far the deal has come: "lead", "opportunity" (converted, no
-- gate yet), then the last key decision approved in order: "ATI", "ATB", "ATC".

local STAGES = { lead = 5, opportunity = 10, ATI = 25, ATB = 50, ATC = 80 }

local function passed(gate)
    return gate ~= nil and (gate.outcome == "approve" or gate.outcome == "approve_with_conditions")
end

local function step(instance)
    if instance.stage == "lead" then return "lead" end
    local gates, reached = instance.gates or {}, "opportunity"
    for _, kdp in ipairs({ "ATI", "ATB", "ATC" }) do
        if not passed(gates[kdp]) then break end
        reached = kdp
    end
    return reached
end

-- A rejected gate: the deal waits for its closure, nobody counts on it.
local function rejected(instance)
    for _, kdp in ipairs({ "ATI", "ATB", "ATC" }) do
        local g = (instance.gates or {})[kdp]
        if g ~= nil and g.outcome == "reject" then return true end
    end
    return false
end

local function probability(instance, stages)
    if rejected(instance) then return 0 end
    return stages[step(instance)] or 0
end

-- Commit: the contract decision is approved (or the odds are that good);
-- best case: the bid is authorised; pipeline: any other chance; omitted: none.
local function category(instance, p)
    if p == 0 then return "omitted" end
    if p >= 80 then return "commit" end
    if p >= 50 then return "best_case" end
    return "pipeline"
end

return { stages = STAGES, step = step, probability = probability, category = category }
