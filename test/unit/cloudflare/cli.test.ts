// `mtls cloudflare` in-process against the fake API, plus one real spawn of the bundled CLI.
import * as assert from 'assert';
import * as child_process from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import { CliIO } from '../../../src/cli/io';
import { ApplyReport, SetupStatus } from '../../../src/core/cloudflare';
import { FakeCloudflare } from '../../support/fakeCloudflare';
import { testPki } from './certs';

const ROOT = path.join(__dirname, '../../../..');

describe('cloudflare: mtls cloudflare CLI', function () {
  this.timeout(60_000);
  let cf: FakeCloudflare;
  let dir: string;
  before(async () => {
    const pki = await testPki();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-cf-cli-'));
    fs.writeFileSync(path.join(dir, 'ca.pem'), pki.clientCa.certPem);
    fs.writeFileSync(path.join(dir, 'pull.pem'), pki.pullLeaf.certPem);
    fs.writeFileSync(path.join(dir, 'pull.key'), pki.pullLeaf.keyPem, { mode: 0o600 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => { cf = await FakeCloudflare.start({ zoneName: 'example.com' }); });
  afterEach(async () => {
    assert.deepStrictEqual(cf.invalidRequests().map(r => r.validationErrors), []);
    await cf.close();
  });

  async function run(args: string[], env: NodeJS.ProcessEnv = { CLOUDFLARE_API_TOKEN: cf.token, CLOUDFLARE_BASE_URL: cf.url }) {
    let stdout = '';
    let stderr = '';
    const io: CliIO = { stdout: t => { stdout += t; }, stderr: t => { stderr += t; }, env, cwd: dir };
    const code = await main(['cloudflare', ...args], io);
    return { code, stdout, stderr };
  }
  const base = ['--zone', 'example.com', '--host', 'api.example.com', '--host', 'app.example.com', '--ca', 'ca.pem'];

  it('status --json prints each step\'s state', async () => {
    const r = await run(['status', ...base, '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    const status = JSON.parse(r.stdout) as SetupStatus;
    assert.deepStrictEqual(status.steps.map(s => [s.id, s.status]), [
      ['connect', 'done'], ['upload-ca', 'todo'], ['associate-hostnames', 'todo'], ['waf-rule', 'todo'], ['aop-mode', 'todo'],
      ['origin-config', 'manual'], ['ssl-mode', 'todo'], ['verify', 'manual'],
    ]);
    assert.ok(!r.stdout.includes(cf.token));
  });

  it('status in text: a checklist with the calls still to make', async () => {
    const r = await run(['status', ...base, '--origin', 'apache']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[done\] +0 Connect to Cloudflare/);
    assert.match(r.stdout, /\[todo\] +1 Upload the workspace CA/);
    assert.match(r.stdout, /-> POST \/accounts\/\w+\/mtls_certificates/);
    assert.match(r.stdout, /SSLVerifyClient require/);
    assert.match(r.stdout, /6 calls to make/);
  });

  it('apply --dry-run prints curl commands and writes nothing', async () => {
    const r = await run(['apply', ...base, '--dry-run']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /Dry run: 6 calls would be made/);
    assert.match(r.stdout, /curl -sS -X POST '.*\/mtls_certificates' \\\n {2}-H "Authorization: Bearer \$CLOUDFLARE_API_TOKEN"/);
    assert.match(r.stdout, /# SDK: await client\.zones\.settings\.edit\('ssl'/);
    assert.ok(!r.stdout.includes(cf.token));
    assert.deepStrictEqual(cf.writes(), []);
  });

  it('apply performs what is missing; a second apply makes no call', async () => {
    const r = await run(['apply', ...base, '--aop', 'zone', '--pull-cert', 'pull.pem', '--pull-key', 'pull.key', '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as ApplyReport;
    assert.deepStrictEqual(report.remaining, ['origin-config', 'verify']);
    assert.ok(!r.stdout.includes('PRIVATE KEY-----\\nM'), 'the key is never printed');
    cf.clearRequests();
    const again = await run(['apply', ...base, '--aop', 'zone', '--pull-cert', 'pull.pem', '--pull-key', 'pull.key']);
    assert.strictEqual(again.code, 0);
    assert.match(again.stdout, /Done: connect, upload-ca, associate-hostnames, waf-rule, aop-mode, ssl-mode\nRemaining: origin-config, verify/);
    assert.deepStrictEqual(cf.writes(), []);
  });

  it('apply exits non-zero on the first failure and says which steps were done', async () => {
    cf.failNext({ method: 'PATCH', pathPattern: 'tls_client_auth', status: 403, code: 10000, message: 'Authentication error' });
    const r = await run(['apply', ...base]);
    assert.strictEqual(r.code, 1);
    assert.match(r.stdout, /Done: connect, upload-ca, associate-hostnames, waf-rule\n/);
    assert.match(r.stdout, /Failed: aop-mode: Cloudflare error 10000: Authentication error/);
    assert.match(r.stdout, /Zone > Zone Settings > Edit/);
    assert.match(r.stdout, /Remaining: aop-mode, origin-config, ssl-mode, verify/);
  });

  it('a missing token is a clear error; bad options are usage errors', async () => {
    const r = await run(['status', ...base], { CLOUDFLARE_BASE_URL: cf.url });
    assert.strictEqual(r.code, 1);
    assert.match(r.stderr, /CLOUDFLARE_API_TOKEN is not set/);
    assert.match(r.stderr, /Zone > Zone WAF > Edit/);
    assert.strictEqual((await run(['status', '--zone', 'example.com', '--ca', 'ca.pem'])).code, 2);
    assert.strictEqual((await run(['apply', ...base, '--aop', 'zone'])).code, 2);
    assert.strictEqual((await run(['apply', ...base, '--step', 'nope'])).code, 2);
    assert.strictEqual((await run(['frobnicate'])).code, 2);
    const missingFile = await run(['status', '--zone', 'example.com', '--host', 'a.example.com', '--ca', 'nope.pem']);
    assert.strictEqual(missingFile.code, 1);
    assert.match(missingFile.stderr, /nope\.pem.*does not exist/);
    assert.deepStrictEqual(cf.requests, []);
  });

  it('ips prints an allowlist in the requested format', async () => {
    const r = await run(['ips', '--format', 'iptables'], { CLOUDFLARE_BASE_URL: cf.url });
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /iptables -A INPUT -p tcp --dport 443 -s 173\.245\.48\.0\/20 -j ACCEPT/);
    const j = await run(['ips', '--format', 'json'], { CLOUDFLARE_BASE_URL: cf.url });
    assert.ok(JSON.parse(j.stdout).ipv6.length > 0);
  });

  it('the bundled CLI: node dist/cli.js cloudflare status --json with CLOUDFLARE_API_TOKEN and CLOUDFLARE_BASE_URL', async () => {
    const cli = path.join(ROOT, 'dist/cli.js');
    assert.ok(fs.existsSync(cli), 'dist/cli.js is built (npm run build)');
    const env = { ...process.env, CLOUDFLARE_API_TOKEN: cf.token, CLOUDFLARE_BASE_URL: cf.url };
    const res = await new Promise<{ code: number | null; stdout: string; stderr: string }>(resolve => {
      const child = child_process.execFile(process.execPath, [cli, 'cloudflare', 'status', ...base, '--json'], { cwd: dir, env }, (err, stdout, stderr) => {
        resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout, stderr });
      });
      child.stdin?.end();
    });
    assert.strictEqual(res.code, 0, res.stderr);
    const status = JSON.parse(res.stdout) as SetupStatus;
    assert.strictEqual(status.zone?.id, cf.zone.id);
    assert.strictEqual(status.steps.length, 8);
    assert.ok(cf.requests.length > 0 && cf.requests.every(r => r.headers['api-version']), 'the SDK sent the requests');
  });
});
