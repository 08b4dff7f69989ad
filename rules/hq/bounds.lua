-- Bounds HQ sets on every value a lower layer may provide (L4 files).
-- A leaf is { min = N, max = N, integer = true|nil }; a value without a bound
-- here is not an extension point, and the bundle that provides it is rejected.
-- `relations` (at the end) ties values together beyond their own ranges.
return {
    thresholds = {
        mature_budget = { min = 0, max = 1000000000000, integer = true }, -- fen
        horizon_months = { min = 1, max = 36, integer = true },
        hot = { min = 50, max = 95 },
        warm = { min = 20, max = 80 },
        -- Lead management: days a nurtured lead waits before it is reviewed
        -- again (HQ default: lead.lua review.nurture_days) and the customer
        -- visits a week each front-line person owes (HQ default: scorecard.lua
        -- visits_min).
        nurture_days = { min = 7, max = 90, integer = true },
        visits_per_week = { min = 3, max = 15, integer = true },
    },
    authority = {
        office = {
            max_value = { min = 0, max = 5000000000, integer = true },
            max_discount = { min = 0, max = 20 },
            min_margin = { min = 5, max = 60 },
        },
        region = {
            max_value = { min = 0, max = 50000000000, integer = true },
            max_discount = { min = 0, max = 35 },
            min_margin = { min = 0, max = 60 },
        },
    },
    share = {
        platform = { min = 5, max = 30 },
        triangle = {
            ar = { min = 20, max = 60 },
            sr = { min = 10, max = 50 },
            fr = { min = 10, max = 50 },
        },
    },
    -- Win probabilities per step (forecast.lua), in percent: a region's
    -- forecast.lua may set any of them within these ranges.
    forecast = {
        stages = {
            lead = { min = 0, max = 20, integer = true },
            opportunity = { min = 0, max = 40, integer = true },
            ATI = { min = 5, max = 60, integer = true },
            ATB = { min = 20, max = 80, integer = true },
            ATC = { min = 50, max = 95, integer = true },
        },
    },
    -- Relations between the values above, checked on what a lower layer's file
    -- gives, HQ's defaults standing in for what it leaves out. A relation is
    -- { sum = { "SECTION.FIELD", ... }, total = N }: those values add up to N.
    relations = {
        { sum = { "share.triangle.ar", "share.triangle.sr", "share.triangle.fr" }, total = 100 },
    },
}
