-- South Region (L4): what each role does when an instance enters a stage; the
-- engine adds these to the instance with due dates.
return function(stage, instance)
    if stage == "opportunity" then
        return {
            { role = "ar", action = "Map the decision chain of " .. instance.customer, due_days = 10 },
            { role = "sr", action = "Present the network analysis", due_days = 14 },
            { role = "fr", action = "Check delivery capacity for the quarter", due_days = 14 },
        }
    end
    return {}
end
