import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import { CliIO } from '../../../src/cli/io';

const ROOT = path.join(__dirname, '../../../..');

function io(cwd: string) {
  let stdout = '';
  let stderr = '';
  const value: CliIO = { stdout: t => { stdout += t; }, stderr: t => { stderr += t; }, env: {}, cwd };
  return { value, out: () => stdout, err: () => stderr };
}

describe('lint: mtls lint CLI', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-lint-cli-'));
    fs.mkdirSync(path.join(dir, 'nginx/sites-enabled'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'apache'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'nginx/sites-enabled/bad.conf'), 'server {\n    listen 443 ssl;\n    ssl_certificate /x.pem;\n    ssl_certificate_key /x.key;\n    ssl_verify_client require;\n}\n');
    fs.writeFileSync(path.join(dir, 'nginx/sites-enabled/open.conf'), 'server {\n    listen 443 ssl;\n    ssl_certificate /x.pem;\n    ssl_certificate_key /x.key;\n}\n');
    fs.writeFileSync(path.join(dir, 'apache/site.vhost'), '<VirtualHost *:80>\n  ServerName plain.example\n</VirtualHost>\n');
    fs.writeFileSync(path.join(dir, 'README.md'), '# not a config\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('json: an array of findings with 1-based positions; exit 1 on an error', async () => {
    const t = io(dir);
    const code = await main(['lint', '.', '--format', 'json'], t.value);
    assert.strictEqual(code, 1);
    const arr = JSON.parse(t.out());
    assert.deepStrictEqual(arr, [
      {
        file: path.join('nginx', 'sites-enabled', 'bad.conf'), line: 5, column: 23, endLine: 5, endColumn: 30, severity: 'error', code: 'leg2-invalid-value',
        message: arr[0].message,
      },
      {
        file: path.join('nginx', 'sites-enabled', 'open.conf'), line: 2, column: 5, endLine: 2, endColumn: 20, severity: 'warning', code: 'leg2-no-client-auth',
        message: arr[1].message,
      },
    ]);
    assert.match(arr[0].message, /"require" is not a value of ssl_verify_client/);
  });

  it('text: file:line:col: severity code: message; exit 0 with warnings only', async () => {
    const t = io(dir);
    const code = await main(['lint', 'nginx/sites-enabled/open.conf', 'apache'], t.value);
    assert.strictEqual(code, 0);
    const lines = t.out().trim().split('\n');
    assert.match(lines[0], /^nginx\/sites-enabled\/open\.conf:2:5: warning leg2-no-client-auth: This TLS server does not require/);
    assert.match(lines[1], /^mtls lint: 0 error\(s\), 1 warning\(s\), 0 information in 1 file\(s\)\.$/);
  });

  it('--ignore and --ignore-server silence findings', async () => {
    const t = io(dir);
    assert.strictEqual(await main(['lint', 'nginx', '--ignore', 'leg2-invalid-value', '--ignore', 'leg2-no-client-auth'], t.value), 0);
    assert.match(t.out(), /no findings/);
  });

  it('unreadable paths are findings (code unreadable, exit 1), not exceptions; bad usage exits 2', async () => {
    const t = io(dir);
    const code = await main(['lint', 'missing.conf', '--format', 'json'], t.value);
    assert.strictEqual(code, 1);
    const arr = JSON.parse(t.out());
    assert.deepStrictEqual(arr.map((f: { code: string; severity: string; line: number }) => [f.code, f.severity, f.line]), [['unreadable', 'error', 1]]);
    const u = io(dir);
    assert.strictEqual(await main(['lint'], u.value), 2);
    assert.strictEqual(await main(['lint', '.', '--format', 'xml'], u.value), 2);
    assert.match(u.err(), /--format must be text or json/);
  });

  it('the built CLI (node dist/cli.js lint --format json) prints JSON and sets the exit code', async () => {
    const cli = path.join(ROOT, 'dist/cli.js');
    assert.ok(fs.existsSync(cli), 'dist/cli.js is built by `npm run build` (npm test does it first)');
    const run = (args: string[]) => new Promise<{ code: number; stdout: string }>(resolve => {
      execFile(process.execPath, [cli, 'lint', ...args], { cwd: dir }, (err, stdout) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout }));
    });
    const bad = await run(['nginx/sites-enabled/bad.conf', '--format', 'json']);
    assert.strictEqual(bad.code, 1);
    assert.deepStrictEqual(JSON.parse(bad.stdout).map((f: { code: string }) => f.code), ['leg2-invalid-value']);
    const ok = await run(['apache/site.vhost', '--format', 'json']);
    assert.strictEqual(ok.code, 0);
    assert.deepStrictEqual(JSON.parse(ok.stdout), []);
  });
});
