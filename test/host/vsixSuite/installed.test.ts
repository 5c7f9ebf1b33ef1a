// The extension as a user gets it: installed from the packaged .vsix into code-server's extensions folder
// (test/host/run-vsix-tests.mjs), not loaded from the sources. What must work there: activation, the
// lazily loaded bundles (node-forge for PKCS#12, the Cloudflare SDK subset for the CLI), linting, the
// walkthrough's files and context keys, and the CLI shipped inside.
import * as assert from 'assert';
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { FakeCloudflare } from '../../support/fakeCloudflare';
import { makeCa } from '../../support/openssl';

const EXTENSION_ID = 'mtls-workbench.mtls-workbench';

/** Runs the CLI of the installed copy without blocking the extension host (the fake API answers from it). */
function runCli(cli: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', ...env } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('close', code => resolve({ code, stdout, stderr }));
  });
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : [p];
  });
}

describe('installed .vsix (smoke)', function () {
  this.timeout(120000);
  let ext: vscode.Extension<any>;
  let api: { walkthroughSteps(): string[] };

  before(() => {
    ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    assert.ok(ext, `${EXTENSION_ID} is installed`);
  });

  it('is the installed copy from the extensions folder, with only what it runs', () => {
    const extensionsDir = process.env.MTLS_VSIX_EXTENSIONS_DIR;
    assert.ok(extensionsDir, 'MTLS_VSIX_EXTENSIONS_DIR is set by the runner');
    assert.ok(ext.extensionPath.startsWith(fs.realpathSync(extensionsDir) + path.sep) || ext.extensionPath.startsWith(extensionsDir + path.sep), `${ext.extensionPath} is under ${extensionsDir}`);
    const files = walk(ext.extensionPath).map(f => path.relative(ext.extensionPath, f));
    for (const f of ['dist/extension.js', 'dist/cli.js', 'dist/cloudflare.js', 'dist/node-forge.js', 'dist/webview/guide.js', 'media/guide.css', 'media/icon.png', 'LICENSE.txt', 'package.json']) {
      assert.ok(files.includes(f), `${f} is in the .vsix`);
    }
    const unwanted = files.filter(f => /^(node_modules|src|test|out)\//.test(f) || /\.(map|ts|key|p12|pfx)$/.test(f));
    assert.deepStrictEqual(unwanted, [], 'no dependencies, sources, tests, source maps or keys');
  });

  it('activates and registers every declared command', async () => {
    api = await ext.activate();
    assert.strictEqual(ext.isActive, true);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = (ext.packageJSON.contributes.commands as { command: string }[]).map(c => c.command).filter(c => !registered.has(c));
    assert.deepStrictEqual(missing, []);
  });

  it('ships the Getting Started walkthrough with a file for every step, each completed by a context key', () => {
    const [walkthrough] = ext.packageJSON.contributes.walkthroughs;
    assert.strictEqual(walkthrough.id, 'gettingStarted');
    assert.strictEqual(walkthrough.steps.length, 6);
    for (const step of walkthrough.steps) {
      const media = step.media.markdown ?? step.media.image;
      assert.ok(fs.existsSync(path.join(ext.extensionPath, media)), `${media} is in the .vsix`);
      assert.ok(step.completionEvents.length && step.completionEvents.every((e: string) => e.startsWith('onContext:mtls.')), `${step.id} completes on a context key`);
    }
  });

  it('creates a CA, issues a client certificate and exports a .p12 (node-forge from dist/node-forge.js)', async () => {
    const ca = await vscode.commands.executeCommand<{ certPath: string }>('mtls.createCa', { name: 'smoke-ca', commonName: 'Smoke Root CA', key: 'ec-p256', days: 3650 });
    assert.ok(ca && fs.existsSync(ca.certPath), 'the CA was written');
    const cert = await vscode.commands.executeCommand<{ certPath: string }>('mtls.issueClientCert', { ca: 'smoke-ca', commonName: 'smoke@example.com', key: 'ec-p256', days: 365 });
    assert.ok(cert && fs.existsSync(cert.certPath), 'the client certificate was written');
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-vsix-p12-')), 'smoke.p12');
    const password = 'smoke-password-1';
    const result = await vscode.commands.executeCommand<{ out: string }>('mtls.exportPkcs12', { path: cert.certPath, out, password, flavor: 'modern' });
    assert.strictEqual(result?.out, out);
    // openssl reads what the bundled node-forge wrote
    const subject = execFileSync('openssl', ['pkcs12', '-in', out, '-passin', `pass:${password}`, '-nokeys', '-clcerts'], { encoding: 'utf8' });
    assert.match(subject, /smoke@example\.com/);
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
    await vscode.commands.executeCommand('mtls.refreshCertificates');
    const steps = api.walkthroughSteps();
    for (const key of ['mtls.hasCa', 'mtls.hasClientCert', 'mtls.exportedP12']) assert.ok(steps.includes(key), `walkthrough event ${key} (got ${steps.join(', ')})`);
  });

  it('lints the workspace origin configs and checks off the lint step', async () => {
    const summary = await vscode.commands.executeCommand<{ files: string[]; errors: number; warnings: number }>('mtls.lintWorkspace');
    assert.ok(summary && summary.files.length >= 2, `configs linted: ${summary?.files.join(', ')}`);
    assert.ok(summary.errors + summary.warnings > 0, 'the fixture configs have findings');
    assert.ok(api.walkthroughSteps().includes('mtls.lintRan'));
  });

  it('the CLI inside the .vsix prints its version and reads a Cloudflare zone (SDK subset from dist/cloudflare.js)', async () => {
    const cli = path.join(ext.extensionPath, 'dist/cli.js');
    const version = await runCli(cli, ['--version']);
    assert.strictEqual(version.stdout.trim(), ext.packageJSON.version, version.stderr);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-vsix-cf-'));
    const fake = await FakeCloudflare.start({ zoneName: 'example.com' });
    try {
      makeCa(dir, 'ca', 'Smoke Cloudflare CA');
      const status = await runCli(cli, ['cloudflare', 'status', '--zone', 'example.com', '--host', 'app.example.com', '--ca', path.join(dir, 'ca.pem'), '--json'],
        { CLOUDFLARE_API_TOKEN: fake.token, CLOUDFLARE_BASE_URL: fake.url });
      assert.strictEqual(status.code, 0, status.stderr);
      const steps = JSON.parse(status.stdout).steps as { id: string; status: string }[];
      assert.deepStrictEqual(steps.slice(0, 2).map(s => [s.id, s.status]), [['connect', 'done'], ['upload-ca', 'todo']]);
      assert.ok(fake.requests.length > 0, 'the SDK subset sent requests');
      assert.deepStrictEqual(fake.invalidRequests().map(r => r.validationErrors), []);
    } finally {
      await fake.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
