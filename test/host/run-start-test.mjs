// `npm start` as a newcomer runs it: test/host/serve.mjs with --port prints one address; that plain address
// opens VS Code with the extension (its view container in the activity bar) and the demo workspace, which
// lives outside the clone; a port in use is refused with a clear message; Ctrl+C stops everything.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, ensureCodeServer, freePort, launchBrowser } from './codeServer.mjs';
import { Workbench } from './workbench.mjs';

/** serve.mjs with HOME in a temp folder (the demo workspace goes to $HOME/.cache) and no PORT or XDG_CACHE_HOME. */
function startServe(args, home) {
  const env = { ...process.env, HOME: home };
  delete env.PORT;
  delete env.XDG_CACHE_HOME;
  const child = spawn(process.execPath, [path.join(ROOT, 'test/host/serve.mjs'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', d => { out += d; });
  child.stderr.on('data', d => { out += d; });
  const exited = new Promise(r => child.once('exit', code => r(code)));
  return { child, exited, output: () => out };
}

async function until(what, f, ms) {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 200));
  }
}

export async function runStartTest() {
  ensureCodeServer();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-start-home-'));
  let passed = 0, failed = 0;
  const check = (ok, what) => { if (ok) { passed++; console.log(`  ✔ npm start: ${what}`); } else { failed++; console.log(`  ✖ npm start: ${what}`); } };
  const port = await freePort();
  const serve = startServe(['--port', String(port)], home);
  const browser = await launchBrowser();
  try {
    const address = await until('the printed address', () => /^\s+(http:\/\/\S+)$/m.exec(serve.output())?.[1], 60000);
    check(address === `http://127.0.0.1:${port}/`, `prints one plain address on the chosen port (${address})`);
    const demo = path.join(home, '.cache/mtls-workbench/demo-workspace');
    check(fs.existsSync(path.join(demo, 'nginx/site.conf')) && path.relative(ROOT, demo).startsWith('..'), `the demo workspace is outside the clone (${demo})`);

    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.setDefaultTimeout(60000);
    await page.goto(address);
    const wb = new Workbench(page);
    await wb.ready();
    await page.locator('.part.activitybar a.action-label[aria-label^="mTLS Workbench"]').waitFor({ timeout: 90000 });
    await wb.openViewContainer('mTLS Workbench');
    await page.locator('.part.sidebar .welcome-view-content', { hasText: 'No certificate authority yet' }).waitFor({ timeout: 60000 });
    check(true, 'the address opens VS Code with the extension (its Certificates view)');
    check(new URL(page.url()).searchParams.get('folder') === demo, `with the demo workspace open (${new URL(page.url()).searchParams.get('folder')})`);

    const busy = startServe(['--port', String(port)], home);
    const code = await busy.exited;
    check(code === 1 && busy.output().includes(`port ${port}`) && busy.output().includes('--port'), 'a port in use is refused with how to pick another');
  } catch (err) {
    failed++;
    console.log(`  ✖ npm start: ${err?.stack ?? err}\n${serve.output()}`);
  } finally {
    await browser.close().catch(() => undefined);
    serve.child.kill('SIGINT');
    const code = await Promise.race([serve.exited, new Promise(r => setTimeout(() => r('timeout'), 10000))]);
    check(code === 0, `Ctrl+C stops the server (exit ${code})`);
    if (code === 'timeout') serve.child.kill('SIGKILL');
    fs.rmSync(home, { recursive: true, force: true });
  }
  console.log(`npm start: ${passed} passed, ${failed} failed`);
  return { code: failed ? 1 : 0, passed, failed };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit((await runStartTest()).code);
}
