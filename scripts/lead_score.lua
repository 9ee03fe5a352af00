-- The pipeline's lead score (crm.yaml pipeline.lead_score_rule:
-- lead_score.lua:lead_score): 0 to 100 with the reasons `crm lead show`
-- prints. A lead is not a contact yet, so the rule gets the lead itself:
-- l.name, l.email, l.phone, l.company, l.source, l.notes, l.status, l.owner
-- (nil when empty), l.created_at and l.updated_at (epoch seconds).
-- Recomputed when the lead is added, updated, qualified or disqualified.
-- Tune the points to your business.

-- Addresses anyone can open: not a sign of a company behind the lead.
local free_mail = {
  ["gmail.com"] = true, ["yahoo.fr"] = true, ["yahoo.com"] = true,
  ["hotmail.com"] = true, ["hotmail.fr"] = true, ["outlook.com"] = true,
  ["orange.fr"] = true, ["free.fr"] = true, ["laposte.net"] = true,
  ["icloud.com"] = true, ["wanadoo.fr"] = true, ["sfr.fr"] = true,
}

-- Where leads come from, by how often they buy.
local source_points = {
  referral = 30, ["demo request"] = 25, website = 15, ["trade show"] = 15,
  webinar = 10, ["cold call"] = 0,
}

function lead_score(l)
  local points, reasons = 0, {}
  local function add(n, why)
    points = points + n
    reasons[#reasons + 1] = why
  end

  if l.status == "disqualified" then
    return 0, {"disqualified"}
  end
  if l.email then
    local domain = string.lower(string.match(l.email, "@(.+)$") or "")
    if free_mail[domain] then
      add(5, "personal email")
    else
      add(20, "company email (" .. domain .. ")")
    end
  end
  if l.phone then add(10, "phone given") end
  if l.company then add(15, "company named") end
  local src = l.source and string.lower(l.source)
  if src and source_points[src] then
    if source_points[src] > 0 then add(source_points[src], "source: " .. src) end
  elseif src then
    add(5, "source: " .. src)
  end
  local notes = l.notes and string.lower(l.notes) or ""
  if string.find(notes, "budget", 1, true) then add(10, "budget mentioned") end
  if string.find(notes, "urgent", 1, true) then add(10, "urgent") end
  if l.status == "qualified" then add(20, "qualified") end
  return math.min(points, 100), reasons
end
