// Drives Caddy and HAProxy linting like a person: "Go to File..." opens a Caddyfile, the squiggle appears,
// a click on the problem and Ctrl+. open the quick-fix menu (screenshot: media/screenshots/lint-caddy.png), a click
// applies the preferred fix; then the same for a haproxy.cfg with `verify optional`
// (screenshot: media/screenshots/lint-haproxy.png).
import fs from 'node:fs';
import path from 'node:path';

export const title = 'Caddy and HAProxy linting: squiggles, the quick-fix menu, a fix applied';

const CADDYFILE = `{
\temail ops@example.com
}

shop.example.com {
\ttls /etc/caddy/certs/shop.pem /etc/caddy/certs/shop.key
\treverse_proxy 127.0.0.1:8080
}
`;

const HAPROXY = `global
    log stdout local0

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend https_in
    bind :443 ssl crt /etc/haproxy/shop.pem ca-file /etc/haproxy/cloudflare/origin-pull-ca.pem verify optional
    default_backend app

backend app
    server app1 127.0.0.1:8080
`;

export async function setup({ workspace }) {
  fs.mkdirSync(path.join(workspace, 'caddy'), { recursive: true });
  fs.writeFileSync(path.join(workspace, 'caddy', 'Caddyfile'), CADDYFILE);
  fs.mkdirSync(path.join(workspace, 'haproxy'), { recursive: true });
  fs.writeFileSync(path.join(workspace, 'haproxy', 'haproxy.cfg'), HAPROXY);
  return {};
}

async function openFile(wb, page, rel, tab) {
  await wb.runCommand('Go to File...');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.fill(rel);
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: tab }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.part.editor .tab', { hasText: tab }).first().waitFor();
}

/** Clicks the problem with this code in the Problems panel, then opens the quick-fix menu at it. */
async function quickFixMenu(wb, page, code, preferred, log) {
  await wb.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
  const problems = page.locator('.panel .markers-panel');
  const row = problems.locator('.monaco-list-row', { hasText: code }).first();
  await row.waitFor({ timeout: 15000 });
  await row.click();
  await page.waitForTimeout(300);
  await wb.runCommand('View: Focus Active Editor Group');
  await page.waitForTimeout(300);
  await page.keyboard.press('Control+.');
  const menu = page.locator('.action-widget').first();
  await menu.waitFor({ state: 'visible', timeout: 15000 });
  await menu.locator('.monaco-list-row', { hasText: preferred }).first().waitFor({ timeout: 15000 });
  const items = (await menu.locator('.monaco-list-row').allInnerTexts()).map(t => t.replace(/\s+/g, ' ').trim());
  log('quick-fix menu:', JSON.stringify(items));
  await page.mouse.move(0, 0);
  await page.waitForTimeout(400);
  return menu;
}


export default async function ({ wb, page, log }) {
  const editor = page.locator('.part.editor .monaco-editor').first();

  log('Go to File... caddy/Caddyfile');
  await openFile(wb, page, 'caddy/Caddyfile', 'Caddyfile');
  await editor.locator('.squiggly-warning').first().waitFor({ timeout: 30000 });
  const caddyPreferred = 'Require a client certificate: client_auth require_and_verify';
  let menu = await quickFixMenu(wb, page, 'leg2-no-client-auth', caddyPreferred, log);
  log('screenshot:', await wb.publishScreenshot('lint-caddy'));
  await menu.locator('.monaco-list-row', { hasText: caddyPreferred }).first().click();
  await editor.locator('.view-lines', { hasText: 'require_and_verify' }).waitFor({ timeout: 15000 });
  const caddyText = (await editor.locator('.view-lines').innerText()).replace(/\u00a0/g, ' ');
  if (!/trusted_ca_cert_file \/etc\/caddy\/cloudflare\/origin-pull-ca\.pem/.test(caddyText)) throw new Error(`the Caddy fix did not write the server-side CA:\n${caddyText}`);
  log('Caddy fix applied');

  log('Go to File... haproxy/haproxy.cfg');
  await openFile(wb, page, 'haproxy/haproxy.cfg', 'haproxy.cfg');
  await page.locator('.part.editor .monaco-editor .squiggly-warning').first().waitFor({ timeout: 30000 });
  const haproxyPreferred = 'Require the client certificate (verify required)';
  menu = await quickFixMenu(wb, page, 'leg2-optional-unchecked', haproxyPreferred, log);
  const items = (await menu.locator('.monaco-list-row').allInnerTexts()).join(' | ');
  if (!items.includes('http-request deny unless { ssl_c_used } { ssl_c_verify 0 }')) throw new Error(`the menu lacks the deny rule: ${items}`);
  log('screenshot:', await wb.publishScreenshot('lint-haproxy'));
  await menu.locator('.monaco-list-row', { hasText: haproxyPreferred }).first().click();
  await page.locator('.part.editor .monaco-editor .view-lines', { hasText: 'verify required' }).first().waitFor({ timeout: 15000 });
  log('HAProxy fix applied');
}
