// Drives origin config linting like a person: "Go to File..." opens the demo nginx config, the squiggles
// appear, F8 steps to the missing client-auth warning, Ctrl+. opens the quick-fix menu (screenshot: media/screenshots/lint.png),
// a click applies the preferred fix and the editor shows the added directives; the code link in the Problems
// panel opens the rule's explanation.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const title = 'Origin config linting: squiggles in nginx/site.conf, the quick-fix menu, a fix applied';

/** A CA in the workspace store (`.mtls/acme-clients/ca.pem`), so the menu offers it beside the origin-pull CA. */
export async function setup({ workspace }) {
  const dir = path.join(workspace, '.mtls', 'acme-clients');
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-sha256', '-days', '3650',
    '-subj', '/O=Acme Inc./CN=Acme Clients Root CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.pem'], { cwd: dir, stdio: 'ignore' });
  return {};
}

export default async function ({ wb, page, log }) {
  const editor = page.locator('.part.editor .monaco-editor').first();

  log('Go to File... nginx/site.conf');
  await wb.runCommand('Go to File...');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.fill('nginx/site.conf');
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'site.conf' }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.part.editor .tab', { hasText: 'site.conf' }).first().waitFor();

  log('wait for the squiggles');
  await editor.locator('.squiggly-warning, .squiggly-error').first().waitFor({ timeout: 30000 });
  const warnings = await editor.locator('.squiggly-warning').count();
  const errors = await editor.locator('.squiggly-error').count();
  log(`squiggles: ${warnings} warning(s), ${errors} error(s)`);
  if (!warnings || !errors) throw new Error('expected a warning (no client auth) and an error (ssl_verify_client require)');

  const status = await page.locator('.part.statusbar [id="status.problems"]').innerText().catch(() => '');
  log('status bar problems:', status.replace(/\s+/g, ' '));

  log('F8: go to the first problem, then Ctrl+. for its quick-fixes');
  // F8 visits errors before warnings: step until the warning on the shop server's listen directive.
  const marker = page.locator('.marker-widget, .peekview-widget').first();
  let markerText = '';
  await editor.click({ position: { x: 300, y: 10 } });
  for (let k = 0; k < 3 && !/leg2-no-client-auth/.test(markerText); k++) {
    await page.keyboard.press('F8'); // Go to Next Problem (Error, Warning, Info); the widget stays open between presses
    await marker.waitFor({ timeout: 15000 });
    await page.waitForTimeout(300);
    markerText = (await marker.innerText()).replace(/\s+/g, ' ');
  }
  log('problem:', markerText.slice(0, 200));
  if (!/leg2-no-client-auth/.test(markerText)) throw new Error(`the first problem is not leg2-no-client-auth: ${markerText}`);

  log('close the peek, show the Problems panel, back to the listen line, Ctrl+.');
  await page.keyboard.press('Escape');
  await wb.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
  const problems = page.locator('.panel .markers-panel');
  await problems.locator('.monaco-list-row', { hasText: 'leg2-no-client-auth' }).first().waitFor({ timeout: 15000 });
  const rows = (await problems.locator('.monaco-list-row').allInnerTexts()).map(t => t.replace(/\s+/g, ' ').trim());
  log('Problems panel:', JSON.stringify(rows));
  if (!rows.some(r => r.includes('leg2-invalid-value'))) throw new Error('the Problems panel lacks leg2-invalid-value');
  // a click on the problem selects its range in the editor (listen 443 ssl; on line 12)
  await problems.locator('.monaco-list-row', { hasText: 'leg2-no-client-auth' }).first().click();
  await page.locator('.part.statusbar', { hasText: /Ln 12, Col (5\b|20 \(15 selected\))/ }).waitFor({ timeout: 10000 });
  await wb.runCommand('View: Focus Active Editor Group');
  await page.keyboard.press('Home'); // drop the selection (keeps the squiggle visible), cursor at Col 5
  await page.waitForTimeout(300);
  await page.keyboard.press('Control+.');
  const menu = page.locator('.action-widget').first();
  await menu.waitFor({ state: 'visible', timeout: 15000 });
  const preferred = 'Require Cloudflare client certificate (origin-pull CA)';
  await menu.locator('.monaco-list-row', { hasText: preferred }).first().waitFor({ timeout: 15000 });
  const items = (await menu.locator('.monaco-list-row').allInnerTexts()).map(t => t.replace(/\s+/g, ' ').trim());
  log('quick-fix menu:', JSON.stringify(items));
  for (const want of [preferred, 'Require client certificate (workspace CA acme-clients)', 'Require client certificate (choose a CA file...)', 'Ignore leg2-no-client-auth in this server block (not behind Cloudflare)']) {
    if (!items.some(t => t.includes(want))) throw new Error(`quick-fix menu lacks "${want}": ${JSON.stringify(items)}`);
  }
  await page.mouse.move(0, 0);
  await page.waitForTimeout(400);

  log('screenshot:', await wb.publishScreenshot('lint'));

  log('apply the preferred fix');
  const first = items.findIndex(t => t.includes(preferred));
  // the list may start with a header row; move to the item and press Enter
  await menu.locator('.monaco-list-row', { hasText: preferred }).first().click();
  await editor.locator('.view-lines', { hasText: 'ssl_verify_client on;' }).waitFor({ timeout: 15000 });
  const text = await editor.locator('.view-lines').innerText();
  if (!/ssl_client_certificate \/etc\/nginx\/cloudflare\/origin-pull-ca\.pem;/.test(text.replace(/\u00a0/g, ' '))) throw new Error(`the fix did not add ssl_client_certificate:\n${text}`);
  log(`fix applied (item ${first})`);

  log('the code link in the Problems panel opens the rule explanation');
  await problems.locator('.monaco-list-row', { hasText: 'leg2-invalid-value' }).first().locator('a, .monaco-link, .code-link', { hasText: 'leg2-invalid-value' }).first().click();
  await page.locator('.part.editor .tab', { hasText: 'leg2-invalid-value.md' }).first().waitFor({ timeout: 15000 });
  await page.locator('.part.editor .view-lines', { hasText: 'Quick-fixes' }).first().waitFor({ timeout: 15000 });
  log('explanation opened');
}
