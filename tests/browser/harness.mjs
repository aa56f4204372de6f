// What every browser check shares: headless Chromium (Debian's package), a check runner that
// reports every failure, and the axe and phone-width checks.
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(join(dirname(require.resolve('axe-core')), 'axe.min.js'), 'utf8');

let passed = 0;
let failed = 0;
const results = [];

export async function check(name, body) {
  try {
    await body();
    passed += 1;
    results.push(`ok   ${name}`);
  } catch (error) {
    failed += 1;
    results.push(`FAIL ${name}: ${error.stack || error}`);
  }
}

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

export async function accessible(page, label) {
  await page.addScriptTag({ content: axeSource });
  const outcome = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const serious = outcome.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert(serious.length === 0, `${label}: axe found ${serious.map((v) => `${v.id} (${v.nodes.length})`).join(', ')}`);
}

export async function fitsThePhone(page, label) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 1, `${label}: the page is ${overflow}px wider than the phone screen`);
}

// Saves a full-page screenshot when SCREENSHOTS names a folder (for people to look at).
export async function shoot(page, name) {
  const folder = process.env.SCREENSHOTS;
  if (!folder) return;
  const width = page.viewportSize()?.width ?? 0;
  await page.screenshot({ path: join(folder, `${name}-${width}.png`), fullPage: true });
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

// bypassCSP lets the checks inject axe; the pages' own CSP forbids every script.
export const phone = { viewport: { width: 390, height: 844 }, locale: 'en-GB', bypassCSP: true };

export function report() {
  for (const line of results) console.log(line);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

// Calls the admin JSON API with `token`; fails the check on any error answer.
export function adminApi(base, token) {
  return async (method, path, body) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await response.json();
    assert(response.ok, `${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`);
    return json;
  };
}

// Waits (at most 10 s) for a message in the local outbox: messages are sent by the in-process
// runner shortly after the change that queued them.
export async function awaitMessage(base, matches, what) {
  for (let i = 0; i < 100; i += 1) {
    const outbox = await (await fetch(`${base}/_local/outbox`)).json();
    const found = outbox.messages.find(matches);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no ${what} in the outbox`);
}

export function arguments_() {
  const [base, token] = process.argv.slice(2);
  if (!base || !token) {
    console.error(`usage: node ${process.argv[1]} BASE_URL ADMIN_TOKEN`);
    process.exit(2);
  }
  return { base, token };
}
