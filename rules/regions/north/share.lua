-- North Region (L4): delivery carries the long projects here.
return { platform = 10, triangle = { ar = 35, sr = 30, fr = 35 } }
