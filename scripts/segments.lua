-- Predicate rules: return true or false for one contact. Segments, campaigns
-- and `crm rules run` use them. Only qualifying orders count (status placed
-- or paid), and "now" is crm.now(), so `--as-of DATE` replays the past.
--
--   rules:
--     cooling_repeat_buyer: {kind: predicate, script: segments.lua, function: cooling_repeat_buyer}
--     idf_big_spender:      {kind: predicate, script: segments.lua, function: idf_big_spender}
--
--   crm rules run cooling_repeat_buyer --where country=FR
--   crm rules eval idf_big_spender --contact 42 --json

-- Bought at least twice in the last 90 days, but nothing in the last 30.
function cooling_repeat_buyer(c)
  return c:orders_since(90) >= 2 and c:orders_since(30) == 0
end

-- Départements of Île-de-France: Paris and the petite and grande couronne.
local ile_de_france = {
  ["75"] = true, ["77"] = true, ["78"] = true, ["91"] = true,
  ["92"] = true, ["93"] = true, ["94"] = true, ["95"] = true,
}

-- Lives in Île-de-France and spent more than 500 € (amounts are in minor
-- units: cents). The cheap test comes first: most contacts never load their
-- orders.
function idf_big_spender(c)
  local cp = c.postal_code
  if not cp or (c.country and c.country ~= "FR") then
    return false
  end
  return ile_de_france[cp:sub(1, 2)] == true
     and c.total_spent > crm.money.parse("500.00")
end
