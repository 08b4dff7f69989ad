-- Front-line scorecards (L3, HQ): what a week of customer work is measured
-- against, and the points a person loses for it. The engine builds each
-- person's card for an ISO week and calls points_lost(card):
--   card = { person, name, office, roles = { ... }, visits = N, visits_min = N,
--            below_min = bool, budget_tables_overdue = N }
-- visits_min is this file's visits_min unless the person's region sets
-- visits_per_week in its thresholds.lua (within bounds.lua).
-- budget_tables_overdue counts, for an account manager (ar), the office's
-- customers whose investment budget table for the week's year was not
-- recorded by budget_deadline ("MM-DD" of that year); it is 0 for other roles.
-- points_lost must return an integer from 0 to 100000.

local POINTS_PER_MISSING_VISIT = 2
local POINTS_PER_OVERDUE_TABLE = 5

local function points_lost(card)
    local lost = 0
    if card.visits < card.visits_min then
        lost = lost + POINTS_PER_MISSING_VISIT * (card.visits_min - card.visits)
    end
    return lost + POINTS_PER_OVERDUE_TABLE * card.budget_tables_overdue
end

return {
    visits_min = 6,
    budget_deadline = "01-31",
    points_lost = points_lost,
}
