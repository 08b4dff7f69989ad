-- The org tree (L1-L3, HQ): regions and their representative offices.
return {
    regions = {
        south = { name = "South Region", offices = { "province-a", "province-b" } },
        north = { name = "North Region", offices = { "city-c", "city-d" } },
    },
}
