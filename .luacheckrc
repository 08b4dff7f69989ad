-- Globals a rule may read: exactly the sandbox's (engine/sandbox.c,
-- sandbox_allowed_globals; tests/unit/sandbox_test.c keeps the two in step).
stds.rules = {
    read_globals = {
        "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall",
        "rawequal", "rawget", "rawlen", "select", "setmetatable", "tonumber",
        "tostring", "type", "xpcall", "coroutine", "math", "string", "table",
        "utf8", "host",
    },
}
std = "none+rules"
max_line_length = 110
unused_args = false
-- Hostile fixtures are meant to break the rules: lint them for syntax only.
files["tests/fixtures/rules/hostile/"] = { only = { "011" } }
