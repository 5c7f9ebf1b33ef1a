// Drives the Certificate Explorer like a person: the mTLS view from the activity bar (welcome view),
// "mTLS: Create CA..." from the Command Palette, a right-click on the CA -> "Issue Client Certificate...",
// then the tree with the CA and its client certificate, the inspect document and a tooltip, a PKCS#12
// export, and "Sign CSR..." whose confirmation shows what the certificate would grant.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const title = 'Certificate Explorer: create a CA from the palette, issue a client certificate from its context menu';

export default async function ({ wb, page, workspace, log }) {
  const sidebar = page.locator('.part.sidebar');

  log('open the mTLS view from the activity bar');
  await wb.openViewContainer('mTLS Workbench');
  const welcome = sidebar.locator('.welcome-view-content', { hasText: 'No certificate authority yet' });
  await welcome.waitFor({ timeout: 30000 });
  await welcome.locator('a.monaco-button, .monaco-button', { hasText: 'Create CA' }).first().waitFor();
  log('welcome view with its Create CA button is visible');

  log('mTLS: Create CA... from the Command Palette');
  await wb.runCommand('mTLS: Create CA...');
  await wb.answer('acme-clients', { expectPrompt: 'Name of the CA' });
  await wb.answer('Acme Clients Root CA', { expectPrompt: 'Common name' });
  await wb.answer('Acme Inc.', { expectPrompt: 'Organization' });
  await wb.pick('ECDSA P-256');
  await wb.answer('3650', { expectPrompt: 'Validity in days' });
  await wb.answer('ui passphrase', { expectPrompt: 'Passphrase that encrypts the CA key' });
  await wb.answer('ui passphrase', { expectPrompt: 'Repeat the passphrase' });

  const caRow = wb.treeRow('acme-clients');
  await caRow.waitFor({ timeout: 60000 });
  log('CA row:', (await caRow.innerText()).replace(/\s+/g, ' '));
  if (!fs.existsSync(path.join(workspace, '.mtls/acme-clients/ca.pem'))) throw new Error('ca.pem was not written');
  if (!fs.readFileSync(path.join(workspace, '.mtls/acme-clients/ca.key'), 'utf8').startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----')) throw new Error('the CA key is not encrypted');
  if (/key not encrypted/.test(await caRow.innerText())) throw new Error('the encrypted CA is marked as not encrypted');
  if (await welcome.isVisible()) throw new Error('the welcome view is still shown next to a CA');

  log('right-click the CA -> Issue Client Certificate...');
  await wb.contextMenu('acme-clients', 'Issue Client Certificate...');
  await wb.answer('alice@example.com', { expectPrompt: 'Common name' });
  await wb.answer('alice@example.com', { expectPrompt: 'Subject alternative names' });
  await wb.pick('ECDSA P-256');
  await wb.answer('365', { expectPrompt: 'Validity in days' });

  const certRow = wb.treeRow('alice@example.com');
  await certRow.waitFor({ timeout: 60000 });
  await page.waitForFunction(() => [...document.querySelectorAll('.part.sidebar .monaco-list-row')]
    .some(r => r.textContent.includes('alice@example.com') && /36[45] days/.test(r.textContent)), null, { timeout: 15000 });
  const rows = (await wb.treeRows()).map(r => r.replace(/\s+/g, ' ').trim());
  log('tree:', JSON.stringify(rows));
  const ca = rows.findIndex(r => r.startsWith('acme-clients'));
  const alice = rows.findIndex(r => r.includes('alice@example.com'));
  if (ca < 0 || alice !== ca + 1) throw new Error(`expected the client certificate right under its CA: ${JSON.stringify(rows)}`);
  const level = async text => Number(await wb.treeRow(text).getAttribute('aria-level'));
  if ((await level('alice@example.com')) !== (await level('acme-clients')) + 1) throw new Error('the certificate is not a child of the CA');

  log('a second client certificate that expires soon, from the context menu again');
  await wb.contextMenu('acme-clients', 'Issue Client Certificate...');
  await wb.answer('bob@example.com', { expectPrompt: 'Common name' });
  await wb.answer('', { expectPrompt: 'Subject alternative names' });
  await wb.pick('ECDSA P-256');
  await wb.answer('20', { expectPrompt: 'Validity in days' });
  await page.waitForFunction(() => [...document.querySelectorAll('.part.sidebar .monaco-list-row')]
    .some(r => r.textContent.includes('bob@example.com') && /expires in (19|20) days/.test(r.textContent)), null, { timeout: 60000 });
  log('widen the side bar so the tree reads well in the picture');
  const box = await sidebar.boundingBox();
  const sash = page.locator('.monaco-sash.vertical').filter({ visible: true });
  let grabbed = false;
  for (let i = 0; i < await sash.count(); i++) {
    const b = await sash.nth(i).boundingBox();
    if (b && Math.abs(b.x + b.width / 2 - (box.x + box.width)) < 6 && b.height > box.height / 2) {
      await page.mouse.move(b.x + b.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + 440, box.y + box.height / 2, { steps: 8 });
      await page.mouse.up();
      grabbed = true;
      break;
    }
  }
  log('side bar width', grabbed ? (await sidebar.boundingBox()).width : 'unchanged (no sash found)');

  log('clear notifications, open the inspect document of alice (click), hover bob for his tooltip');
  await wb.runCommand('Notifications: Clear All Notifications');
  await page.keyboard.press('Escape');
  await certRow.click();
  // Expiry colours: with the selection on alice, bob's label has the theme's list.warningForeground.
  const colour = async text => wb.treeRow(text).locator('.label-name').first().evaluate(e => getComputedStyle(e).color);
  const warning = await page.evaluate(() => {
    const probe = document.createElement('span');
    probe.style.color = 'var(--vscode-list-warningForeground)';
    document.querySelector('.monaco-workbench').appendChild(probe);
    const c = getComputedStyle(probe).color;
    probe.remove();
    return c;
  });
  const bobColour = await colour('bob@example.com');
  log('label colours: bob', bobColour, 'CA', await colour('acme-clients'), 'list.warningForeground', warning);
  if (bobColour !== warning) throw new Error(`the certificate expiring in 20 days is not in the warning colour (${bobColour} vs ${warning})`);
  const editor = page.locator('.part.editor .monaco-editor .view-lines');
  await page.locator('.part.editor .tab', { hasText: 'alice@example.com (certificate).txt' }).waitFor({ timeout: 15000 });
  await editor.filter({ hasText: 'SHA-256' }).first().waitFor({ timeout: 15000 });
  await page.mouse.move(0, 0);
  // Hover the expiring one: its tooltip opens below it and leaves the whole tree in the picture.
  await wb.treeRow('bob@example.com').locator('.label-name').first().hover();
  const hover = page.locator('.monaco-hover, .workbench-hover', { hasText: 'expires in' }).first();
  await hover.waitFor({ state: 'visible', timeout: 15000 });
  await page.waitForTimeout(400);

  log('screenshot:', await wb.publishScreenshot('explorer'));

  log('the certificate context menu offers every action on it');
  await page.mouse.move(0, 0);
  await certRow.click({ button: 'right' });
  const menu = page.locator('.context-view .monaco-menu');
  await menu.waitFor();
  const items = (await menu.locator('.action-item .action-label').allInnerTexts()).map(t => t.trim()).filter(Boolean);
  log('menu:', JSON.stringify(items));
  for (const want of ['Inspect Certificate', 'Verify Against CA', 'Copy SHA-256 Fingerprint', 'Export PKCS#12 (Browsers)...', 'Open PEM File',
    'Renew Certificate', 'Revoke Certificate', 'Delete']) {
    if (!items.includes(want)) throw new Error(`context menu lacks ${want}: ${JSON.stringify(items)}`);
  }
  if (items.includes('Issue Client Certificate...')) throw new Error('a leaf certificate offers to issue certificates');
  await page.keyboard.press('Escape');

  log('export a legacy PKCS#12 for the macOS keychain: flavour, password twice, save dialog');
  await wb.contextMenu('alice@example.com', 'Export PKCS#12 (Browsers)...');
  await wb.pick('Legacy (3DES)');
  await wb.answer('s3cret-pass', { expectPrompt: 'Password for the PKCS#12 file' });
  await wb.answer('s3cret-pass', { expectPrompt: 'Type the password again' });
  // The save dialog (code-server's simple dialog) proposes <cert>-legacy.p12 beside the certificate.
  await page.locator('.quick-input-widget .quick-input-box input').waitFor();
  await page.waitForFunction(() => document.querySelector('.quick-input-widget .quick-input-box input')?.value.endsWith('alice-example.com-legacy.p12'), null, { timeout: 15000 });
  await page.keyboard.press('Enter');
  const p12 = path.join(workspace, '.mtls/acme-clients/certs/alice-example.com-legacy.p12');
  for (let i = 0; i < 50 && !fs.existsSync(p12); i++) await page.waitForTimeout(200);
  if (!fs.existsSync(p12)) throw new Error(`${p12} was not written`);
  if ((fs.statSync(p12).mode & 0o777) !== 0o600) throw new Error('the p12 is not 0600');
  execFileSync('openssl', ['pkcs12', '-legacy', '-in', p12, '-passin', 'pass:s3cret-pass', '-nokeys', '-out', '/dev/null'], { stdio: 'pipe' });
  log('legacy p12 written and opened by openssl pkcs12 -legacy');

  log('Sign CSR... from the CA context menu: the confirmation shows the subject, SANs and key; Cancel signs nothing');
  const requests = path.join(workspace, 'requests');
  fs.mkdirSync(requests, { recursive: true });
  const csr = path.join(requests, 'carol.csr');
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(requests, 'carol.key'),
    '-out', csr, '-subj', '/CN=carol@example.com', '-addext', 'subjectAltName=DNS:carol.example.com,email:carol@example.com'], { stdio: 'pipe' });
  const certsDir = path.join(workspace, '.mtls/acme-clients/certs');
  const before = fs.readdirSync(certsDir).sort().join(' ');
  const confirmation = async () => {
    await wb.contextMenu('acme-clients', 'Sign CSR...');
    // The open dialog (code-server's simple dialog) first fills in the workspace folder; typing the file's
    // path opens its folder, where the file is picked from the list.
    await page.waitForFunction(() => document.querySelector('.quick-input-widget .quick-input-box input')?.value.endsWith('/'), null, { timeout: 15000 });
    const file = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'carol.csr' }).first();
    for (let attempt = 0; ; attempt++) {
      // The dialog can still be settling and put its folder back over what was typed: type again then.
      await page.locator('.quick-input-widget .quick-input-box input').fill(csr);
      if (await file.waitFor({ timeout: 3000 }).then(() => true, () => false)) break;
      if (attempt === 3) throw new Error('the open dialog did not show carol.csr');
    }
    await file.click();
    const profile = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'A person or device' }).first();
    if (!(await profile.waitFor({ timeout: 3000 }).then(() => true, () => false))) await page.keyboard.press('Enter');
    await profile.waitFor({ timeout: 15000 });
    await profile.click();
    await wb.answer('90', { expectPrompt: 'Validity in days' });
    const dialog = page.locator('.monaco-dialog-box').filter({ hasText: 'Sign this request with the CA acme-clients?' });
    await dialog.waitFor({ timeout: 15000 });
    const text = (await dialog.innerText()).replace(/\s+/g, ' ');
    log('confirmation:', text);
    for (const want of ['Subject: CN=carol@example.com', 'DNS:carol.example.com', 'EMAIL:carol@example.com', '(from the CSR)', 'Key: EC P-256', 'Profile: client, valid 90 days']) {
      if (!text.includes(want)) throw new Error(`the confirmation does not show ${want}: ${text}`);
    }
    return dialog;
  };
  let dialog = await confirmation();
  await dialog.locator('.dialog-buttons .monaco-button', { hasText: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.waitForTimeout(500);
  if (fs.readdirSync(certsDir).sort().join(' ') !== before) throw new Error('Cancel wrote a certificate');
  log('cancelled: nothing written');
  dialog = await confirmation();
  await dialog.locator('.dialog-buttons .monaco-button', { hasText: 'Sign' }).click();
  await wb.treeRow('carol@example.com').waitFor({ timeout: 30000 });
  const signed = fs.readdirSync(certsDir).filter(f => f.startsWith('carol'));
  if (!signed.includes('carol-example.com.pem') || signed.some(f => f.endsWith('.key'))) throw new Error(`expected only carol's certificate in the store: ${signed}`);
  execFileSync('openssl', ['verify', '-CAfile', path.join(workspace, '.mtls/acme-clients/ca.pem'), path.join(certsDir, 'carol-example.com.pem')], { stdio: 'pipe' });
  log('signed after Sign: the certificate is under the CA, openssl verifies it, the key stayed with the requester');
}
