-- Acquire-and-share (L1-L3, HQ): how a bonus pool is split, level by level.
-- The engine builds the tree hq -> regions -> (platform, offices) -> projects
-- -> people from the period's collected cash and margin, and calls
--   split(level, groups, params)
-- once for the regions (level "region", params nil) and, per region, for its
-- offices ("office"), its projects ("project") and the projects' people
-- ("person"), with that region's share.lua parameters (L4, within HQ bounds).
-- A group is { total = INT, units = { { key = K, contribution = INT }, ... } };
-- the result is one { [K] = INT } per group, in order. The engine checks,
-- whatever this returns: integer money, no negative part, parts summing
-- exactly to the total, more contribution never getting less.
-- Contribution is contribution gross profit: cash collected x margin.

local DEFAULTS = { platform = 10, triangle = { ar = 40, sr = 30, fr = 30 } }

-- Largest remainder over the contributions (host.split).
local function by_weight(total, units, weight_of)
    if #units == 0 then return {} end
    local weights = {}
    for i, u in ipairs(units) do weights[i] = weight_of(u) end
    local amounts = host.split(total, weights)
    local out = {}
    for i, u in ipairs(units) do out[u.key] = amounts[i] end
    return out
end

local function contribution(u) return u.contribution end

local function split_office(group, params)
    local offices = {}
    for _, u in ipairs(group.units) do
        if u.key ~= "platform" then offices[#offices + 1] = u end
    end
    local platform = math.floor(group.total * (params.platform or DEFAULTS.platform) / 100)
    if #offices == 0 then platform = group.total end
    local out = by_weight(group.total - platform, offices, contribution)
    out.platform = platform
    return out
end

local function split_person(group, params)
    local triangle = params.triangle or DEFAULTS.triangle
    return by_weight(group.total, group.units, function(u)
        return triangle[u.key] or DEFAULTS.triangle[u.key] or 0
    end)
end

local function split(level, groups, params)
    params = params or DEFAULTS
    local out = {}
    for g, group in ipairs(groups) do
        if level == "office" then
            out[g] = split_office(group, params)
        elseif level == "person" then
            out[g] = split_person(group, params)
        else
            out[g] = by_weight(group.total, group.units, contribution)
        end
    end
    return out
end

return { split = split, params = DEFAULTS }
