-- North Region (L4): long state-grid procurement cycles; technical leads from
-- network analysis are given a longer horizon before they count as mature.
return function(lead)
    if lead.source == "technical" then
        return { horizon_months = 18, hot = 75 }
    end
    return { horizon_months = 12, hot = 75, warm = 45 }
end
