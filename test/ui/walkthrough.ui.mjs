// Walks the Getting Started walkthrough like a newcomer: opens it from the welcome view of the empty
// Certificates view, creates a CA, issues and exports a client certificate and lints the origin configs from
// its step buttons, and checks that each step is checked off only when that really happened (opening the
// setup guide or saving a token does not complete "Set up Cloudflare"). Then the light theme: the walkthrough,
// the Certificate Explorer and the setup guide (against the fake Cloudflare API).
// Screenshots: walkthrough.png, walkthrough-light.png, explorer-light.png, guide-light.png.
import fs from 'node:fs';
import path from 'node:path';
import { startFakeCloudflare } from './fakeCloudflare.mjs';

export const title = 'Getting Started walkthrough: steps checked off by the real events; light theme screenshots';

const TOKEN = 'walkthrough-ui-token-7c2e4a9b1d3f5e6a8b0c';
const CA_NAME = 'acme-clients';
let fake;

// Only the API address up front: with a zone set, the Certificates view shows the Cloudflare-managed CA and
// no longer the empty-store welcome view the walkthrough is opened from. The zone comes with step 5.
export async function setup() {
  fake = await startFakeCloudflare(TOKEN);
  const url = fake.url;
  return { settings: { 'mtls.cloudflare.apiBaseUrl': url } };
}

const ZONE_SETTINGS = {
  'mtls.cloudflare.zone': 'example.com',
  'mtls.cloudflare.hostnames': ['app.example.com'],
  'mtls.cloudflare.caName': CA_NAME,
};

export async function teardown() {
  await fake?.stop();
}

export default async function ({ wb, page, workspace, server, log }) {
  const walkthrough = page.locator('.gettingStartedContainer');
  const step = id => walkthrough.locator(`button.getting-started-step[data-step-id$="#${id}"]`);
  const checked = async id => (await step(id).getAttribute('aria-checked')) === 'true';
  const waitChecked = async id => {
    await page.waitForFunction(sel => document.querySelector(sel)?.getAttribute('aria-checked') === 'true',
      `.gettingStartedContainer button.getting-started-step[data-step-id$="#${id}"]`, { timeout: 60000 });
    log(`step ${id} is checked off`);
  };
  /** Expands a step and clicks one of its buttons. */
  const stepButton = async (id, label) => {
    await step(id).click();
    const button = walkthrough.locator('.monaco-button, a.button-link', { hasText: label }).filter({ visible: true }).first();
    await button.waitFor();
    await button.click();
  };
  /** Answers the input box showing `prompt`, pressing Enter again if a busy workbench swallowed it. */
  const answer = async (value, prompt) => {
    const widget = page.locator('.quick-input-widget');
    const message = widget.locator(`text=${prompt}`).first();
    await message.waitFor({ timeout: 30000 });
    const input = widget.locator('.quick-input-box input');
    await input.fill(value);
    for (let attempt = 0; attempt < 5; attempt++) {
      await page.waitForTimeout(150);
      await input.press('Enter');
      try { await message.waitFor({ state: 'hidden', timeout: 3000 }); return; } catch { /* Enter not taken yet */ }
    }
    throw new Error(`the prompt "${prompt}" did not take the answer`);
  };
  /** Picks `label` when a quick pick offers it (a CA or certificate is asked only when there is a choice). */
  const pickIfAsked = async (label, ms = 3000) => {
    const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: label }).first();
    try { await row.waitFor({ timeout: ms }); } catch { return; }
    await row.click();
    await page.waitForTimeout(200);
  };

  log('the empty Certificates view offers the walkthrough');
  await wb.openViewContainer('mTLS Workbench');
  const welcome = page.locator('.part.sidebar .welcome-view-content', { hasText: 'No certificate authority yet' });
  await welcome.waitFor({ timeout: 60000 });
  const welcomeText = await welcome.innerText();
  if (welcomeText.includes('`')) throw new Error(`the welcome view shows literal markdown: ${welcomeText}`);
  await welcome.locator('a', { hasText: 'Getting Started walkthrough' }).click();
  await walkthrough.locator('text=Get Started with mTLS Workbench').first().waitFor({ timeout: 30000 });
  const ids = ['createCa', 'issueClientCert', 'lintOrigin', 'rehearse', 'cloudflare', 'verify'];
  for (const id of ids) {
    await step(id).waitFor();
    if (await checked(id)) throw new Error(`step ${id} is checked before anything happened`);
  }
  log('walkthrough open with its six steps, none checked');

  log('step 1: Create CA from the step button');
  await stepButton('createCa', 'Create CA');
  await answer(CA_NAME, 'Name of the CA');
  await answer('Acme Clients Root CA', 'Common name');
  await answer('Acme Inc.', 'Organization');
  await wb.pick('ECDSA P-256');
  await answer('3650', 'Validity in days');
  await answer('walkthrough passphrase', 'Passphrase that encrypts the CA key');
  await answer('walkthrough passphrase', 'Repeat the passphrase');
  await waitChecked('createCa');
  if (!fs.existsSync(path.join(workspace, '.mtls', CA_NAME, 'ca.pem'))) throw new Error('ca.pem was not written');
  // The zone settings arrive now, long before the Cloudflare step reads them: written later, a busy workbench
  // may not have picked the file up when the token is checked. (Before the first CA they would replace the
  // empty-store welcome view with the zone's Cloudflare-managed CA row.)
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(workspace, '.vscode/settings.json'), JSON.stringify(ZONE_SETTINGS, null, 2));

  log('step 2: issue a client certificate, then export it for a browser');
  await stepButton('issueClientCert', 'Issue Client Certificate');
  await pickIfAsked(CA_NAME);
  await answer('alice@example.com', 'Common name');
  await answer('alice@example.com', 'Subject alternative names');
  await wb.pick('ECDSA P-256');
  await answer('365', 'Validity in days');
  await wb.notification('valid 365 days').waitFor({ timeout: 60000 });
  await page.waitForTimeout(1000);
  if (await checked('issueClientCert')) throw new Error('step 2 is checked before the .p12 export');
  await stepButton('issueClientCert', 'Export PKCS#12');
  await pickIfAsked('alice@example.com');
  await wb.pick('Modern (AES-256)');
  await answer('walk-through-pass', 'Password for the PKCS#12 file');
  await answer('walk-through-pass', 'Type the password again');
  await page.waitForFunction(() => document.querySelector('.quick-input-widget .quick-input-box input')?.value.endsWith('.p12'), null, { timeout: 15000 });
  await page.keyboard.press('Enter');
  await waitChecked('issueClientCert');

  log('step 3: Lint Origin Configs');
  await stepButton('lintOrigin', 'Lint Origin Configs');
  await waitChecked('lintOrigin');

  log('step 5: saving a token and opening the guide do not set Cloudflare up');
  await stepButton('cloudflare', 'Set Cloudflare API Token');
  await answer(TOKEN, 'secret storage');
  await wb.notification('token saved and verified').waitFor({ timeout: 30000 });
  await wb.runCommand('Notifications: Clear All Notifications');
  for (const id of ['rehearse', 'cloudflare', 'verify']) {
    if (await checked(id)) throw new Error(`step ${id} is checked although it did not happen`);
  }
  await step('createCa').click();
  await page.waitForTimeout(500);
  log('screenshot:', await wb.publishScreenshot('walkthrough'));

  log('light theme (user setting workbench.colorTheme), then the walkthrough again from the palette');
  const settingsFile = path.join(server.dataDir, 'user-data/User/settings.json');
  const settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8'));
  fs.writeFileSync(settingsFile, JSON.stringify({ ...settings, 'workbench.colorTheme': 'Default Light Modern' }, null, 2));
  const lightWithin = ms => page.waitForFunction(() => document.querySelector('.monaco-workbench')?.classList.contains('vs'), null, { timeout: ms }).then(() => true, () => false);
  if (!(await lightWithin(10000))) {
    log('the settings file was not picked up yet: Preferences: Toggle between Light/Dark Themes');
    await wb.runCommand('Preferences: Toggle between Light/Dark Themes');
    if (!(await lightWithin(30000))) throw new Error('the workbench did not switch to the light theme');
  }
  await wb.runCommand('Welcome: Open Walkthrough...');
  await wb.pick('Get Started with mTLS Workbench');
  await step('createCa').waitFor({ timeout: 30000 });
  if (!(await checked('createCa')) || !(await checked('lintOrigin'))) throw new Error('the checked steps did not stay checked');
  await page.waitForTimeout(800);
  await wb.screenshot('walkthrough-light');

  log('light theme: the Certificate Explorer with the CA and alice');
  await wb.openViewContainer('mTLS Workbench');
  await wb.treeRow('alice@example.com').waitFor({ timeout: 30000 });
  await wb.treeRow('alice@example.com').click();
  await page.waitForTimeout(800);
  log('screenshot:', await wb.publishScreenshot('explorer-light'));

  log('light theme: the setup guide reading the fake zone');
  await wb.runCommand('mTLS: Open Cloudflare Setup Guide');
  const guide = wb.webview();
  await guide.locator('h1', { hasText: 'Cloudflare mTLS setup' }).waitFor({ timeout: 30000 });
  await guide.locator('text=/Connect|token/i').first().waitFor({ timeout: 30000 });
  await page.waitForTimeout(2000);
  log('screenshot:', await wb.publishScreenshot('guide-light'));
  await page.locator('.tabs-container .tab', { hasText: 'Walkthrough' }).first().click();
  await step('cloudflare').waitFor();
  if (await checked('cloudflare')) throw new Error('opening the guide checked off "Set up Cloudflare"');
}
