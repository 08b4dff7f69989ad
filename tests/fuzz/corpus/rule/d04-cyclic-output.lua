-- expect: rule_output
local a = {} a[1] = a
return function() return a end
