// Runs every test/ui/*.ui.mjs: each gets a fresh workspace, a fresh code-server with this extension in
// development mode, and a browser page wrapped in a Workbench driver. A UI test exports
//   export const title = '...';  export default async function ({ wb, page, workspace, server, log }) {...}
// and throws to fail. Screenshots go to out/screenshots (README pictures are copied from there).
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, startCodeServer, launchBrowser, makeWorkspace, workbenchUrl, wirePageLogging } from './codeServer.mjs';
import { Workbench, LIGHT_THEME } from './workbench.mjs';

// MTLS_UI_THEME=light runs every UI test in the light theme (screenshots get a -light suffix).
const THEME_SETTINGS = LIGHT_THEME ? { 'workbench.colorTheme': 'Default Light Modern' } : {};

export async function runUiTests({ filter = process.env.MTLS_UI_FILTER } = {}) {
  const dir = path.join(ROOT, 'test/ui');
  const files = fs.readdirSync(dir).filter(f => f.endsWith('.ui.mjs') && (!filter || f.includes(filter))).sort();
  let passed = 0, failed = 0;
  const browser = await launchBrowser();
  try {
    for (const f of files) {
      const mod = await import(path.join(dir, f));
      const title = mod.title ?? f;
      const workspace = makeWorkspace(mod.fixture ? path.join(ROOT, mod.fixture) : undefined);
      const t0 = Date.now();
      const log = (...a) => console.log(`    [${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
      let server, context;
      try {
        const setup = mod.setup ? await mod.setup({ workspace }) : {};
        server = await startCodeServer({ workspace, settings: { ...THEME_SETTINGS, ...setup.settings }, env: setup.env ?? {} });
        context = await browser.newContext({ viewport: { width: 1400, height: 860 } });
        const page = await context.newPage();
        page.setDefaultTimeout(30000);
        wirePageLogging(page);
        await page.goto(workbenchUrl(server, { folder: workspace }));
        const wb = new Workbench(page);
        await wb.ready();
        await mod.default({ wb, page, workspace, server, log, setup });
        passed++;
        console.log(`  ✔ UI: ${title} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
      } catch (err) {
        failed++;
        console.log(`  ✖ UI: ${title}\n${err?.stack ?? err}`);
        try { await context?.pages()[0]?.screenshot({ path: path.join(ROOT, 'out', `ui-failure-${f}.png`) }); } catch { /* best effort */ }
        if (server) console.log('--- code-server log (tail) ---\n' + server.serverLog().split('\n').slice(-30).join('\n'));
      } finally {
        await context?.close().catch(() => undefined);
        await server?.stop();
        if (mod.teardown) await mod.teardown().catch(() => undefined);
        fs.rmSync(workspace, { recursive: true, force: true });
      }
    }
  } finally {
    await browser.close();
  }
  console.log(`UI tests: ${passed} passed, ${failed} failed`);
  return { code: failed === 0 ? 0 : 1, passed, failed };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit((await runUiTests()).code);
}
