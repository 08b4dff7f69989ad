-- The LTC process (L1-L3, HQ, locked): stages, actions, key control points
-- (KCP) and key decision points (KDP), and authority routing.
--
-- The engine calls act(instance, input, ctx) for every action but reevaluate
-- and records exactly what it returns:
--   success: { state = { stage, team, gates, contract, milestones, closure },
--              outcome = { ... }, entered = STAGE or nil,
--              ledger = { { kind = "orders"|"cash", amount = INT, margin = N }, ... } }
--   (the ledger entries are what the instance earns: acquire-and-share and the
--   targets' actuals are computed from them)
--   refusal: { error = "conflict" | "kcp" | "invalid" | "authority" | "forbidden",
--              message = "...", kcp = NAME, field = NAME, required = LEVEL }
-- An instance keeps the HQ version it started under for this file.
--
-- ctx = { today = "YYYY-MM-DD", at = "YYYY-MM-DD" (when the action happened),
--         principal = { unit, level = "office"|"region"|"hq", role },
--         authority = { office = {...}, region = {...} } (the region's L4 matrix
--         within HQ bounds), exposure = INT (the customer's open contract value
--         elsewhere), credit_limit = INT }
-- Money is integer fen; percentages are numbers in percent.

local LEVELS = { office = 1, region = 2, hq = 3 }
local KDPS = { ATI = true, ATB = true, ATC = true, ATAC = true, ATCC = true }
local OUTCOMES = { approve = true, approve_with_conditions = true, reject = true, defer = true }
local MILESTONES = { delivery = true, acceptance = true, invoice = true, payment = true }
local ESCALATION = { { days = 90, to = "region finance" }, { days = 60, to = "office head" },
                     { days = 30, to = "ar" } }

-- Defaults for the authority matrix (a region's authority.lua overrides them
-- within HQ bounds) and HQ's own limits: beyond them nobody may approve.
local AUTHORITY = {
    office = { max_value = 1000000000, max_discount = 10, min_margin = 20 },
    region = { max_value = 10000000000, max_discount = 25, min_margin = 10 },
    hq = { max_discount = 40, min_margin = 0 },
}
local CREDIT_LIMIT = 20000000000 -- per customer, open contract value, fen

-- Business sanity (KCP value_consistent): ATC's value may be at most this
-- many times above or below the value ATB approved the bid at; a deal that
-- really changed that much has ATB decided again (at the new value) first.
-- (ATI's value is an early estimate and is not compared.)
local VALUE_RATIO_MAX = 50
local COMPARED = { ATC = "ATB" }

-- The fields each action's body may have besides action and at (the engine
-- reads those); anything else is refused by name (400), so a misspelt field
-- is never silently ignored. body_common: accepted by every action.
local BODIES = {
    review = { "decision", "note" },
    assign = { "ar", "sr", "fr" },
    decide = { "kdp", "outcome", "value", "discount", "margin", "conditions", "change" },
    sign = { "value", "currency", "terms", "net_days" },
    milestone = { "kind", "amount", "ref" },
    close = { "reason" },
    update = { "expected_close", "value" },
}
local BODY_COMMON = { "correction" }

-- Which roles may take which action.
local ROLES = {
    review = { admin = true, reviewer = true, ar = true },
    assign = { admin = true, reviewer = true, ar = true },
    decide = { admin = true, reviewer = true },
    sign = { admin = true, ar = true },
    milestone = { admin = true, ar = true, fr = true, finance = true },
    close = { admin = true, reviewer = true, ar = true },
    update = { admin = true, reviewer = true, ar = true },
}

local function fail(kind, message, extra)
    local r = { error = kind, message = message }
    for k, v in pairs(extra or {}) do r[k] = v end
    return r
end
local function kcp(name, message) return fail("kcp", message, { kcp = name }) end
local function invalid(field, message) return fail("invalid", field .. ": " .. message, { field = field }) end

local function is_int(v, min) return math.type(v) == "integer" and v >= (min or 0) end
local function is_num(v, min, max) return type(v) == "number" and v == v and v >= min and v <= max end
local function is_text(v) return type(v) == "string" and #v > 0 and #v <= 200 end
local function is_date(v)
    return type(v) == "string" and #v == 10 and host.days(v) ~= nil
end

local function copy(t)
    if type(t) ~= "table" then return t end
    local c = {}
    for k, v in pairs(t) do c[k] = copy(v) end
    return c
end

local function sum(list, kind)
    local s = 0
    for _, m in ipairs(list) do
        if m.kind == kind then s = s + m.amount end
    end
    return s
end

local function approved(gates, kdp)
    local g = gates[kdp]
    return g ~= nil and (g.outcome == "approve" or g.outcome == "approve_with_conditions")
end

local function approved_changes(contract)
    local s = 0
    for _, c in ipairs(contract.changes or {}) do s = s + c.amount end
    return s
end

-- Authority routing: the lowest level whose limits cover the deal.
local function required_level(authority, value, discount, margin)
    for _, level in ipairs({ "office", "region" }) do
        local a = authority[level] or AUTHORITY[level]
        local max_value = a.max_value or AUTHORITY[level].max_value
        local max_discount = a.max_discount or AUTHORITY[level].max_discount
        local min_margin = a.min_margin or AUTHORITY[level].min_margin
        if value <= max_value and discount <= max_discount and margin >= min_margin then
            return level
        end
    end
    return "hq"
end

-- Payments settle invoices oldest first; what stays unpaid past its due date is overdue.
local function receivables(instance, as_of)
    local contract = instance.contract or {}
    local net = contract.net_days or 30
    local invoices, paid = {}, 0
    for _, m in ipairs(instance.milestones or {}) do
        if m.kind == "invoice" then
            invoices[#invoices + 1] = { ref = m.ref, amount = m.amount, at = m.at,
                                        due = host.date(host.days(m.at) + net), open = m.amount }
        elseif m.kind == "payment" then
            paid = paid + m.amount
        end
    end
    local left, invoiced = paid, 0
    for _, inv in ipairs(invoices) do
        invoiced = invoiced + inv.amount
        local settle = math.min(left, inv.open)
        inv.open, left = inv.open - settle, left - settle
    end
    local today = host.days(as_of)
    local overdue, total_overdue = {}, 0
    for _, inv in ipairs(invoices) do
        local days = today - host.days(inv.due)
        if inv.open > 0 and days > 0 then
            local to = "none"
            for _, e in ipairs(ESCALATION) do
                if days >= e.days then to = e.to break end
            end
            overdue[#overdue + 1] = { ref = inv.ref, amount = inv.open, due = inv.due,
                                      days = days, escalate_to = to }
            total_overdue = total_overdue + inv.open
        end
    end
    return { as_of = as_of, invoiced = invoiced, paid = paid, outstanding = invoiced - paid,
             overdue_amount = total_overdue, overdue = overdue }
end

-- Days sales outstanding at closure: amount-weighted days from invoice to the
-- payment that settled it (payments settle invoices oldest first).
local function dso(instance)
    local queue, weighted, total = {}, 0, 0
    for _, m in ipairs(instance.milestones or {}) do
        if m.kind == "invoice" then
            queue[#queue + 1] = { at = host.days(m.at), open = m.amount }
        elseif m.kind == "payment" then
            local left, day = m.amount, host.days(m.at)
            for _, inv in ipairs(queue) do
                if left == 0 then break end
                local s = math.min(left, inv.open)
                if s > 0 then
                    weighted = weighted + s * (day - inv.at)
                    total = total + s
                    inv.open, left = inv.open - s, left - s
                end
            end
        end
    end
    if total == 0 then return 0 end
    return math.floor(weighted / total + 0.5)
end

local actions = {}

-- The forecast fields of a lead or opportunity: when it expects to close and
-- at what value (fen; the pipeline takes the budget until one is given).
local VALUE_MAX = 9007199254740992 -- 2^53 fen
function actions.update(inst, input)
    local close, value = input.expected_close, input.value
    if close == nil and value == nil then
        return invalid("expected_close", "update needs expected_close, value or both")
    end
    if close ~= nil and not is_date(close) then return invalid("expected_close", "expected YYYY-MM-DD") end
    if value ~= nil and (not is_int(value) or value > VALUE_MAX) then
        return invalid("value", "expected an integer amount in fen, 0 to 2^53")
    end
    local state = { expected_close = close or inst.expected_close,
                    expected_value = value or inst.expected_value }
    local previous -- what it replaces, when it had any
    if inst.expected_close ~= nil or inst.expected_value ~= nil then
        previous = { expected_close = inst.expected_close, value = inst.expected_value }
    end
    return { state = state, outcome = { expected_close = state.expected_close,
             value = state.expected_value, previous = previous } }
end

function actions.review(inst, input)
    local d = input.decision
    if d ~= "convert" and d ~= "nurture" and d ~= "close" then
        return invalid("decision", "expected convert, nurture or close")
    end
    local state, entered = {}, nil
    if d == "convert" then
        state.stage, entered = "opportunity", "opportunity"
    elseif d == "close" then
        state.stage, entered = "closed", "closed"
        state.closure = { outcome = "dropped", reason = input.note or "closed at lead review" }
    end
    return { state = state, entered = entered, outcome = { decision = d, note = input.note } }
end

function actions.assign(inst, input)
    local team = copy(inst.team or {})
    for _, role in ipairs({ "ar", "sr", "fr" }) do
        local v = input[role]
        if v ~= nil then
            if not is_text(v) then return invalid(role, "expected a person's name") end
            team[role] = v
        end
    end
    -- KCP: from ATB on all three are named and distinct (before it, the AR may hold FR).
    if approved(inst.gates or {}, "ATB") and
       (not team.ar or not team.sr or not team.fr or team.fr == team.ar) then
        return kcp("triangle_complete",
                   "after ATB the iron triangle must stay complete (AR, SR, FR distinct)")
    end
    return { state = { team = team }, outcome = { team = team } }
end

local ORDER = { ATI = nil, ATB = "ATI", ATC = "ATB" }
local NEXT = { ATI = "ATB", ATB = "ATC" }

function actions.decide(inst, input, ctx)
    local kdp, outcome = input.kdp, input.outcome
    if not KDPS[kdp] then return invalid("kdp", "expected ATI, ATB, ATC, ATAC or ATCC") end
    if not OUTCOMES[outcome] then
        return invalid("outcome", "expected approve, approve_with_conditions, reject or defer")
    end
    local contract_kdp = kdp == "ATAC" or kdp == "ATCC"
    if contract_kdp and inst.stage ~= "contract" then
        return fail("conflict", kdp .. " is decided at stage contract, not " .. inst.stage)
    elseif not contract_kdp and inst.stage ~= "opportunity" then
        return fail("conflict", kdp .. " is decided at stage opportunity, not " .. inst.stage)
    end
    local gates = copy(inst.gates or {})
    if ORDER[kdp] and not approved(gates, ORDER[kdp]) then
        return fail("conflict", kdp .. " needs " .. ORDER[kdp] .. " approved first")
    end
    -- An approved gate may be decided again while the gate after it is not
    -- approved (a changed deal: ATI or ATB again, before ATC); deciding it
    -- again voids the later gates, which are then decided on the new terms.
    local again = approved(gates, kdp) and kdp ~= "ATAC"
    if again and not (NEXT[kdp] and not approved(gates, "ATC")) then
        return fail("conflict", kdp .. " is already approved")
    end
    local value = input.value
    if value == nil and inst.contract then value = inst.contract.value end
    if not is_int(value) then return invalid("value", "expected an integer amount in fen") end
    local discount, margin = input.discount or 0, input.margin
    if not is_num(discount, 0, 100) then return invalid("discount", "expected 0..100 percent") end
    if not is_num(margin, -100, 100) then return invalid("margin", "expected -100..100 percent") end
    local conditions = input.conditions or {}
    if type(conditions) ~= "table" then return invalid("conditions", "expected a list") end
    if outcome == "approve_with_conditions" and #conditions == 0 then
        return invalid("conditions", "approve_with_conditions needs at least one condition")
    end
    for i, c in ipairs(conditions) do
        if type(c) ~= "table" or not is_text(c.text) or not is_text(c.owner) or not is_date(c.due) then
            return invalid("conditions", "condition " .. i .. " needs text, owner and due (YYYY-MM-DD)")
        end
    end
    -- KCP: team complete before ATB.
    local team = inst.team or {}
    if kdp == "ATB" and (not team.ar or not team.sr or not team.fr or team.fr == team.ar) then
        return kcp("triangle_complete", "ATB needs AR, SR and FR named, FR not held by the AR")
    end
    -- KCP: discount and margin within what anyone may approve (HQ's own limits).
    if discount > AUTHORITY.hq.max_discount or margin < AUTHORITY.hq.min_margin then
        return kcp("authority_limits", string.format(
            "discount %g%% / margin %g%% are beyond HQ's limits (%g%% / %g%%)",
            discount, margin, AUTHORITY.hq.max_discount, AUTHORITY.hq.min_margin))
    end
    -- KCP: credit exposure within the customer's limit (at the contract decision).
    if kdp == "ATC" and ctx.exposure + value > ctx.credit_limit then
        return kcp("credit_limit", string.format("customer exposure %d + %d exceeds the credit limit %d",
            ctx.exposure, value, ctx.credit_limit))
    end
    -- KCP: the value stays within VALUE_RATIO_MAX of the gate it follows.
    local prev = COMPARED[kdp] and gates[COMPARED[kdp]]
    if prev and type(prev.value) == "number" and prev.value > 0 and
       (value * VALUE_RATIO_MAX < prev.value or value > prev.value * VALUE_RATIO_MAX) then
        return kcp("value_consistent", string.format(
            "%s value %d is more than %d times away from the %s value %d; decide %s again first",
            kdp, value, VALUE_RATIO_MAX, COMPARED[kdp], prev.value, COMPARED[kdp]))
    end
    if kdp == "ATCC" then
        local r = receivables(inst, ctx.at)
        if r.outstanding ~= 0 then
            return kcp("amounts_reconcile", "ATCC needs every invoice paid; outstanding " .. r.outstanding)
        end
    end
    -- Authority routing from value, discount and margin.
    local required = required_level(ctx.authority, value, discount, margin)
    if LEVELS[ctx.principal.level] < LEVELS[required] then
        return fail("authority", kdp .. " for this deal is decided at " .. required .. " level",
                    { required = required })
    end
    local decision = { kdp = kdp, outcome = outcome, value = value, discount = discount,
                       margin = margin, conditions = conditions, level = required,
                       decided_by = ctx.principal.unit .. ":" .. ctx.principal.role,
                       at = ctx.at, authority = ctx.authority }
    gates[kdp] = decision
    local voided = {}
    if again then
        local later = NEXT[kdp]
        while later do
            if gates[later] then voided[#voided + 1] = later end
            gates[later] = nil
            later = NEXT[later]
        end
        if #voided > 0 then decision.voided = voided end
    end
    local state = { gates = gates }
    if kdp == "ATAC" and (outcome == "approve" or outcome == "approve_with_conditions") then
        local contract = copy(inst.contract)
        contract.changes = contract.changes or {}
        local change = input.change
        if not is_int(change and change.amount or nil, -value) then
            return invalid("change.amount", "ATAC needs change = { amount = INT (fen) }")
        end
        contract.changes[#contract.changes + 1] = { amount = change.amount, at = ctx.at }
        state.contract = contract
        return { state = state, outcome = decision,
                 ledger = { { kind = "orders", amount = change.amount, margin = margin } } }
    end
    return { state = state, outcome = decision }
end

function actions.sign(inst, input, ctx)
    local gates = inst.gates or {}
    if not approved(gates, "ATC") then return fail("conflict", "sign needs ATC approved") end
    if not is_int(input.value, 1) then return invalid("value", "expected a positive integer (fen)") end
    if input.currency ~= nil and input.currency ~= "CNY" then
        return invalid("currency", "contracts are in CNY")
    end
    if not is_int(input.net_days, 0) or input.net_days > 365 then
        return invalid("net_days", "expected 0..365")
    end
    local terms, total = input.terms, 0
    if type(terms) ~= "table" or #terms == 0 then return invalid("terms", "expected a list of terms") end
    for i, t in ipairs(terms) do
        if type(t) ~= "table" or (t.milestone ~= "advance" and t.milestone ~= "delivery" and
           t.milestone ~= "acceptance") or not is_num(t.percent, 0, 100) then
            return invalid("terms", "term " .. i ..
                           " needs milestone advance|delivery|acceptance and percent")
        end
        total = total + t.percent
    end
    if math.abs(total - 100) > 1e-9 then return invalid("terms", "percentages must add up to 100") end
    -- KCP: signed value and terms match the approved bid (ATC).
    if input.value ~= gates.ATC.value then
        return kcp("terms_match_bid", string.format("signed value %d differs from the ATC-approved %d",
            input.value, gates.ATC.value))
    end
    if ctx.exposure + input.value > ctx.credit_limit then
        return kcp("credit_limit", "customer exposure would exceed the credit limit")
    end
    local contract = { value = input.value, currency = "CNY", terms = terms,
                       net_days = input.net_days, signed_at = ctx.at, changes = {} }
    return { state = { stage = "contract", contract = contract }, entered = "contract",
             outcome = { contract = contract },
             ledger = { { kind = "orders", amount = input.value, margin = gates.ATC.margin } } }
end

function actions.milestone(inst, input, ctx)
    local kind = input.kind
    if not MILESTONES[kind] then
        return invalid("kind", "expected delivery, acceptance, invoice or payment")
    end
    if not is_int(input.amount, 1) then return invalid("amount", "expected a positive integer (fen)") end
    if input.ref ~= nil and not is_text(input.ref) then return invalid("ref", "expected text") end
    local role = ctx.principal.role
    if (kind == "invoice" or kind == "payment") and role ~= "finance" and role ~= "admin" then
        return fail("forbidden", kind .. " is recorded by finance")
    end
    local ms = copy(inst.milestones or {})
    local m = { kind = kind, amount = input.amount, ref = input.ref, at = ctx.at }
    ms[#ms + 1] = m
    local ceiling = inst.contract.value + approved_changes(inst.contract)
    -- KCPs on contract execution.
    if (kind == "delivery" or kind == "acceptance") and sum(ms, kind) > ceiling then
        return kcp("amounts_reconcile", kind .. "s would exceed the contract value plus approved changes")
    end
    if kind == "acceptance" and sum(ms, "acceptance") > sum(ms, "delivery") then
        return kcp("acceptance_after_delivery", "acceptances cannot exceed what was delivered")
    end
    if kind == "invoice" then
        local advance = 0
        for _, t in ipairs(inst.contract.terms) do
            if t.milestone == "advance" then advance = advance + t.percent end
        end
        local allowed = sum(ms, "acceptance") + inst.contract.value * advance // 100
        if sum(ms, "invoice") > allowed then
            return kcp("invoice_after_acceptance",
                       "invoices may bill only accepted deliveries (and the advance)")
        end
        if sum(ms, "invoice") > ceiling then
            return kcp("amounts_reconcile", "invoices would exceed the contract value plus approved changes")
        end
    end
    if kind == "payment" and sum(ms, "payment") > sum(ms, "invoice") then
        return kcp("payment_within_invoiced", "payments cannot exceed what was invoiced")
    end
    local ledger
    if kind == "payment" then
        local gates = inst.gates or {}
        local margin = (gates.ATAC and gates.ATAC.margin) or (gates.ATC and gates.ATC.margin) or 0
        ledger = { { kind = "cash", amount = input.amount, margin = margin } }
    end
    return { state = { milestones = ms }, outcome = { milestone = m }, ledger = ledger }
end

function actions.close(inst, input, ctx)
    if not is_text(input.reason) then return invalid("reason", "expected text") end
    local closure
    if inst.stage == "contract" then
        if not approved(inst.gates or {}, "ATCC") then
            return fail("conflict", "a contract closes after ATCC is approved")
        end
        local r = receivables(inst, ctx.at)
        closure = { outcome = "won", reason = input.reason, dso = dso(inst), invoiced = r.invoiced,
                    paid = r.paid, margin = inst.gates.ATCC.margin, at = ctx.at }
    else
        closure = { outcome = inst.stage == "lead" and "dropped" or "lost", reason = input.reason,
                    at = ctx.at }
    end
    return { state = { stage = "closed", closure = closure }, entered = "closed", outcome = closure }
end

-- The key decision an open instance waits for, or false (the engine's
-- GET /v1/decisions/waiting, the dashboard's "waiting for me"). At stage
-- opportunity: the first of ATI, ATB, ATC not approved, unless it was rejected
-- (then the deal waits for its closure, not a decision). At stage contract:
-- ATCC once the contract value with its approved changes is invoiced and paid
-- in full (receivables as of ctx.as_of). `since` is when it became due: the
-- day the instance entered the stage (ATI), the previous gate's date, or the
-- last payment (ATCC). It is routed like a decision, on the terms known so
-- far: a deferred decision's on it, else the previous gate's, else the lead's
-- budget without discount and without a margin condition (ATI, before anyone
-- proposed terms). ctx = { as_of = "YYYY-MM-DD", authority = the region's matrix }.
local function waiting(inst, ctx)
    local gates = inst.gates or {}
    local kdp, since, terms
    if inst.stage == "opportunity" then
        local prev
        for _, k in ipairs({ "ATI", "ATB", "ATC" }) do
            if not approved(gates, k) then kdp = k break end
            prev = gates[k]
        end
        if not kdp or (gates[kdp] and gates[kdp].outcome == "reject") then return false end
        since = prev and prev.at or (inst.entered or {}).opportunity or
                string.sub(inst.created_at or "", 1, 10)
        terms = gates[kdp] or prev or { value = (inst.budget or {}).amount, discount = 0 }
    elseif inst.stage == "contract" then
        kdp = "ATCC"
        if approved(gates, kdp) or (gates[kdp] and gates[kdp].outcome == "reject") then return false end
        local total = inst.contract.value + approved_changes(inst.contract)
        local r = receivables(inst, ctx.as_of)
        if r.invoiced < total or r.outstanding ~= 0 then return false end
        for _, m in ipairs(inst.milestones or {}) do
            if m.kind == "payment" then since = m.at end
        end
        local last = gates.ATAC or gates.ATC or {}
        terms = gates[kdp] or { value = total, discount = last.discount or 0, margin = last.margin }
    else
        return false
    end
    local value = terms.value or 0
    local discount = terms.discount or 0
    return { kdp = kdp, since = since, value = value, discount = discount, margin = terms.margin,
             level = required_level(ctx.authority, value, discount, terms.margin or 100),
             deferred = gates[kdp] ~= nil and gates[kdp].outcome == "defer" }
end

-- Which actions each stage allows (reevaluate is the engine's, at stage lead).
local ALLOWED = {
    lead = { review = true, assign = true, close = true, update = true },
    opportunity = { assign = true, decide = true, sign = true, close = true, update = true },
    contract = { assign = true, decide = true, milestone = true, close = true },
    closed = {},
}

-- "assign, close, reevaluate, review": what a user may ask for at 'stage',
-- so that a refusal says what would have worked.
local function allowed_at(stage)
    local names = {}
    for n in pairs(ALLOWED[stage] or {}) do names[#names + 1] = n end
    if stage == "lead" then names[#names + 1] = "reevaluate" end
    table.sort(names)
    return #names > 0 and table.concat(names, ", ") or "none (the instance is closed)"
end

local function act(instance, input, ctx)
    local name = input.action
    if not actions[name] then
        local shown = type(name) == "string" and ("'" .. name:sub(1, 40) .. "'") or "missing"
        return invalid("action", "unknown action " .. shown .. "; at stage " .. instance.stage
                       .. " the actions are " .. allowed_at(instance.stage))
    end
    if not ROLES[name][ctx.principal.role] then
        return fail("forbidden", "role " .. ctx.principal.role .. " may not " .. name)
    end
    if not ALLOWED[instance.stage][name] then
        return fail("conflict", name .. " is not allowed at stage " .. instance.stage
                    .. "; the actions there are " .. allowed_at(instance.stage))
    end
    if ctx.at ~= nil and not is_date(ctx.at) then return invalid("at", "expected YYYY-MM-DD") end
    local correction = input.correction
    if correction ~= nil and type(correction) ~= "boolean" then
        return invalid("correction", "expected true or false")
    end
    -- KCP: business dates run forward. An action dated before the latest
    -- business date the instance has seen is a correction, and says so.
    local at, last = input.at, instance.last_at
    if at ~= nil and last ~= nil and at < last and correction ~= true then
        return kcp("dates_in_order", string.format(
            "at %s is before the instance's last business date %s; send \"correction\": true "
            .. "to record an action dated earlier", at, last))
    end
    local res = actions[name](instance, input, ctx)
    if res.error == nil then
        res.state = res.state or {}
        if at ~= nil and (last == nil or at > last) then res.state.last_at = at end
        if correction == true then
            res.outcome = copy(res.outcome or {}) -- it may be a table of the state too
            res.outcome.correction = true
        end
    end
    return res
end

-- Migration of an open instance to this version (POST /v1/instances/migrate):
-- true when it may continue under this file, else the reason it may not (a
-- string). A key decision deferred is finished under the version it was
-- deferred under, so the instance stays there until it is decided.
local function migrate(instance, from_version)
    if instance.stage == "closed" then return "a closed instance is not migrated" end
    for _, kdp in ipairs({ "ATI", "ATB", "ATC", "ATAC", "ATCC" }) do
        local g = (instance.gates or {})[kdp]
        if g ~= nil and g.outcome == "defer" then
            return kdp .. " was deferred under hq v" .. from_version .. "; decide it first"
        end
    end
    return true
end

return {
    migrate = migrate,
    stages = { "lead", "opportunity", "contract", "closed" },
    -- How a closed instance ended (closure.outcome): the funnel counts each apart.
    outcomes = { "won", "lost", "dropped" },
    waiting = waiting,
    act = act,
    route = required_level,
    receivables = receivables,
    credit_limit = CREDIT_LIMIT,
    bodies = BODIES,
    body_common = BODY_COMMON,
}
