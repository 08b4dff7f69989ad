-- South Region (L4): what each role does when an instance enters a stage.
return function(stage, instance)
    if stage == "lead" then
        return {
            { role = "ar", action = "Visit the customer and confirm next year's budget", due_days = 7 },
        }
    elseif stage == "opportunity" then
        return {
            { role = "ar", action = "Map the customer's decision chain", due_days = 10 },
            { role = "sr", action = "Present the network analysis (kan wang jiang wang)", due_days = 14 },
        }
    end
    return {}
end
