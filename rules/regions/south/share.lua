-- South Region (L4): a larger platform share for the shared bid team, and an
-- account-heavy triangle.
return { platform = 15, triangle = { ar = 45, sr = 30, fr = 25 } }
