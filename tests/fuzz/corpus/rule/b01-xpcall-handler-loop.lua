-- expect: rule_budget
return function() xpcall(function() while true do end end, function(e) while true do end end) end
