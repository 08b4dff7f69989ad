-- Province A office (L6): lead defaults and the checklist per stage.
return {
    defaults = { source = "sales", horizon_months = 6 },
    checklist = function(stage, instance)
        if stage == "lead" then
            return { "Customer visit report attached", "Budget owner identified" }
        end
        return { "Iron triangle named" }
    end,
}
