-- South Region (L4): a fast-moving market; smaller deals are already mature
-- and heat is judged a little lower than HQ's default.
return {
    mature_budget = 50000000, -- 500,000.00 CNY in fen
    horizon_months = 9,
    hot = 65,
    warm = 35,
}
