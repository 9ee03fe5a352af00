-- Validator rules: run on every contact write (add, update, import).
-- A validator returns nil when the contact is fine, or a message saying what
-- is wrong; the write is then refused with that message. Name the field and
-- the value, as the kernel's own checks do.
--
--   rules:
--     b2b_company_email: {kind: validator, script: validators.lua, function: b2b_company_email}

-- Free webmail domains: not a company address.
local webmail = {
  ["gmail.com"] = true, ["googlemail.com"] = true, ["yahoo.com"] = true,
  ["yahoo.fr"] = true, ["hotmail.com"] = true, ["hotmail.fr"] = true,
  ["outlook.com"] = true, ["outlook.fr"] = true, ["live.fr"] = true,
  ["orange.fr"] = true, ["free.fr"] = true, ["laposte.net"] = true,
  ["sfr.fr"] = true, ["icloud.com"] = true, ["gmx.fr"] = true,
}

-- B2B contacts (tag "b2b") need an email at their company's domain.
function b2b_company_email(c)
  if not c:has_tag("b2b") then
    return nil
  end
  if not c.email then
    return "email: required for B2B contacts (tag b2b)"
  end
  local domain = c.email:match("@(.+)$")
  if webmail[domain] then
    return "email: '" .. c.email .. "' is a webmail address; B2B contacts (tag b2b) "
        .. "need a company email"
  end
  return nil
end
