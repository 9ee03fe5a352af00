// The web board in headless Chromium (playwright-core, /usr/bin/chromium):
// node board_browser.mjs URL SHOTS_DIR CHECKS_JSON
// CHECKS_JSON (written by test_board.sh from the database) says what the
// pages must show. Prints one "ok - ..." line per check; exits 1 on the
// first failure, with a screenshot of the page as it was.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const [url, shots, checksPath] = process.argv.slice(2);
const want = JSON.parse(readFileSync(checksPath, 'utf8'));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
                                        args: ['--no-sandbox'] });
let page;
const ok = (what) => console.log(`ok - ${what}`);
function expect(cond, what, detail) {
  if (!cond) throw new Error(`${what}${detail === undefined ? '' : `: ${JSON.stringify(detail)}`}`);
  ok(what);
}
// The board's pages and the plugin whose routes each needs.
const pagePlugins = { pipeline: 'pipeline', rfm: 'segmentation', segments: 'segmentation',
                      tickets: 'ticketing' };

// A page never shows a JavaScript "null" or "undefined" as text.
async function noStrayText(what) {
  const text = await page.textContent('#main');
  expect(!/\b(null|undefined|NaN)\b/.test(text), `${what}: no null, undefined or NaN shown`, text);
}

async function shot(name) { await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true }); }

// A SQL query on the test's database (the figures the pages must agree with).
const sql = (q) => execFileSync('sqlite3', [want.db, q], { encoding: 'utf8' }).trim();

async function login(ctx, user, password) {
  page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // a failed request shows as a console error without its URL: judge the
  // responses instead (the page asks /board/session before logging in)
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/board/session')) errors.push(`${r.status()} ${r.url()}`);
  });
  await page.goto(url);
  await page.fill('#login input[name=user]', user);
  await page.fill('#login input[name=password]', password);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#nav a');
  return errors;
}

// The kanban's figures per stage as the page shows them (count, amount and
// weighted in minor units; the amount's text), and the database's: open and
// closed deals of the pipeline's currency by stage, weighted with the stage's
// probability rounded half away from zero.
async function kanbanFigures() {
  return page.$$eval('#kanban .stage', (cols) => Object.fromEntries(cols.map((c) => [
    c.dataset.stage, { count: Number(c.querySelector('.count').dataset.count),
                       amount: Number(c.querySelector('.sum').dataset.amount),
                       weighted: Number(c.querySelector('.weighted').dataset.weighted),
                       text: c.querySelector('.sum').textContent,
                       deals: [...c.querySelectorAll('.deal')].map((d) => Number(d.dataset.deal)) }])));
}
function dbFigures() {
  const p = want.pipeline;
  const out = Object.fromEntries(Object.keys(p.probabilities).map((s) =>
    [s, { count: 0, amount: 0, weighted: 0, deals: [] }]));
  const rows = sql(`SELECT stage, id, amount FROM pipeline_deals WHERE pipeline = '${p.name}' ` +
                   "AND currency = 'EUR' ORDER BY id");
  for (const line of rows.split('\n').filter(Boolean)) {
    const [stage, id, amount] = line.split('|');
    const o = out[stage];
    o.count += 1;
    o.amount += Number(amount);
    o.weighted += Math.floor((Number(amount) * p.probabilities[stage] + 50) / 100);
    o.deals.push(Number(id));
  }
  return out;
}
function sameFigures(shown, db) {
  return JSON.stringify(Object.keys(shown)) === JSON.stringify(Object.keys(db)) &&
    Object.keys(db).every((s) => ['count', 'amount', 'weighted'].every((k) => shown[s][k] === db[s][k]) &&
                                 JSON.stringify(shown[s].deals) === JSON.stringify(db[s].deals));
}

// The kanban: sums per stage as in the database, shown in the locale's
// currency format; a drag moves the deal (in the database) and the sums move
// by its amount.
async function pipelineChecks() {
  const p = want.pipeline;
  await page.click('#nav a[data-page=pipeline]');
  await page.waitForSelector('#kanban .deal');
  const before = await kanbanFigures();
  expect(sameFigures(before, dbFigures()), 'the kanban\'s stages, counts and sums are the database\'s',
         { before, db: dbFigures() });
  const euro = await page.evaluate((minor) =>
    new Intl.NumberFormat('fr', { style: 'currency', currency: 'EUR' }).format(minor / 100),
    before[p.from].amount);
  expect(before[p.from].text === euro, `the ${p.from} sum reads ${euro}`, before[p.from].text);
  await noStrayText('the kanban');
  await shot('pipeline');
  const amount = Number(sql(`SELECT amount FROM pipeline_deals WHERE id = ${p.deal}`));
  await page.dragAndDrop(`#kanban .deal[data-deal="${p.deal}"]`, `#kanban .stage[data-stage="${p.to}"]`);
  await page.waitForSelector(`#kanban .stage[data-stage="${p.to}"] .deal[data-deal="${p.deal}"]`);
  expect(sql(`SELECT stage FROM pipeline_deals WHERE id = ${p.deal}`) === p.to,
         `the drop moved deal ${p.deal} to ${p.to} in the database`);
  const after = await kanbanFigures();
  expect(sameFigures(after, dbFigures()), 'after the drop the sums are the database\'s',
         { after, db: dbFigures() });
  expect(after[p.from].amount === before[p.from].amount - amount &&
         after[p.to].amount === before[p.to].amount + amount &&
         after[p.to].count === before[p.to].count + 1,
         `the ${p.from} and ${p.to} sums moved by the deal's ${amount}`);
  await shot('pipeline-moved');
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 0, 'the kanban scrolls inside itself at 390 px', overflow);
  await shot('pipeline-phone');
  await page.setViewportSize({ width: 1280, height: 900 });
}

// The ticket queue: the server's order (breached first, then by deadline)
// and each row's SLA badge and deadline in locale.timezone, as test_board.sh
// worked them out from the SLA policy and the opening times.
async function ticketChecks() {
  await page.click('#nav a[data-page=tickets]');
  await page.waitForSelector('#tickets tbody tr');
  const rows = await page.$$eval('#tickets tbody tr', (trs) => trs.map((tr) => ({
    subject: tr.children[1].textContent,
    badge: tr.querySelector('.badge').className.replace('badge ', ''),
    due: tr.children[5].textContent })));
  expect(rows.length === want.tickets.length &&
         rows.every((r, i) => r.subject === want.tickets[i].subject && r.badge === want.tickets[i].badge &&
                              r.due.includes(want.tickets[i].due)),
         'the ticket queue: breached first, then by deadline, with SLA badges and local deadlines',
         { rows, want: want.tickets });
  expect(await page.textContent('#tickets .badge.breached') === 'Dépassé', 'the breached badge reads Dépassé');
  await noStrayText('the ticket queue');
  await shot('tickets');
}

// The RFM grid: every cell's count as segmentation_rfm has it, the fullest
// cell the darkest; a click on it lists its contacts.
async function rfmChecks() {
  await page.click('#nav a[data-page=rfm]');
  await page.waitForSelector('#rfm td.cell');
  const shown = await page.$$eval('#rfm td.cell', (tds) => tds.map((td) =>
    ({ r: Number(td.dataset.r), f: Number(td.dataset.f), n: Number(td.textContent),
       heat: td.className.match(/heat(\d)/)[1] })));
  const db = {};
  for (const line of sql('SELECT r, f, count(*) FROM segmentation_rfm GROUP BY r, f').split('\n').filter(Boolean)) {
    const [r, f, n] = line.split('|').map(Number);
    db[`${r},${f}`] = n;
  }
  expect(shown.length === 25 && shown.every((c) => c.n === (db[`${c.r},${c.f}`] || 0)),
         'the RFM grid\'s 25 counts are segmentation_rfm\'s', { shown, db });
  const full = shown.reduce((a, c) => (c.n > a.n ? c : a));
  expect(full.n > 0 && full.heat === '9', 'the fullest cell is the darkest', full);
  await page.click(`#rfm td.cell[data-r="${full.r}"][data-f="${full.f}"] button`);
  await page.waitForSelector('#rfm-members li');
  const ids = await page.$$eval('#rfm-members li a', (as) => as.map((a) => Number(a.getAttribute('href').split('/').pop())));
  const want = sql(`SELECT contact_id FROM segmentation_rfm WHERE r = ${full.r} AND f = ${full.f} ORDER BY contact_id`)
    .split('\n').map(Number);
  expect(JSON.stringify(ids) === JSON.stringify(want), `a click lists cell R${full.r} F${full.f}'s contacts`, { ids, want });
  await noStrayText('the RFM grid');
  await shot('rfm');
}

// The segments: each one's size as its open memberships count, and its plot
// of the size after each change, worked out here from the membership rows.
async function segmentChecks() {
  await page.click('#nav a[data-page=segments]');
  await page.waitForSelector('#segments .segment');
  const shown = await page.$$eval('#segments .segment', (els) => els.map((el) => ({
    name: el.dataset.segment, size: Number(el.querySelector('.big').textContent),
    points: el.querySelectorAll('svg.plot circle').length,
    sizes: el.querySelector('svg.plot').getAttribute('aria-label').split(': ')[1] })));
  const rows = sql('SELECT segment, entered_at, left_at FROM segmentation_members').split('\n').filter(Boolean)
    .map((l) => l.split('|'));
  const history = (name) => {
    const delta = new Map();
    for (const [seg, enter, left] of rows.filter((r) => r[0] === name)) {
      delta.set(Number(enter), (delta.get(Number(enter)) || 0) + 1);
      if (left) delta.set(Number(left), (delta.get(Number(left)) || 0) - 1);
    }
    let size = 0;
    return [...delta.keys()].sort((a, b) => a - b).map((at) => (size += delta.get(at)));
  };
  for (const s of shown) {
    const h = history(s.name);
    const open = rows.filter((r) => r[0] === s.name && !r[2]).length;
    expect(s.size === open, `segment ${s.name}: size ${open}`, s);
    expect(h.length === 0 ? s.points === 1 : s.points === h.length && s.sizes === h.join(', '),
           `segment ${s.name}: the plot's points are its sizes after each change (${h.join(', ')})`, s);
  }
  const list = shown.find((s) => s.name === 'test_list');
  expect(list && list.sizes === '3, 2', 'the static list plots 3 then 2 members', list);
  await page.click('#segments .segment[data-segment=test_list] h2 button');
  await page.waitForSelector('#segment-members li');
  const ids = await page.$$eval('#segment-members li a', (as) => as.map((a) => Number(a.getAttribute('href').split('/').pop())));
  const open = sql("SELECT contact_id FROM segmentation_members WHERE segment = 'test_list' AND left_at IS NULL ORDER BY contact_id")
    .split('\n').map(Number);
  expect(JSON.stringify(ids) === JSON.stringify(open), 'a click on the list shows its current members', { ids, open });
  await noStrayText('the segments with a list\'s members');
  await noStrayText('the segments');
  await shot('segments');
}

// Approved points from the ledger tables (entries on approved lots, and
// clawbacks), independently of the plugin's balance code.
const approved = (id) => Number(sql('SELECT coalesce(sum(e.points), 0) FROM loyalty_entries e ' +
  'LEFT JOIN loyalty_lots l ON l.id = e.lot_id WHERE e.contact_id = ' + id +
  " AND ((e.lot_id IS NOT NULL AND l.approved_at IS NOT NULL) OR e.kind = 'clawback')"));
const shownBalance = async () => parseInt(await page.textContent('#loyalty .balance'), 10);

// The contact's loyalty card: its balance is the ledger's approved points,
// a line per ledger entry; redeeming from the form takes exactly the points.
async function loyaltyChecks(id) {
  await page.waitForSelector('#loyalty .balance');
  const before = approved(id);
  expect(before > 0 && await shownBalance() === before, `the loyalty card shows ${before} approved points`,
         await shownBalance());
  const entries = Number(sql(`SELECT count(*) FROM loyalty_entries WHERE contact_id = ${id}`));
  expect(await page.$$eval('#loyalty tbody tr', (r) => r.length) === entries,
         `the card lists the ${entries} ledger entries`);
  await page.fill('#loyalty input[name=points]', '120');
  await page.fill('#loyalty input[name=reason]', 'cadeau');
  await page.click('#loyalty button[type=submit]');
  await page.waitForFunction((b) => parseInt(document.querySelector('#loyalty .balance')?.textContent, 10) === b,
                             before - 120);
  expect(approved(id) === before - 120, 'redeeming 120 points takes them from the ledger', approved(id));
  expect(sql("SELECT count(*) FROM loyalty_ops WHERE reason = 'cadeau'") === '1', 'the redemption is recorded with its reason');
  await shot('loyalty');
}

try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  // a wrong password leaves the login form with the message
  page = await ctx.newPage();
  await page.goto(url);
  await shot('login');
  await page.fill('#login input[name=user]', want.manager.user);
  await page.fill('#login input[name=password]', 'not the password');
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#status.error');
  expect(await page.isVisible('#login'), 'a wrong password keeps the login form');
  await page.close();

  const errors = await login(ctx, want.manager.user, want.manager.password);
  const cookies = await ctx.cookies();
  const c = cookies.find((x) => x.name === 'crm_session');
  expect(c && c.httpOnly && c.sameSite === 'Strict', 'session cookie HttpOnly, SameSite=Strict',
         c);
  expect(!(await page.evaluate(() => document.cookie)).includes('crm_session'),
         'the page script cannot read the session cookie');
  // French labels: crm.yaml's locale.country is FR
  expect((await page.textContent('#logout')) === 'Déconnexion', 'labels in French (locale FR)');
  // the EN button switches every label to English, the FR one back
  await page.click('#nav button.lang');
  expect((await page.textContent('#logout')) === 'Log out' &&
         (await page.textContent('#nav a[data-page=rfm]')) === 'RFM grid', 'the EN button switches to English');
  await page.click('#nav button.lang');
  expect((await page.textContent('#logout')) === 'Déconnexion', 'the FR button switches back');
  // a page shows when its plugin has routes (their owners in /openapi.json)
  const owners = await page.evaluate(async () => {
    const doc = await (await fetch('/openapi.json')).json();
    return Object.values(doc.paths).flatMap((item) => Object.values(item))
      .map((op) => op['x-owner']).filter(Boolean);
  });
  const pages = ['contacts', ...Object.entries(pagePlugins)
    .filter(([, plugin]) => owners.includes(plugin)).map(([p]) => p)];
  const nav = await page.$$eval('#nav a', (as) => as.map((a) => a.dataset.page));
  expect(JSON.stringify(nav) === JSON.stringify(pages), 'the pages of the plugins with routes',
         { nav, pages });
  // this branch has every plugin's routes: a page left out is a failure
  expect(JSON.stringify(nav) === JSON.stringify(['contacts', 'pipeline', 'rfm', 'segments', 'tickets']) &&
         owners.includes('loyalty'), 'every page is there (the plugins\' routes are loaded)', { nav, owners });

  // contacts: search by name, open the contact, see its timeline
  await page.fill('#search', want.contact.search);
  await page.waitForFunction((n) => document.querySelectorAll('#main tbody tr a').length === n,
                             want.contact.matches);
  const names = await page.$$eval('#main tbody tr a', (as) => as.map((a) => a.textContent));
  expect(names.includes(want.contact.name), `search "${want.contact.search}" finds ${want.contact.name}`, names);
  await shot('contacts');
  await page.click(`#main tbody tr a:text-is("${want.contact.name}")`);
  await page.waitForSelector('#timeline li');
  expect((await page.textContent('#contact-name')) === want.contact.name, 'the contact page opens');
  const kinds = await page.$$eval('#timeline li', (li) => li.map((x) => x.className.replace('tl tl-', '')));
  expect(JSON.stringify(kinds) === JSON.stringify(want.contact.timeline_kinds),
         'the timeline lists the contact\'s entries, newest first', kinds);
  const text = await page.textContent('#timeline');
  expect(text.includes(want.contact.subject), 'the timeline shows the interaction subject');
  expect(text.includes(want.contact.stage), `the timeline shows the stage change "${want.contact.stage}"`, text);
  const first = await page.textContent('#timeline li:last-child time');
  expect(first.includes(want.contact.local_time), `times in locale.timezone (${want.contact.local_time})`, first);
  await noStrayText('the contact page');
  await shot('timeline');
  await loyaltyChecks(want.contact.id);

  // phone width: the same page without horizontal scrolling
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 0, 'no horizontal scroll at 390 px', overflow);
  await shot('timeline-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  await pipelineChecks();
  await ticketChecks();
  await rfmChecks();
  await segmentChecks();
  expect(errors.length === 0, 'no script or CSP error in the console', errors);

  // logout ends the session: the API refuses the old cookie
  await page.click('#logout');
  await page.waitForSelector('#login');
  const after = await page.evaluate(async () => (await fetch('/v1/contacts')).status);
  expect(after === 401, 'after logout the API answers 401', after);
  await ctx.close();

  // a viewer sees the kanban without drag (the server refuses its PATCH:
  // board_api.py)
  const vctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await login(vctx, want.viewer.user, want.viewer.password);
  await page.click('#nav a[data-page=pipeline]');
  await page.waitForSelector('#kanban .deal');
  expect(await page.$$eval('#kanban .deal[draggable=true]', (d) => d.length) === 0,
         'a viewer gets no draggable deal');
  expect(await page.isVisible('text=Lecture seule'), 'the viewer is told the board is read only');
  await noStrayText('the viewer\'s kanban');
  await page.goto(`${url}#/contact/${want.contact.id}`);
  await page.waitForSelector('#loyalty .balance');
  expect(await page.$$eval('#loyalty form', (f) => f.length) === 0, 'a viewer gets no redeem form');
  await shot('pipeline-viewer');
  await vctx.close();

  // where only the pipeline plugin is loaded, the other plugins' pages and
  // the loyalty card are not shown
  const pctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await pctx.newPage();
  await page.goto(want.pipeline_only_url);
  await page.fill('#login input[name=user]', want.manager.user);
  await page.fill('#login input[name=password]', want.manager.password);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#nav a');
  const only = await page.$$eval('#nav a', (as) => as.map((a) => a.dataset.page));
  expect(JSON.stringify(only) === JSON.stringify(['contacts', 'pipeline']),
         'with only the pipeline plugin, only its page is added', only);
  await page.goto(`${want.pipeline_only_url}/#/contact/${want.contact.id}`);
  await page.waitForSelector('#timeline li');
  expect(await page.$$eval('#loyalty', (l) => l.length) === 0, 'and no loyalty card');
  await shot('pipeline-only');
  await pctx.close();
} catch (e) {
  console.log(`not ok - ${e.message}`);
  if (page) await page.screenshot({ path: `${shots}/failure.png`, fullPage: true }).catch(() => {});
  await browser.close();
  process.exit(1);
}
await browser.close();
