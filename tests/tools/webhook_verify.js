// Verifies every request a webhook sink recorded with the Standard Webhooks
// reference verifier (npm `standardwebhooks`), the way a receiver would.
//   node webhook_verify.js REQUESTS.jsonl SECRET
// Prints one line per request: "ok WEBHOOK-ID TYPE" or "bad WEBHOOK-ID: why";
// exits 1 when any request fails verification.
"use strict";
const fs = require("fs");
const path = require("path");
const { Webhook } = require(path.join(__dirname, "..", "node_modules", "standardwebhooks"));

const [file, secret] = process.argv.slice(2);
const wh = new Webhook(secret);
let bad = 0;
for (const line of fs.readFileSync(file, "utf8").split("\n")) {
  if (!line.trim()) continue;
  const r = JSON.parse(line);
  try {
    const payload = wh.verify(r.body, r.headers);
    console.log(`ok ${r.headers["webhook-id"]} ${payload.type}`);
  } catch (e) {
    bad++;
    console.log(`bad ${r.headers["webhook-id"]}: ${e.message}`);
  }
}
process.exit(bad ? 1 : 0);
