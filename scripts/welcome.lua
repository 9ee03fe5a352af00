-- A handler rule: its function runs once when the engine starts (and again
-- when this file changes) and registers event handlers with on(PATTERN, FN).
-- PATTERN is an event type ("contact.created"), "entity.*" or "*". The
-- handler gets the event payload as a table (plus type, event_id, source).
--
-- Handlers may read, call plugin functions (crm.<plugin>.<fn>) and write
-- through host functions that validate like the CLI does:
-- crm.interaction.log{...} and crm.emit(type, payload).
--
--   rules:
--     welcome: {kind: handler, script: welcome.lua, function: setup}

function setup()
  on("contact.created", function(ev)
    local c = crm.contact(ev.contact_id)
    if not c then
      return
    end
    local name = c.first_name or c.email or "there"
    crm.interaction.log{
      contact_id = ev.contact_id,
      channel = "note",
      subject = "Welcome " .. name,
      body = "Contact created on " .. crm.date() .. " (source: " .. (c.source or "unknown") .. ")",
    }
  end)
end
