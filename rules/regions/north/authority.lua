-- North Region (L4): decision limits per level, within HQ bounds.
return {
    office = { max_value = 2000000000, max_discount = 10, min_margin = 20 },
    region = { max_value = 20000000000, max_discount = 25, min_margin = 12 },
}
