// Drives Test Leg like a person, against a real origin with a hole in it: nginx on loopback that serves
// anyone (no client verification). "mTLS: Test Leg..." from the Command Palette, "Leg 2" picked, then the
// Testing view with the mTLS Legs tree: Leg 2 failed, its failed checks, and the explanation of
// origin-requires-client-cert ("Leg 2 is open") in the test message. Screenshot: media/screenshots/testleg.png.
import path from 'node:path';
import { ROOT } from '../host/codeServer.mjs';

export const title = 'Test Leg: Leg 2 from the palette against an open origin, failure with its explanation in the Testing view';

const HOST = 'mtls.example.test';
let origin;
let pki;

export async function setup({ workspace }) {
  const { makeProbePki } = await import(path.join(ROOT, 'out/test/unit/probe/helpers.js'));
  const { startNginx } = await import(path.join(ROOT, 'out/test/support/servers.js'));
  pki = makeProbePki();
  // The origin forgot `ssl_verify_client`: anyone who finds its address bypasses Cloudflare.
  origin = await startNginx(`server { listen 127.0.0.1:__PORT__ ssl; server_name ${HOST};
    ssl_certificate ${pki.serverCert}; ssl_certificate_key ${pki.serverKey};
    location / { return 200 "origin page\\n"; } }`);
  return {
    settings: {
      'mtls.hostname': HOST,
      'mtls.originAddress': `127.0.0.1:${origin.port}`,
      'mtls.originPullCertificate': pki.pull.cert,
      'mtls.originPullKey': pki.pull.key,
      'mtls.trustedOriginCa': pki.caCert,
      'mtls.probe.timeoutMs': 5000,
      // Leg 1 goes to a loopback server too (no client certificate is set: Test Leg asks for one).
      'mtls.edgeAddress': `127.0.0.1:${origin.port}`,
      'testing.openTesting': 'neverOpen',
    },
    workspace,
  };
}

export async function teardown() {
  await origin?.stop();
  pki?.remove();
}

export default async function ({ wb, page, log }) {
  log('mTLS: Test Leg... from the Command Palette');
  // The development extension's commands reach the palette a moment after the workbench renders.
  for (let attempt = 1; ; attempt++) {
    try {
      await wb.runCommand('mTLS: Test Leg...');
      break;
    } catch (err) {
      if (attempt >= 4) throw err;
      log('the command is not in the palette yet; again');
      await page.keyboard.press('Escape');
      await page.waitForTimeout(2000);
    }
  }
  const widget = page.locator('.quick-input-widget');
  await widget.locator('.quick-input-list .monaco-list-row', { hasText: 'Cloudflare → origin' }).first().waitFor();
  if ((await widget.locator('.quick-input-box input').getAttribute('placeholder')) !== 'Which leg to prove?') throw new Error('not the Test Leg quick pick');
  const rows = await widget.locator('.quick-input-list .monaco-list-row').allInnerTexts();
  log('quick pick:', JSON.stringify(rows.map(r => r.replace(/\s+/g, ' ').trim())));
  if (!rows.some(r => r.includes('Leg 2') && r.includes(`127.0.0.1:${origin.port}`))) throw new Error(`the Leg 2 item does not show the origin address: ${rows}`);
  await wb.pick('Leg 2');

  log('the notification names the failure');
  const toast = wb.notification('mTLS Test Leg:');
  await toast.waitFor({ timeout: 60000 });
  const toastText = (await toast.innerText()).replace(/\s+/g, ' ');
  log('notification:', toastText);
  if (!/checks? failed\. origin-requires-client-cert: Leg 2 is open/.test(toastText)) throw new Error(`unexpected notification: ${toastText}`);
  for (const action of ['Show Test Results', 'Open Origin Config']) {
    if (!(await toast.locator('.monaco-button', { hasText: action }).count())) throw new Error(`the notification does not offer "${action}"`);
  }

  log('open the Testing view');
  await toast.locator('.monaco-button', { hasText: 'Show Test Results' }).click();
  const sidebar = page.locator('.part.sidebar');
  const legRow = sidebar.locator('.monaco-list-row', { hasText: 'Leg 2: Cloudflare → origin' }).first();
  await legRow.waitFor({ timeout: 30000 });
  // Expand mTLS Legs and Leg 2 if they are collapsed.
  for (const label of ['mTLS Legs', 'Leg 2: Cloudflare → origin']) {
    const r = sidebar.locator('.monaco-list-row', { hasText: label }).first();
    if (await r.count() && (await r.getAttribute('aria-expanded')) === 'false') await r.click();
  }
  const failedRow = sidebar.locator('.monaco-list-row', { hasText: 'Origin requires a client certificate' }).first();
  await failedRow.waitFor({ timeout: 15000 });
  const testRows = (await sidebar.locator('.monaco-list-row').allInnerTexts()).map(r => r.replace(/\s+/g, ' ').trim());
  log('Testing view:', JSON.stringify(testRows));
  const label = await failedRow.getAttribute('aria-label');
  log('failed row aria-label:', label);
  if (!/Failed|failed/.test(label ?? '')) throw new Error(`the check is not shown as failed: ${label}`);

  log('the failure message with its explanation, in the Test Results view');
  // Room for the labels: a wider side bar.
  const box = await page.locator('.part.sidebar').boundingBox();
  await page.mouse.move(box.x + box.width + 1, box.y + 200);
  await page.mouse.down();
  await page.mouse.move(box.x + 470, box.y + 200, { steps: 8 });
  await page.mouse.up();
  await wb.runCommand('Test Results: Focus on Test Results View');
  const results = page.locator('.part.panel .test-output-peek-tree').first();
  await results.waitFor({ timeout: 20000 });
  const resultRow = results.locator('.monaco-list-row', { hasText: 'Origin requires a client certificate' }).first();
  await resultRow.waitFor();
  await resultRow.click();
  // The panel's left side now shows the selected check's message: the explanation and the fix.
  const message = page.locator('.test-output-peek-message-container', { hasText: 'Leg 2 is open' }).first();
  await message.waitFor({ timeout: 20000 });
  await wb.runCommand('View: Toggle Maximized Panel');
  await page.waitForTimeout(1000);
  // Room for the message: the results tree (right) narrower.
  const tree = await results.boundingBox();
  if (tree) {
    await page.mouse.move(tree.x - 1, tree.y + 150);
    await page.mouse.down();
    await page.mouse.move(tree.x + 150, tree.y + 150, { steps: 8 });
    await page.mouse.up();
    await page.waitForTimeout(500);
  }
  const shown = (await message.innerText()).replace(/\s+/g, ' ');
  log('Test Results panel:', shown.slice(0, 400));
  if (!/Why: Leg 2 is open/.test(shown) || !/Fix: Make the origin require/.test(shown)) throw new Error('the message does not show the explanation and the fix');
  log('screenshot:', await wb.publishScreenshot('testleg'));

  log('a missing client certificate is asked for, not skipped');
  await wb.runCommand('View: Toggle Maximized Panel');
  await wb.runCommand('mTLS: Test Leg...');
  await widget.locator('.quick-input-list .monaco-list-row', { hasText: 'client → Cloudflare' }).first().waitFor();
  await wb.pick('Leg 1');
  const ask = widget.locator('.quick-input-list .monaco-list-row', { hasText: 'Choose a file' }).first();
  await ask.waitFor({ timeout: 20000 });
  const title = (await widget.locator('.quick-input-title').innerText()).replace(/\s+/g, ' ');
  const asked = (await widget.locator('.quick-input-list .monaco-list-row').allInnerTexts()).map(r => r.replace(/\s+/g, ' ').trim());
  log('asked:', title, JSON.stringify(asked));
  if (!/Test Leg needs the client certificate \(mtls\.clientCertificate is not set\)/.test(title)) throw new Error(`unexpected question: ${title}`);
  if (!asked.some(r => r.includes('Skip'))) throw new Error(`no Skip among ${asked}`);
  await wb.screenshot('testleg-asks');
  await wb.pick('Skip');
  const leg1 = sidebar.locator('.monaco-list-row', { hasText: 'Leg 1: client → Cloudflare' }).first();
  await leg1.waitFor({ timeout: 30000 });
  for (let i = 0; i < 50 && /Queued|Running|queued|running/.test((await leg1.getAttribute('aria-label')) ?? ''); i++) await page.waitForTimeout(200);
  if ((await leg1.getAttribute('aria-expanded')) === 'false') await leg1.click();
  const legRow1 = sidebar.locator('.monaco-list-row', { hasText: 'Edge lets the client certificate through' }).first();
  await legRow1.waitFor({ timeout: 30000 });
  for (let i = 0; i < 50 && !/Skipped|skipped/.test((await legRow1.getAttribute('aria-label')) ?? ''); i++) await page.waitForTimeout(200);
  const skipped = await legRow1.getAttribute('aria-label');
  log('after Skip:', skipped);
  if (!/Skipped|skipped/.test(skipped ?? '')) throw new Error(`edge-allows-with-cert is not shown as skipped: ${skipped}`);
}
