// Runs the mocha suite (out/test/host/suite) inside the real extension host of code-server.
// Exit code: the suite's. The suite prints "N passed, N failed".
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startCodeServer, launchBrowser, makeWorkspace, workbenchUrl, wirePageLogging } from './codeServer.mjs';

export async function runExtensionHostSuite({ timeoutS = Number(process.env.MTLS_HOST_TIMEOUT ?? 600), env = {} } = {}) {
  const workspace = makeWorkspace();
  const resultFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-result-')), 'result.json');
  const server = await startCodeServer({ workspace, env: { MTLS_TEST_WORKSPACE: workspace, MTLS_RESULT_FILE: resultFile, ...env } });
  const browser = await launchBrowser();
  const t0 = Date.now();
  let code;
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    wirePageLogging(page);
    let done;
    const finished = new Promise(r => (done = r));
    const timer = setTimeout(() => { console.error(`extension-host suite: TIMEOUT after ${timeoutS}s`); done(124); }, timeoutS * 1000);
    await page.exposeFunction('codeAutomationLog', (type, a) => console[type in console ? type : 'log'](...a));
    await page.exposeFunction('codeAutomationExit', c => done(c));
    await page.goto(workbenchUrl(server, { folder: workspace, tests: path.join(ROOT, 'out/test/host/suite/index.js') }));
    code = await finished;
    clearTimeout(timer);
  } finally {
    await browser.close().catch(() => undefined);
    if (code !== 0) console.log('--- code-server log (tail) ---\n' + server.serverLog().split('\n').slice(-40).join('\n'));
    await server.stop();
  }
  console.log(`extension-host suite exit code ${code} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  let counts = { passed: 0, failed: 1 };
  try { counts = JSON.parse(fs.readFileSync(resultFile, 'utf8')); } catch { /* the suite never finished */ }
  fs.rmSync(workspace, { recursive: true, force: true });
  return { code, ...counts };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit((await runExtensionHostSuite()).code);
}
