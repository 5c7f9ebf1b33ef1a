// The packaged extension, as a user installs it: builds the .vsix (`npm run package`, unless MTLS_VSIX names
// one), installs it with `code-server --install-extension` into a fresh extensions folder, and runs the smoke
// suite (out/test/host/vsixSuite) in the extension host against that installed copy. The suite is started by
// a tiny runner extension (test/host/vsix-runner) in development mode, so the extension under test is never
// loaded from the sources.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, CS_ENTRY, ensureCodeServer, startCodeServer, launchBrowser, makeWorkspace, workbenchUrl, wirePageLogging } from './codeServer.mjs';

/** Builds the .vsix; the release build replaces dist/, so the development build is put back afterwards. */
function buildVsix() {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  try {
    execFileSync(npm, ['run', 'package', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  } finally {
    execFileSync(process.execPath, ['esbuild.js'], { cwd: ROOT, stdio: 'inherit' });
  }
  return path.join(ROOT, 'mtls-workbench.vsix');
}

export async function runVsixSuite({ timeoutS = Number(process.env.MTLS_HOST_TIMEOUT ?? 300) } = {}) {
  ensureCodeServer();
  const vsix = process.env.MTLS_VSIX ? path.resolve(process.env.MTLS_VSIX) : buildVsix();
  const sizeMb = fs.statSync(vsix).size / 1024 / 1024;
  console.log(`vsix: ${path.relative(ROOT, vsix)} ${sizeMb.toFixed(2)} MB`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-vsix-'));
  const extensionsDir = path.join(tmp, 'extensions');
  execFileSync(process.execPath, [CS_ENTRY, '--install-extension', vsix, '--extensions-dir', extensionsDir, '--user-data-dir', path.join(tmp, 'user-data')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const workspace = makeWorkspace();
  const resultFile = path.join(tmp, 'result.json');
  const server = await startCodeServer({ workspace, extensionsDir, env: { MTLS_RESULT_FILE: resultFile, MTLS_VSIX_EXTENSIONS_DIR: extensionsDir } });
  const browser = await launchBrowser();
  const t0 = Date.now();
  let code;
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    wirePageLogging(page);
    let done;
    const finished = new Promise(r => (done = r));
    const timer = setTimeout(() => { console.error(`vsix smoke suite: TIMEOUT after ${timeoutS}s`); done(124); }, timeoutS * 1000);
    await page.exposeFunction('codeAutomationLog', (type, a) => console[type in console ? type : 'log'](...a));
    await page.exposeFunction('codeAutomationExit', c => done(c));
    await page.goto(workbenchUrl(server, { folder: workspace, ext: path.join(ROOT, 'test/host/vsix-runner'), tests: path.join(ROOT, 'out/test/host/vsixSuite/index.js') }));
    code = await finished;
    clearTimeout(timer);
  } finally {
    await browser.close().catch(() => undefined);
    if (code !== 0) console.log('--- code-server log (tail) ---\n' + server.serverLog().split('\n').slice(-40).join('\n'));
    await server.stop();
  }
  console.log(`vsix smoke suite exit code ${code} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  let counts = { passed: 0, failed: 1 };
  try { counts = JSON.parse(fs.readFileSync(resultFile, 'utf8')); } catch { /* the suite never finished */ }
  fs.rmSync(workspace, { recursive: true, force: true });
  fs.rmSync(tmp, { recursive: true, force: true });
  return { code, sizeMb, ...counts };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit((await runVsixSuite()).code);
}
