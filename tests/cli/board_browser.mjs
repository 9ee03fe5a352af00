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
  const nav = await page.$$eval('#nav a', (as) => as.map((a) => a.dataset.page));
  expect(JSON.stringify(nav) === JSON.stringify(want.pages), 'the pages of the loaded plugins', nav);

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
  const first = await page.textContent('#timeline li:last-child time');
  expect(first.includes(want.contact.local_time), `times in locale.timezone (${want.contact.local_time})`, first);
  await shot('timeline');

  // phone width: the same page without horizontal scrolling
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 0, 'no horizontal scroll at 390 px', overflow);
  await shot('timeline-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  expect(errors.length === 0, 'no script or CSP error in the console', errors);

  // logout ends the session: the API refuses the old cookie
  await page.click('#logout');
  await page.waitForSelector('#login');
  const after = await page.evaluate(async () => (await fetch('/v1/contacts')).status);
  expect(after === 401, 'after logout the API answers 401', after);
  await ctx.close();
} catch (e) {
  console.log(`not ok - ${e.message}`);
  if (page) await page.screenshot({ path: `${shots}/failure.png`, fullPage: true }).catch(() => {});
  await browser.close();
  process.exit(1);
}
await browser.close();
