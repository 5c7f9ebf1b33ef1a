// Leg 1 on every plan: the zone's Cloudflare-managed CA, end to end against the fake API (which signs CSRs
// with its own "managed" CA). Issued certificates are checked with openssl against that CA.
import * as assert from 'assert';
import * as child_process from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  applySteps, CloudflareOptions, issueManagedCertificate, listManagedCertificates, reactivateManagedCertificate, readStatus, revokeManagedCertificate,
} from '../../../src/core/cloudflare';
import { main } from '../../../src/cli/main';
import { CliIO } from '../../../src/cli/io';
import { FakeCloudflare } from '../../support/fakeCloudflare';

const HOSTS = ['api.example.com', 'app.example.com'];

function opensslVerify(caPem: string, certPem: string, dir: string): string {
  fs.writeFileSync(path.join(dir, 'managed-ca.pem'), caPem);
  fs.writeFileSync(path.join(dir, 'leaf.pem'), certPem);
  return child_process.execFileSync('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', path.join(dir, 'managed-ca.pem'), path.join(dir, 'leaf.pem')], { encoding: 'utf8' });
}

describe('cloudflare: the Cloudflare-managed CA (every plan)', function () {
  this.timeout(60_000);
  let cf: FakeCloudflare;
  let dir: string;
  beforeEach(async () => {
    cf = await FakeCloudflare.start({ zones: [{ name: 'example.com', plan: 'Pro Website' }] });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-cf-managed-'));
  });
  afterEach(async function () {
    const invalid = cf.invalidRequests();
    await cf.close();
    fs.rmSync(dir, { recursive: true, force: true });
    if (this.currentTest?.state === 'passed') assert.deepStrictEqual(invalid.map(r => `${r.method} ${r.path}: ${r.validationErrors.join('; ')}`), []);
  });
  const opts = (extra: Partial<CloudflareOptions> = {}): CloudflareOptions => ({
    token: cf.token, baseURL: cf.url, zoneName: 'example.com', hostnames: HOSTS, caMode: 'managed', aopMode: 'global', ...extra,
  });
  const writes = () => cf.writes().map(r => `${r.method} ${r.path}`);

  it('a Pro-plan zone goes from nothing to both legs done with --managed; a second apply writes nothing', async () => {
    const before = await readStatus(opts());
    assert.strictEqual(before.caMode, 'managed');
    assert.strictEqual(before.zone?.ownCaAllowed, false);
    assert.deepStrictEqual(before.steps.map(s => s.status), ['done', 'done', 'todo', 'todo', 'todo', 'manual', 'todo', 'manual']);
    assert.strictEqual(before.steps[1].title, 'Use the Cloudflare-managed CA');
    const r = await applySteps(opts());
    assert.ok(r.ok, JSON.stringify(r.failed));
    assert.deepStrictEqual(r.done, ['connect', 'upload-ca', 'associate-hostnames', 'waf-rule', 'aop-mode', 'ssl-mode']);
    assert.ok(!writes().some(w => w.includes('mtls_certificates')), 'nothing is uploaded');
    const assocPut = cf.writes().find(w => w.path.endsWith('hostname_associations'))!;
    assert.deepStrictEqual(assocPut.body, { hostnames: HOSTS }, 'associations without mtls_certificate_id: the managed CA');
    assert.deepStrictEqual(cf.associations(undefined), HOSTS);
    assert.strictEqual(cf.wafRules()[0].expression,
      '(http.host in {"api.example.com" "app.example.com"} and (not cf.tls_client_auth.cert_verified or cf.tls_client_auth.cert_revoked))');
    const after = await readStatus(opts());
    assert.deepStrictEqual(after.legs, { 1: 'done', 2: 'done' });
    cf.clearRequests();
    const again = await applySteps(opts());
    assert.ok(again.ok);
    assert.deepStrictEqual(writes(), [], 'a second apply writes nothing');
  });

  it('association merges with hostnames already on the managed CA, never dropping one', async () => {
    await cf.close();
    cf = await FakeCloudflare.start({ zones: [{ name: 'example.com', plan: 'Pro Website' }], hostnameAssociations: [{ hostnames: ['legacy.example.com'] }] });
    const r = await applySteps(opts(), { steps: ['associate-hostnames'] });
    assert.ok(r.ok, JSON.stringify(r.failed));
    assert.deepStrictEqual(cf.associations(undefined), ['legacy.example.com', ...HOSTS]);
  });

  it('cert issue: key and CSR made here, signed by the managed CA (openssl verifies), stored with the API id; key 0600', async () => {
    const store = path.join(dir, 'store');
    const issued = await issueManagedCertificate({ token: cf.token, baseURL: cf.url, zoneName: 'example.com', storeDir: store, cn: 'alice@example.com', days: 30 });
    assert.ok(path.isAbsolute(issued.cert) && path.isAbsolute(issued.key));
    assert.strictEqual(path.dirname(issued.cert), path.join(store, 'cloudflare-managed', 'example.com'));
    assert.strictEqual(fs.statSync(issued.key).mode & 0o777, 0o600);
    assert.strictEqual(fs.statSync(path.dirname(issued.key)).mode & 0o777, 0o700);
    const certPem = fs.readFileSync(issued.cert, 'utf8');
    assert.match(opensslVerify(cf.managedCaPem, certPem, dir), /: OK/);
    // The key never went to Cloudflare: only a CSR did.
    const post = cf.writes().find(w => w.path.endsWith('/client_certificates'))!;
    assert.deepStrictEqual(Object.keys(post.body as object).sort(), ['csr', 'validity_days']);
    assert.ok(!JSON.stringify(cf.requests).includes('PRIVATE KEY'));
    const record = JSON.parse(fs.readFileSync(issued.cert.replace(/\.pem$/, '.json'), 'utf8'));
    assert.strictEqual(record.id, issued.id);
    assert.strictEqual(cf.clientCertificates()[0].id, issued.id);
    // The key matches the certificate (openssl's view).
    const pub = (f: string, args: string[]) => child_process.execFileSync('openssl', [...args, '-in', f, '-pubkey', '-noout'], { encoding: 'utf8' });
    assert.strictEqual(pub(issued.cert, ['x509']), child_process.execFileSync('openssl', ['pkey', '-in', issued.key, '-pubout'], { encoding: 'utf8' }));
    // The same name twice: refused before anything is sent.
    cf.clearRequests();
    await assert.rejects(issueManagedCertificate({ token: cf.token, baseURL: cf.url, zoneName: 'example.com', storeDir: store, cn: 'alice@example.com' }), /already exists/);
    assert.deepStrictEqual(cf.writes(), []);
  });

  it('cert issue with a lost answer (created, then 500) finds the certificate by its CSR instead of asking twice', async () => {
    cf.failAfterSuccess({ method: 'POST', pathPattern: /\/client_certificates$/, status: 500, code: 1000, message: 'Internal error' });
    const issued = await issueManagedCertificate({ token: cf.token, baseURL: cf.url, zoneName: 'example.com', storeDir: path.join(dir, 's'), cn: 'bob', key: 'rsa2048' });
    assert.strictEqual(issued.confirmedAfterError, true);
    assert.strictEqual(cf.clientCertificates().length, 1);
    assert.strictEqual(writes().length, 1);
    assert.match(opensslVerify(cf.managedCaPem, fs.readFileSync(issued.cert, 'utf8'), dir), /: OK/);
  });

  it('list shows live status; revoke by file, reactivate by id; revoked is final', async () => {
    const store = path.join(dir, 'store');
    const base = { token: cf.token, baseURL: cf.url, zoneName: 'example.com', storeDir: store };
    const a = await issueManagedCertificate({ ...base, cn: 'alice' });
    const b = await issueManagedCertificate({ ...base, cn: 'bob' });
    let list = await listManagedCertificates(base);
    assert.deepStrictEqual(list.map(c => [c.commonName, c.status, c.cert]).sort(), [['alice', 'active', a.cert], ['bob', 'active', b.cert]]);
    const revoked = await revokeManagedCertificate(base, a.cert);
    assert.strictEqual(revoked.status, 'pending_revocation');
    assert.strictEqual(JSON.parse(fs.readFileSync(a.cert.replace(/\.pem$/, '.json'), 'utf8')).status, 'pending_revocation');
    const back = await reactivateManagedCertificate(base, a.id);
    assert.strictEqual(back.status, 'active');
    await revokeManagedCertificate(base, b.id);
    cf.settleRevocations();
    list = await listManagedCertificates(base);
    assert.strictEqual(list.find(c => c.id === b.id)!.status, 'revoked');
    await assert.rejects(reactivateManagedCertificate(base, b.id), /cannot be reactivated/);
  });

  describe('mtls cloudflare (CLI)', () => {
    async function run(args: string[]) {
      let stdout = '';
      let stderr = '';
      const io: CliIO = { stdout: t => { stdout += t; }, stderr: t => { stderr += t; }, env: { CLOUDFLARE_API_TOKEN: cf.token, CLOUDFLARE_BASE_URL: cf.url }, cwd: dir };
      const code = await main(['cloudflare', ...args], io);
      return { code, stdout, stderr };
    }

    it('cert issue --json prints {id, status, cert, key, expiresOn} with absolute paths; list and revoke work', async () => {
      const r = await run(['cert', 'issue', '--zone', 'example.com', '--cn', 'carol', '--days', '10', '--json']);
      assert.strictEqual(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.deepStrictEqual(Object.keys(out).sort(), ['cert', 'expiresOn', 'id', 'key', 'status']);
      assert.strictEqual(out.cert, path.join(dir, '.mtls', 'cloudflare-managed', 'example.com', 'carol.pem'));
      assert.strictEqual(out.status, 'active');
      assert.match(opensslVerify(cf.managedCaPem, fs.readFileSync(out.cert, 'utf8'), dir), /: OK/);
      const l = await run(['cert', 'list', '--zone', 'example.com']);
      assert.match(l.stdout, /active\s+\S+\s+carol/);
      const v = await run(['cert', 'revoke', out.cert, '--zone', 'example.com']);
      assert.strictEqual(v.code, 0, v.stderr);
      assert.match(v.stdout, /pending_revocation/);
    });

    it('neither --ca nor --managed is a usage error that explains both', async () => {
      const r = await run(['status', '--zone', 'example.com', '--host', 'api.example.com']);
      assert.strictEqual(r.code, 2);
      assert.match(r.stderr, /--managed/);
      assert.match(r.stderr, /--ca FILE/);
      assert.match(r.stderr, /Enterprise/);
      assert.deepStrictEqual(cf.requests, []);
    });

    it('--ca on a Pro zone: exit 1 at the connect step, no write, advice points to --managed', async () => {
      fs.writeFileSync(path.join(dir, 'ca.pem'), cf.managedCaPem);
      const r = await run(['apply', '--zone', 'example.com', '--host', 'api.example.com', '--ca', 'ca.pem']);
      assert.strictEqual(r.code, 1);
      assert.match(r.stdout, /Failed: connect/);
      assert.match(r.stdout, /--managed/);
      assert.deepStrictEqual(cf.writes(), []);
    });

    it('--timeout: a hanging API ends status and apply alike with exit 1 and a clear timeout message (time measured by the bench)', async () => {
      cf.hang({ method: 'GET', pathPattern: /^\/zones$/ });
      for (const sub of ['status', 'apply']) {
        const r = await run([sub, '--zone', 'example.com', '--host', 'api.example.com', '--managed', '--timeout', '300']);
        assert.strictEqual(r.code, 1, r.stdout + r.stderr);
        assert.match(r.stdout, /Cannot reach the Cloudflare API: the request timed out/);
      }
      assert.deepStrictEqual(cf.writes(), []);
    });

    it('apply --managed from nothing, then status shows both legs done', async () => {
      const r = await run(['apply', '--zone', 'example.com', '--host', 'api.example.com', '--managed', '--timeout', '5000']);
      assert.strictEqual(r.code, 0, r.stdout + r.stderr);
      const s = await run(['status', '--zone', 'example.com', '--host', 'api.example.com', '--managed']);
      assert.match(s.stdout, /Leg 1 \(client -> Cloudflare, Cloudflare-managed CA\): done/);
      assert.match(s.stdout, /Leg 2 .*: done/);
    });
  });
});
