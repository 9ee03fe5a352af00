#!/usr/bin/env node
// Real responses of a running `crm serve` checked against the response
// schemas of its own /openapi.json with Ajv (JSON Schema 2020-12, the dialect
// of OpenAPI 3.1). Usage: openapi_check.js URL TOKEN OUT_DIR; writes
// OUT_DIR/openapi.json (for `redocly lint`). Each request's status must be
// the one expected and its body must validate against the schema the
// document gives for that path, method and status; mutated copies of a few
// bodies must not (the schemas really constrain). Prints FAIL lines; the exit
// status is the failure count.
"use strict";
const fs = require("fs");
const path = require("path");
const Ajv2020 = require(path.join(__dirname, "..", "node_modules", "ajv", "dist", "2020"));

const [url, token, outDir] = process.argv.slice(2);
let failures = 0;
const check = (cond, what) => {
  if (!cond) {
    failures++;
    console.error(`FAIL: ${what}`);
  }
};

async function call(method, p, body) {
  const r = await fetch(url + p, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

// The validator of the response `status` of `method template` in doc.
function responseValidator(ajv, doc, method, template, status) {
  const op = (doc.paths[template] || {})[method.toLowerCase()];
  const resp = op && op.responses[String(status)];
  if (!resp || !resp.content) return null;
  const ptr = ["paths", template, method.toLowerCase(), "responses", String(status), "content",
    "application/json", "schema"].map((s) => s.replace(/~/g, "~0").replace(/\//g, "~1"));
  return ajv.compile({ $ref: `openapi.json#/${ptr.join("/")}` });
}

async function main() {
  const { status, body: doc } = await call("GET", "/openapi.json");
  check(status === 200 && doc.openapi === "3.1.0", `GET /openapi.json: ${status}`);
  fs.writeFileSync(path.join(outDir, "openapi.json"), JSON.stringify(doc, null, 1));
  // the document is the schema store: "#/components/schemas/X" inside an
  // operation resolves against it, as in OpenAPI
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema(doc, "openapi.json");
  const validated = [];

  async function sample(method, template, p, body, want) {
    const r = await call(method, p, body);
    check(r.status === want, `${method} ${p}: status ${r.status}, want ${want}: ${JSON.stringify(r.body)}`);
    const v = responseValidator(ajv, doc, method, template, r.status);
    check(v !== null, `${method} ${template}: no schema for status ${r.status}`);
    if (v && !v(r.body))
      check(false, `${method} ${p} (${r.status}) against its schema: ${ajv.errorsText(v.errors)}\n  ${JSON.stringify(r.body)}`);
    validated.push({ method, template, status: r.status, body: r.body, v });
    return r.body;
  }

  const c = await sample("POST", "/v1/contacts", "/v1/contacts",
    { email: "oa@example.com", first_name: "Oa", tags: ["vip"], custom: {} }, 201);
  await sample("GET", "/v1/contacts", "/v1/contacts?limit=5", undefined, 200);
  await sample("GET", "/v1/contacts/{id}", `/v1/contacts/${c.id}`, undefined, 200);
  await sample("GET", "/v1/contacts/{id}", "/v1/contacts/999999", undefined, 404);
  await sample("POST", "/v1/contacts", "/v1/contacts", { email: "nope" }, 422);
  await sample("POST", "/v1/contacts", "/v1/contacts", { nickname: "x" }, 400);
  await sample("POST", "/v1/orders", "/v1/orders",
    { contact_id: c.id, currency: "EUR", lines: [{ sku: "A", quantity: 2, unit_price: 500 }] }, 201);
  await sample("GET", "/v1/orders", "/v1/orders", undefined, 200);
  await sample("POST", "/v1/track", "/v1/track",
    { type: "cart.updated", cart_id: "oa-1", contact_id: c.id, value: "12.50" }, 200);
  await sample("POST", "/v1/track", "/v1/track",
    { events: [{ type: "page.viewed", email: "oa@example.com", url: "/x" }, { type: "nope" }] }, 200);
  await sample("POST", "/v1/track", "/v1/track", { type: "page.viewed", contact_id: 999999 }, 422);
  await sample("GET", "/v1/contacts/{id}/timeline", `/v1/contacts/${c.id}/timeline`, undefined, 200);
  await sample("GET", "/v1/events", "/v1/events?limit=50", undefined, 200);
  await sample("GET", "/v1/tokens", "/v1/tokens", undefined, 200);

  // every operation's 2xx schema is reachable from the document
  for (const [template, item] of Object.entries(doc.paths))
    for (const [m, op] of Object.entries(item))
      if (m !== "parameters")
        for (const [st, resp] of Object.entries(op.responses))
          if (resp.content) check(responseValidator(ajv, doc, m, template, st) !== null,
            `${m} ${template} ${st}: schema does not compile`);

  // negative controls: broken copies of real bodies must be refused
  const find = (m, t, s) => validated.find((x) => x.method === m && x.template === t && x.status === s);
  const broken = [
    ["GET", "/v1/contacts/{id}", 200, (b) => { b.id = String(b.id); }],
    ["GET", "/v1/contacts", 200, (b) => { delete b.data; }],
    ["GET", "/v1/events", 200, (b) => { b.data[0].payload = undefined; delete b.data[0].type; }],
    ["POST", "/v1/track", 200, (b) => { b.status = "maybe"; }],
    ["GET", "/v1/contacts/{id}", 404, (b) => { b.error.field = 3; }],
  ];
  for (const [m, t, s, mutate] of broken) {
    const x = find(m, t, s);
    check(x && x.v, `no sample for ${m} ${t} ${s}`);
    if (!x || !x.v) continue;
    const copy = JSON.parse(JSON.stringify(x.body));
    mutate(copy);
    check(!x.v(copy), `a broken ${m} ${t} ${s} body passes its schema: ${JSON.stringify(copy)}`);
  }
  console.log(`${validated.length} responses validated`);
}

main().then(() => process.exit(Math.min(failures, 100)),
  (e) => { console.error(e); process.exit(100); });
