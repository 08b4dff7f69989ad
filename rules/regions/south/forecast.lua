-- South's win probabilities per step (L4, within HQ's bounds.lua forecast.stages):
-- its bids are won more often than HQ's default assumes.
return { stages = { ATB = 60, ATC = 85 } }
