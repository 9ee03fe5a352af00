-- A score rule: returns a number and, optionally, a list of reasons shown by
-- `crm rules eval`. This one is a churn-risk points score: 0 is safe, 100 is
-- very likely gone. Tune the points to your business.
--
--   rules:
--     churn_risk: {kind: score, script: churn.lua, function: churn_risk}
--
--   crm rules eval churn_risk --contact 42 --as-of 2024-06-30

function churn_risk(c)
  local points, reasons = 0, {}
  local function add(n, why)
    points = points + n
    reasons[#reasons + 1] = why
  end

  if c.order_count == 0 then
    return 50, {"never ordered"}
  end

  local idle = crm.days_since(c.last_order_at)
  if idle > 365 then
    add(50, "no order for " .. idle .. " days")
  elseif idle > 180 then
    add(30, "no order for " .. idle .. " days")
  elseif idle > 90 then
    add(15, "no order for " .. idle .. " days")
  end

  if c.order_count == 1 then
    add(20, "a single order")
  end

  -- Spending less this quarter than the average quarter so far.
  local age_days = math.max(crm.days_since(c.first_order_at), 90)
  local per_quarter = c.total_spent / (age_days / 90)
  if c:spent_since(90) < per_quarter / 2 then
    add(15, "spent " .. crm.money.format(c:spent_since(90)) .. " this quarter, usually "
        .. crm.money.format(math.floor(per_quarter)))
  end

  if c.lifecycle_stage == "inactive" then
    add(15, "marked inactive")
  end
  return math.min(points, 100), reasons
end
