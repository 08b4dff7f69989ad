-- North Region (L4): who nurtures a new lead. Leads from network analysis
-- ("technical") go to the office's least-loaded solution expert (sr), since
-- they start from the customer's network, not from an account; every other
-- lead goes to the least-loaded account manager (ar), as HQ's default does.
-- With neither role in the office, the least-loaded candidate.
-- candidates: { { id, name, roles = { ... }, open_leads = N }, ... } in id
-- order, at least one (the engine does not call this file for an office
-- without active people).
local function has(roles, role)
    for _, r in ipairs(roles or {}) do
        if r == role then return true end
    end
    return false
end

local function least_loaded(candidates, role)
    local best
    for _, c in ipairs(candidates) do
        if (role == nil or has(c.roles, role)) and (best == nil or c.open_leads < best.open_leads) then
            best = c
        end
    end
    return best
end

return function(lead, candidates)
    local role = lead.source == "technical" and "sr" or "ar"
    local best = least_loaded(candidates, role) or least_loaded(candidates, nil)
    return best.id
end
