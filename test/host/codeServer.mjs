// A real VS Code (code-server 4.100.3 = VS Code 1.100.3) on loopback, driven by headless Debian Chromium
// through playwright-core. Used by the extension-host suite, the UI tests and `npm start`.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CS_DIR = process.env.MTLS_CODE_SERVER_DIR ?? path.join(ROOT, '.vscode-test/code-server');
export const CS_ENTRY = path.join(CS_DIR, 'node_modules/code-server/out/node/entry.js');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Installs code-server on first use (about 40 s), so `npm test` works on a fresh clone. */
export function ensureCodeServer() {
  if (fs.existsSync(path.join(CS_DIR, '.installed'))) return;
  console.log('Installing code-server for the extension-host tests (first run only)...');
  execFileSync('bash', [path.join(ROOT, 'test/host/install-code-server.sh'), CS_DIR], { stdio: 'inherit' });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

/** Copies a fixture workspace into a fresh temp folder, so tests never edit the checked-in one. */
export function makeWorkspace(fixture = path.join(ROOT, 'test/fixtures/workspace')) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-ws-'));
  fs.cpSync(fixture, dir, { recursive: true });
  return dir;
}

/**
 * Starts code-server on 127.0.0.1 with a throw-away user-data dir. `settings` become the user settings;
 * `extensionsDir` is where installed extensions are found (default: an empty one in the data dir).
 * Returns { url, port, dataDir, stop() }; stop() kills the whole process group (server + extension hosts).
 */
export async function startCodeServer({ workspace, settings = {}, env = {}, port, extensionsDir } = {}) {
  ensureCodeServer();
  port ??= await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-vscode-'));
  fs.writeFileSync(path.join(dataDir, 'config.yaml'), '');
  fs.mkdirSync(path.join(dataDir, 'user-data/User'), { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'user-data/User/settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'security.workspace.trust.enabled': false,
    'workbench.colorTheme': 'Default Dark Modern',
    ...settings,
  }, null, 2));
  const log = fs.openSync(path.join(dataDir, 'server.log'), 'w');
  const child = spawn(process.execPath, [CS_ENTRY, '--config', path.join(dataDir, 'config.yaml'), '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--disable-getting-started-override', '--extensions-dir', extensionsDir ?? path.join(dataDir, 'extensions'),
    '--user-data-dir', path.join(dataDir, 'user-data'), ...(workspace ? [workspace] : [])], {
    detached: true, // own process group, so stop() can end the extension hosts too
    stdio: ['ignore', log, log],
    env: { ...process.env, EXTENSIONS_GALLERY: '{}', XDG_DATA_HOME: path.join(dataDir, 'xdg-data'), XDG_CONFIG_HOME: path.join(dataDir, 'xdg-config'), ...env },
  });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) break;
    try { if ((await fetch(url + 'healthz')).ok) break; } catch { /* not up yet */ }
    await new Promise(r => setTimeout(r, 100));
  }
  let stopped = false;
  return {
    url, port, dataDir, child,
    serverLog: () => fs.readFileSync(path.join(dataDir, 'server.log'), 'utf8'),
    async stop({ keep = false } = {}) {
      if (stopped) return; stopped = true;
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      await new Promise(r => setTimeout(r, 300));
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
      if (!keep) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The workbench URL that loads this extension in development mode (and optionally runs a test suite). */
export function workbenchUrl(server, { folder, ext = ROOT, tests } = {}) {
  const u = new URL(server.url);
  const remote = p => `vscode-remote://${u.host}${p}`; // authority must equal the page's host:port
  const payload = [['extensionDevelopmentPath', remote(ext)], ['skipWelcome', 'true']];
  if (tests) payload.push(['extensionTestsPath', remote(tests)]);
  return `${u.origin}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Relays the workbench's console (extension host output included) and flags any request off loopback. */
export function wirePageLogging(page, { verbose = !!process.env.VERBOSE } = {}) {
  const noise = /Ignoring fetching additional builtin|Creating a socket|Service Worker|ChatSessionStore|Updating additional builtin|Failed to load resource|favicon|vsda|ERR_NAME_NOT_RESOLVED/;
  page.on('console', m => {
    const t = m.text();
    if (!verbose && noise.test(t)) return;
    if (t.includes('[Extension Host]')) console.log(t.replace(/%c/g, '').replace(/\s*color: [^ ]+( font-weight: bold)?/g, '').replace(/^\[Extension Host\]\s*/, ''));
    else if (verbose || m.type() === 'error') console.log(`[browser ${m.type()}] ${t}`);
  });
  // Webview resources use *.vscode-cdn.net URLs that the webview's service worker serves locally.
  page.on('request', r => {
    const u = new URL(r.url());
    if (/^(https?|wss?):$/.test(u.protocol) && !['127.0.0.1', 'localhost'].includes(u.hostname) && !u.hostname.endsWith('.vscode-cdn.net')) console.log('[EXTERNAL request] ' + r.url());
  });
  page.on('pageerror', e => { if (verbose) console.error('[pageerror]', e.message); });
}

/**
 * Runs a mocha suite inside the extension host of a started code-server: opens the workbench in Chromium
 * with `urlOptions` (workbenchUrl's), waits for the suite to exit (or `timeoutS`), stops the server, and
 * returns the exit code with the counts the suite wrote to `resultFile`.
 */
export async function runSuiteInWorkbench({ server, workspace, resultFile, urlOptions, label, timeoutS }) {
  const browser = await launchBrowser();
  const t0 = Date.now();
  let code;
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    wirePageLogging(page);
    let done;
    const finished = new Promise(r => (done = r));
    const timer = setTimeout(() => { console.error(`${label}: TIMEOUT after ${timeoutS}s`); done(124); }, timeoutS * 1000);
    await page.exposeFunction('codeAutomationLog', (type, a) => console[type in console ? type : 'log'](...a));
    await page.exposeFunction('codeAutomationExit', c => done(c));
    await page.goto(workbenchUrl(server, { folder: workspace, ...urlOptions }));
    code = await finished;
    clearTimeout(timer);
  } finally {
    await browser.close().catch(() => undefined);
    if (code !== 0) console.log('--- code-server log (tail) ---\n' + server.serverLog().split('\n').slice(-40).join('\n'));
    await server.stop();
  }
  console.log(`${label} exit code ${code} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  let counts = { passed: 0, failed: 1 };
  try { counts = JSON.parse(fs.readFileSync(resultFile, 'utf8')); } catch { /* the suite never finished */ }
  return { code, ...counts };
}
