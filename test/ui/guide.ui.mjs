// Drives the Cloudflare setup guide like a person, against the fake Cloudflare API on loopback: the token
// typed into "mTLS: Set Cloudflare API Token" from the Command Palette, the guide opened from the palette,
// Apply clicked on steps 1-3 in the webview, "Apply all missing…" confirmed in VS Code's dialog for the
// rest, each badge turning Done, the status bar showing both legs, and the guide coming back after a window
// reload (serializer + webview state). Screenshot: media/screenshots/guide.png.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startFakeCloudflare } from './fakeCloudflare.mjs';

export const title = 'Cloudflare setup guide: token from the palette, Apply in the webview, both legs done against the fake API';

const TOKEN = 'ui-test-token-5a1f0e9d8c7b6a594837261504';
const CA_NAME = 'acme-clients';
let fake;

/** A CA in the workspace store (`.mtls/<name>/ca.pem` + `ca.key`), made with the openssl CLI. */
function makeStoreCa(workspace) {
  const dir = path.join(workspace, '.mtls', CA_NAME);
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ca.key'], { cwd: dir, stdio: 'ignore' });
  execFileSync('openssl', ['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '3650', '-subj', '/O=Acme Inc./CN=Acme Clients Root CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.pem'], { cwd: dir, stdio: 'ignore' });
}

export async function setup({ workspace }) {
  makeStoreCa(workspace);
  fake = await startFakeCloudflare(TOKEN);
  const url = fake.url;
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`unexpected fake URL ${url}`);
  return {
    url,
    settings: {
      'mtls.cloudflare.apiBaseUrl': url,
      'mtls.cloudflare.zone': 'example.com',
      'mtls.cloudflare.hostnames': ['app.example.com', 'api.example.com'],
      'mtls.cloudflare.caName': CA_NAME,
      'mtls.cloudflare.aopMode': 'global',
    },
  };
}

export async function teardown() {
  await fake?.stop();
}

export default async function ({ wb, page, log }) {
  // The extension's contributions arrive with its (development) extension host: wait for its activity-bar item.
  await page.locator('.part.activitybar a.action-label[aria-label^="mTLS Workbench"]').waitFor({ timeout: 90000 });
  log('mTLS: Set Cloudflare API Token from the Command Palette (password box)');
  await wb.runCommand('mTLS: Set Cloudflare API Token');
  const box = page.locator('.quick-input-widget .quick-input-box input');
  await box.waitFor();
  if ((await box.getAttribute('type')) !== 'password') throw new Error('the token input box is not a password box');
  await wb.answer(TOKEN, { expectPrompt: 'secret storage' });
  await wb.notification('token saved and verified').waitFor({ timeout: 30000 });
  log('token saved and verified by the extension');

  log('mTLS: Open Cloudflare Setup Guide');
  await wb.runCommand('mTLS: Open Cloudflare Setup Guide');
  const g = wb.webview();
  const badge = id => g.locator(`#step-${id} .step-head .badge`);
  await g.locator('h1', { hasText: 'Cloudflare mTLS setup' }).waitFor({ timeout: 30000 });
  await badge('connect').filter({ hasText: 'Done' }).waitFor({ timeout: 30000 });
  const token = await g.locator('[data-field="token"]').innerText();
  if (!/^set/.test(token)) throw new Error(`token row says "${token}"`);
  for (const id of ['upload-ca', 'associate-hostnames', 'waf-rule']) {
    const b = await badge(id).innerText();
    if (b === 'Done') throw new Error(`${id} is done before anything was applied`);
  }
  log('status read: connect done, leg 1 steps to do');
  // An Enterprise zone with a CA in the store: "Your own CA (Enterprise)" is preselected from the plan.
  await g.locator('#ca-mode-byo:checked').waitFor({ timeout: 15000 });
  if (await g.locator('#ca-mode-managed').isChecked()) throw new Error('both CA modes are checked');
  const modeText = await g.locator('fieldset.ca-mode').innerText();
  if (!/Cloudflare-managed CA \(any plan\)/.test(modeText) || !/Your own CA \(Enterprise\)/.test(modeText)) throw new Error(`CA mode choice reads: ${modeText}`);
  log('CA mode preselected from the plan: your own CA (Enterprise)');

  log('"Show request" on step 1 expands the exact call (curl + SDK)');
  await g.locator('[data-key="req-upload-ca"]').click();
  const req = g.locator('#req-upload-ca');
  await req.waitFor();
  await req.locator('summary', { hasText: 'curl' }).first().click();
  const pre = req.locator('details[open] pre').first();
  await pre.waitFor();
  const curl = await pre.innerText();
  if (!curl.includes('$CLOUDFLARE_API_TOKEN') || curl.includes(TOKEN)) throw new Error(`unexpected curl: ${curl}`);
  await g.locator('[data-key="req-upload-ca"]').click();

  for (const id of ['upload-ca', 'associate-hostnames', 'waf-rule']) {
    log(`Apply step ${id}`);
    const apply = g.locator(`[data-key="apply-${id}"]`);
    await apply.waitFor();
    await page.waitForTimeout(200);
    await g.locator(`[data-key="apply-${id}"]:not([disabled])`).click({ timeout: 30000 });
    await badge(id).filter({ hasText: 'Done' }).waitFor({ timeout: 30000 });
  }
  await g.locator('[data-leg="1"]', { hasText: '✓' }).waitFor({ timeout: 15000 });
  log('leg 1 done');

  log('"Apply all missing…" -> dry run in the guide, confirmation dialog in VS Code');
  await g.locator('[data-key="apply-all"]:not([disabled])').click({ timeout: 30000 });
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor({ timeout: 30000 });
  const detail = await dialog.innerText();
  if (!/settings\/ssl/.test(detail)) throw new Error(`the dialog does not list the calls: ${detail}`);
  await g.locator('.dryrun').waitFor();
  await dialog.locator('.monaco-button', { hasText: 'Apply' }).first().click();
  for (const id of ['aop-mode', 'ssl-mode']) await badge(id).filter({ hasText: 'Done' }).waitFor({ timeout: 30000 });
  await g.locator('#report[data-ok="true"]').waitFor({ timeout: 30000 });
  await g.locator('[data-leg="2"]', { hasText: '✓' }).waitFor({ timeout: 15000 });
  log('leg 2 API steps done');

  const status = page.locator('.part.statusbar .statusbar-item', { hasText: 'Leg 1' });
  await status.filter({ hasText: 'Leg 1 ✓' }).waitFor({ timeout: 15000 });
  log('status bar:', (await status.innerText()).replace(/\s+/g, ' '));

  if (!(await g.locator('[data-key="apply-all"]').isDisabled())) throw new Error('"Apply all missing" is still enabled with nothing left to apply');

  log('screenshot of the guide (report dismissed, side bar closed)');
  await g.locator('[data-key="dismiss-report"]').click();
  await g.locator('#report').waitFor({ state: 'detached' });
  // Keys typed while the webview has focus go to the webview: give the focus back to the workbench first.
  const tab = page.locator('.part.editor .tab', { hasText: 'Cloudflare Setup Guide' }).first();
  await tab.click();
  await wb.runCommand('Notifications: Clear All Notifications');
  await tab.click();
  await wb.runCommand('View: Close Primary Side Bar');
  await page.keyboard.press('Escape');
  await g.locator('header').scrollIntoViewIfNeeded();
  await page.waitForTimeout(500);
  log('screenshot:', await wb.publishScreenshot('guide'));

  log('reload the window: the serializer brings the guide back, from its saved state, then reads again');
  await page.reload();
  await wb.ready();
  const g2 = wb.webview();
  await g2.locator('h1', { hasText: 'Cloudflare mTLS setup' }).waitFor({ timeout: 90000 });
  for (const id of ['upload-ca', 'associate-hostnames', 'waf-rule', 'aop-mode', 'ssl-mode']) {
    await g2.locator(`#step-${id} .step-head .badge`, { hasText: 'Done' }).waitFor({ timeout: 60000 });
  }
  await g2.locator('[data-field="token"]', { hasText: 'set' }).waitFor();
  log('guide restored after reload');
}
