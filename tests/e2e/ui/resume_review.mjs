// Answer a waiting review the way staff do: in the Prefect UI (V2), in headless Debian chromium.
//
//   node tests/e2e/ui/resume_review.mjs --base http://127.0.0.1:4200 --out test-output/ui \
//        --reviewer "港 花子" [--flow childcare-support] [--decision approve] [--run-id ID] \
//        [--wait-final-s 180] [--dry-run]
//
// 1. Runs → States: Suspended + Paused → Flows: the flow → the newest waiting run
//    (with --run-id: that run, which must be listed there).
// 2. The run's page → menu ⋮ → Resume: the form Prefect renders from the RunInput schema,
//    under the markdown description.
// 3. Type the reviewer's name, choose the decision on every item, press Resume and wait for
//    the "Flow run resumed" toast (a failure toast, or the server's answer, fails the script).
// 4. With --wait-final-s: stay on the run's page until it shows a final state.
// Screenshots of each step go to --out; one JSON object on stdout says what was done.
// Exit 0 when submitted (and, with --wait-final-s, the run Completed), 1 otherwise.
// Needs playwright-core (`make setup`: npm ci in this folder) and Debian chromium.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

const { values: opt } = parseArgs({
  options: {
    base: { type: 'string' },
    out: { type: 'string', default: 'test-output/ui' },
    reviewer: { type: 'string', default: 'ui-reviewer' },
    flow: { type: 'string', default: 'childcare-support' },
    decision: { type: 'string', default: 'approve' },
    'run-id': { type: 'string' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
    'timeout-s': { type: 'string', default: '60' },
    'wait-final-s': { type: 'string', default: '0' },
    'dry-run': { type: 'boolean', default: false },
  },
});
if (!opt.base) {
  console.error('usage: resume_review.mjs --base UI_URL [--out DIR] [--reviewer NAME] ...');
  process.exit(2);
}
const base = opt.base.replace(/\/+$/, '').replace(/\/api$/, '');
const timeout = Number(opt['timeout-s']) * 1000;
const WAITING = ['Suspended', 'Paused'];
const FINAL = ['Completed', 'Failed', 'Crashed', 'Cancelled', 'TimedOut'];
// JSON-Schema keywords whose values must themselves be schemas, numbers, arrays ...
const SCHEMA_KEYWORDS = [
  'items', 'prefixItems', 'properties', 'patternProperties', 'additionalProperties', 'type',
  'required', 'enum', 'const', 'allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else',
  'contains', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern', 'format', 'minItems',
  'maxItems', 'uniqueItems', 'dependentRequired', 'dependentSchemas', 'propertyNames',
  'definitions', '$defs', '$ref', 'multipleOf', 'exclusiveMinimum', 'exclusiveMaximum',
];
const exactly = (names) => new RegExp(`^(${names.join('|')})$`);

fs.mkdirSync(opt.out, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'civicflow-chromium-'));
const done = {
  base,
  flow: opt.flow,
  reviewer: opt.reviewer,
  decision: opt.decision,
  items: [],
  screenshots: [],
  seconds: {},
};
const started = Date.now();

const context = await chromium.launchPersistentContext(profile, {
  executablePath: opt.chromium,
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
  viewport: { width: 1400, height: 1000 },
  locale: 'ja-JP',
  timezoneId: 'Asia/Tokyo',
});
context.setDefaultTimeout(20_000);
const page = context.pages()[0] ?? (await context.newPage());

/** Pixels of the dialog's content scrolled out of sight (0 when it all shows). */
function hiddenHeight(el) {
  const box = [...el.querySelectorAll('*')].find(
    (e) => /auto|scroll/.test(getComputedStyle(e).overflowY) && e.scrollHeight > e.clientHeight,
  );
  return box ? box.scrollHeight - box.clientHeight : 0;
}

/** Screenshot the page, or a dialog; `whole` grows the window so the scrolled dialog fits. */
async function shot(name, dialog = null, { whole = false, from = null } = {}) {
  const file = path.join(opt.out, name);
  const viewport = page.viewportSize();
  if (whole) {
    const hidden = await dialog.evaluate(hiddenHeight);
    // the dialog is at most 80vh high
    const height = Math.min(16_000, Math.ceil((viewport.height * 0.8 + hidden) / 0.8) + 100);
    await page.setViewportSize({ width: viewport.width, height });
    // Let it grow and re-centre: on a slow machine a fixed pause was not always enough.
    // Capped at 16,000 px, part of it may stay scrolled: then go on after 5 s.
    for (let i = 0; i < 50 && (await dialog.evaluate(hiddenHeight)) > 0; i++) {
      await page.waitForTimeout(100);
    }
    await page.waitForTimeout(300); // and re-centred
  }
  const box = dialog ? await dialog.boundingBox() : null;
  const top = from ? (await from.boundingBox()).y - 16 : 0;
  if (from && box.y + box.height - top > 0) {
    // from one field down to the dialog's buttons: the answer without the description
    await page.screenshot({
      path: file,
      clip: { x: box.x, y: top, width: box.width, height: box.y + box.height - top },
    });
  } else if (dialog) {
    await dialog.screenshot({ path: file });
  } else {
    await page.screenshot({ path: file, fullPage: true });
  }
  if (whole) await page.setViewportSize(viewport);
  done.screenshots.push(file);
  done.seconds[name] = (Date.now() - started) / 1000;
}

/** Runs, filtered as a person would, to the flow's waiting runs; the run's link. */
async function findWaitingRun() {
  await page.goto(`${base}/v2/runs`, { waitUntil: 'networkidle' });
  await page.getByRole('button', { name: 'All run states' }).click();
  for (const state of WAITING) {
    await page.getByRole('menuitem', { name: state, exact: true }).click();
  }
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Filter by flow' }).click();
  await page.getByRole('option', { name: opt.flow, exact: true }).click();
  await page.keyboard.press('Escape');
  // one list item per run: flow / run name (a link), tags, state, start time …;
  // its text nodes are joined without spaces, hence no \b in the state pattern
  const rows = page
    .getByRole('listitem')
    .filter({ has: page.locator('a[href*="/runs/flow-run/"]') })
    .filter({ hasText: opt.flow })
    .filter({ hasText: new RegExp(WAITING.join('|')) });
  const wanted = opt['run-id']
    ? rows.filter({ has: page.locator(`a[href$="/flow-run/${opt['run-id']}"]`) })
    : rows; // sorted newest first
  await wanted.first().waitFor({ timeout });
  done.waiting_runs_listed = await rows.count();
  await shot('01-runs-waiting.png');
  return wanted.first().locator('a[href*="/runs/flow-run/"]').first();
}

/** Press Resume; resolve when the UI says the run resumed, throw with the reason otherwise. */
async function submit(form) {
  const answers = [];
  const onResponse = async (response) => {
    const url = response.url();
    if (!/\/ui\/schemas\/validate$|\/flow_runs\/[^/]+\/resume$/.test(url)) return;
    const body = await response.text().catch(() => '');
    const short = body.length > 300 ? `${body.slice(0, 120)} … ${body.slice(-160)}` : body;
    const sent = response.request().postDataJSON() ?? {};
    answers.push({
      url: url.replace(base, ''),
      status: response.status(),
      body: short,
      fields: Object.keys(sent.values ?? sent.run_input ?? {}),
    });
  };
  page.on('response', onResponse);
  await form.getByRole('button', { name: 'Resume', exact: true }).click();
  const ok = page.getByText('Flow run resumed', { exact: true });
  const bad = page.getByText(/^Failed to (validate input|resume flow run)|^Error/);
  await ok.or(bad).first().waitFor({ timeout });
  await page.waitForTimeout(300); // let the last response body arrive
  page.off('response', onResponse);
  done.server_answers = answers;
  if (await bad.count()) {
    const toast = (await bad.first().innerText()).trim();
    const why = answers.find((a) => a.status >= 400);
    let hint = '';
    if (why && /Invalid schema/.test(why.body)) {
      // Prefect 3.8.8's V2 dialog posts the *values* as the schema to /ui/schemas/validate
      // (`validateForm({schema: values})`), so a form with a top-level field named like a
      // JSON-Schema keyword can never be submitted from the V2 UI.
      const clash = why.fields.filter((f) => SCHEMA_KEYWORDS.includes(f));
      hint =
        ` — Prefect's V2 Resume dialog validates the answer as if it were a JSON schema, so` +
        ` a RunInput field named like a JSON-Schema keyword (${clash.map((f) => `"${f}"`).join(', ') || '?'})` +
        ' fails every submission: rename that field of the form';
    }
    const server = why ? ` (${why.status} ${why.url}: ${why.body})` : '';
    throw new Error(`the UI refused the answer: "${toast}"${server}${hint}`);
  }
}

/** Stay on the run's page until it shows a final state; return that state. */
async function waitFinal(main, seconds) {
  const deadline = Date.now() + seconds * 1000;
  const final = main.getByText(exactly(FINAL));
  while (Date.now() < deadline) {
    if (await final.count()) return (await final.first().innerText()).trim();
    await page.waitForTimeout(3000);
    await page.reload({ waitUntil: 'networkidle' });
  }
  throw new Error(`the run did not reach a final state in ${seconds} s`);
}

class DryRun extends Error {}
let failure = null;
try {
  const link = await findWaitingRun();
  done.run_name = (await link.innerText()).trim();
  await link.click();
  await page.waitForURL(/\/runs\/flow-run\/[0-9a-f-]{36}/);
  done.run_id = page.url().match(/flow-run\/([0-9a-f-]{36})/)[1];
  done.run_url = `${base}/v2/runs/flow-run/${done.run_id}`;
  const main = page.getByRole('main');
  const waitingBadge = main.getByText(exactly(WAITING)).first();
  await waitingBadge.waitFor();
  done.state_before = (await waitingBadge.innerText()).trim();
  await shot('02-run-page.png');

  await page.getByRole('button', { name: 'Open menu' }).first().click();
  await page.getByRole('menuitem', { name: 'Resume', exact: true }).click();
  const form = page.getByRole('dialog', { name: 'Resume Flow Run' });
  await form.getByText(/^Reviewer/).waitFor(); // the form is drawn after the description
  await shot('03-form-description.png', form);

  const reviewer = form.getByRole('textbox', { name: /^Reviewer/ });
  await reviewer.fill(opt.reviewer);
  const decisions = form.getByRole('button', { name: 'Select Decision' });
  const n = await decisions.count();
  if (n === 0) throw new Error('the Resume form shows no item with a decision');
  for (let i = 0; i < n; i += 1) {
    await decisions.nth(i).click();
    const option = page.getByRole('option', { name: opt.decision, exact: true });
    await option.click();
    await option.waitFor({ state: 'detached' });
  }
  const itemIds = form.getByRole('spinbutton', { name: 'Item Id' });
  const receipts = form.getByRole('textbox', { name: /^Receipt No/ });
  for (let i = 0; i < n; i += 1) {
    done.items.push({
      item_id: Number(await itemIds.nth(i).inputValue()),
      receipt_no: await receipts.nth(i).inputValue(),
      decision: (await decisions.nth(i).innerText()).trim(),
    });
  }
  const unset = done.items.filter((item) => item.decision !== opt.decision);
  if (unset.length) throw new Error(`the decision did not stick on ${JSON.stringify(unset)}`);
  if ((await reviewer.inputValue()) !== opt.reviewer) throw new Error('the reviewer did not stick');
  await shot('04-form-filled.png', form, { whole: true, from: form.getByText(/^Reviewer/) });
  if (opt['dry-run']) throw new DryRun();

  await submit(form);
  done.submitted = true;
  await form.waitFor({ state: 'detached' });
  await waitingBadge.waitFor({ state: 'detached', timeout });
  await shot('05-after-submit.png');
  if (Number(opt['wait-final-s']) > 0) {
    done.state_after = await waitFinal(main, Number(opt['wait-final-s']));
    await shot('06-run-final.png');
    if (done.state_after !== 'Completed') throw new Error(`the run ended ${done.state_after}`);
  }
} catch (error) {
  if (error instanceof DryRun) {
    done.dry_run = true;
  } else {
    failure = error;
    done.error = String(error?.message ?? error).split('\n')[0];
    await shot('99-failure.png').catch(() => {});
  }
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(done));
process.exit(failure ? 1 : 0);
