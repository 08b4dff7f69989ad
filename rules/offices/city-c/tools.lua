-- City C office (L6): most leads here come from delivery in the installed base.
return {
    defaults = { source = "delivery", horizon_months = 12 },
    checklist = function(stage, instance)
        return { "Installed-base record checked" }
    end,
}
