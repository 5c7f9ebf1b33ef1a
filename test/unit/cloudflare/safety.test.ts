// The apply can never lock visitors out or weaken a setting: the blocking rule waits for the hostname
// associations, SSL mode is never lowered, issuer pinning when another CA covers a hostname, zone-level AOP
// rotation with a pending state, creates are never sent twice, calls are bounded, errors are told apart.
// All against the fake API on loopback; every request is validated against the OpenAPI subset.
import * as assert from 'assert';
import * as http from 'http';
import { AddressInfo } from 'net';
import { applySteps, AopMode, CloudflareOptions, readStatus } from '../../../src/core/cloudflare';
import { certInfo } from '../../../src/core/cloudflare/x509';
import { FakeCloudflare, FakeCloudflareOptions } from '../../support/fakeCloudflare';
import { makeLeaf, testPki, TestCert, TestPki } from './certs';

const HOSTS = ['api.example.com', 'app.example.com'];
const CA_ID = '0b8a1f3e-4c2d-4e5f-9a6b-7c8d9e0f1a2b';

describe('cloudflare: an apply that cannot lock anyone out', function () {
  this.timeout(60_000);
  let pki: TestPki;
  let oldPull: TestCert;
  let cf: FakeCloudflare | undefined;
  before(async () => {
    pki = await testPki();
    oldPull = await makeLeaf(pki.pullCa, 'old-origin-pull', 'client');
  });
  afterEach(async function () {
    if (!cf) return;
    const invalid = cf.invalidRequests();
    await cf.close();
    cf = undefined;
    if (this.currentTest?.state === 'passed') assert.deepStrictEqual(invalid.map(r => `${r.method} ${r.path}: ${r.validationErrors.join('; ')}`), []);
  });

  async function start(seed: FakeCloudflareOptions = {}) {
    cf = await FakeCloudflare.start({ zoneName: 'example.com', ...seed });
    return cf;
  }
  function opts(extra: Partial<CloudflareOptions> = {}, mode: AopMode = 'global'): CloudflareOptions {
    return {
      token: cf!.token, baseURL: cf!.url, zoneName: 'example.com', hostnames: HOSTS, caPem: pki.clientCa.certPem, aopMode: mode,
      pullCertPem: mode === 'global' ? undefined : pki.pullLeaf.certPem, pullKeyPem: mode === 'global' ? undefined : pki.pullLeaf.keyPem,
      ...extra,
    };
  }
  const writes = () => cf!.writes().map(r => `${r.method} ${r.path}`);

  // ---- the blocking rule waits for the associations -------------------------------------------------

  for (const caMode of ['byo', 'managed'] as const) {
    it(`--step waf-rule alone on unassociated hostnames refuses: exit 1, no write (${caMode})`, async () => {
      await start(caMode === 'byo' ? { mtlsCertificates: [{ pem: pki.clientCa.certPem, id: CA_ID }] } : { zones: [{ name: 'example.com', plan: 'Pro Website' }] });
      const r = await applySteps(opts({ caMode }), { steps: ['waf-rule'] });
      assert.strictEqual(r.ok, false);
      assert.strictEqual(r.failed?.step, 'waf-rule');
      assert.match(r.failed!.error.message, /not associated with any CA/);
      assert.match(r.failed!.error.meaning, /block every visitor/);
      assert.deepStrictEqual(writes(), [], 'nothing was written');
      assert.deepStrictEqual(cf!.wafRules(), []);
    });
  }

  it('a disabled rule of ours is not enabled while a hostname is unassociated', async () => {
    await start({
      mtlsCertificates: [{ pem: pki.clientCa.certPem, id: CA_ID }],
      hostnameAssociations: [{ mtlsCertificateId: CA_ID, hostnames: ['api.example.com'] }],
      wafRules: [{ ref: 'mtls-workbench-require-client-cert', action: 'block', expression: '(http.host in {"api.example.com"} and not cf.tls_client_auth.cert_verified)', enabled: false }],
    });
    const r = await applySteps(opts(), { steps: ['waf-rule'] });
    assert.strictEqual(r.ok, false);
    assert.match(r.failed!.error.message, /app\.example\.com is not associated/);
    assert.deepStrictEqual(writes(), []);
    assert.strictEqual(cf!.wafRules()[0].enabled, false);
  });

  it('a full apply associates first, then writes the rule; status and dry run say the rule follows the association', async () => {
    await start();
    const s = await readStatus(opts());
    const waf = s.steps.find(x => x.id === 'waf-rule')!;
    assert.strictEqual(waf.status, 'todo');
    assert.ok(waf.details!.some(d => /only after step 2/.test(d)));
    const dry = await applySteps(opts(), { dryRun: true });
    assert.ok(dry.ok);
    assert.deepStrictEqual(writes(), []);
    assert.deepStrictEqual(dry.calls.map(c => c.step), ['upload-ca', 'associate-hostnames', 'waf-rule', 'aop-mode', 'ssl-mode', 'ssl-mode']);
    const r = await applySteps(opts());
    assert.ok(r.ok, JSON.stringify(r.failed));
    const w = writes();
    const assoc = w.findIndex(x => x.includes('hostname_associations'));
    const rule = w.findIndex(x => x.includes('rulesets'));
    assert.ok(assoc >= 0 && rule > assoc, `association before rule: ${w.join(', ')}`);
  });

  // ---- settings are never lowered -----------------------------------------------------------------------

  for (const current of ['origin_pull', 'strict']) {
    it(`SSL mode ${current} is kept (never lowered) and min TLS 1.3 stays`, async () => {
      await start({ settings: { ssl: current, min_tls_version: '1.3' } });
      const s = await readStatus(opts());
      const ssl = s.steps.find(x => x.id === 'ssl-mode')!;
      assert.strictEqual(ssl.status, 'done');
      assert.deepStrictEqual(ssl.plannedCalls, []);
      await applySteps(opts(), { steps: ['ssl-mode'] });
      assert.ok(!writes().some(x => x.includes('/settings/')), writes().join(', '));
      assert.strictEqual(cf!.setting('ssl'), current);
      assert.strictEqual(cf!.setting('min_tls_version'), '1.3');
    });
  }

  it('moving to strict says it is zone-wide before the write (status and dry run)', async () => {
    await start({ settings: { ssl: 'full' } });
    const s = await readStatus(opts());
    const ssl = s.steps.find(x => x.id === 'ssl-mode')!;
    assert.match(ssl.details![0], /Zone-wide: .* every hostname of example\.com/);
    assert.match(ssl.summary, /whole zone/);
    const dry = await applySteps(opts(), { dryRun: true, steps: ['ssl-mode'] });
    assert.match(dry.calls.find(c => c.path.endsWith('/settings/ssl'))!.description!, /whole zone example\.com/);
  });

  // ---- issuer pinning when another CA covers a hostname ---------------------------------------------

  it('own CA: the rule pins the issuer SKI by default when the managed CA also covers a target hostname; --no-pin-issuer opts out', async () => {
    await start({
      mtlsCertificates: [{ pem: pki.clientCa.certPem, id: CA_ID }],
      hostnameAssociations: [{ mtlsCertificateId: CA_ID, hostnames: HOSTS }, { hostnames: ['api.example.com'] }],
    });
    const ski = certInfo(pki.clientCa.certPem).ski!;
    const r = await applySteps(opts(), { steps: ['waf-rule'] });
    assert.ok(r.ok, JSON.stringify(r.failed));
    assert.match(cf!.wafRules()[0].expression, new RegExp(`cert_issuer_ski ne "${ski}"`));
    await cf!.close();
    await start({
      mtlsCertificates: [{ pem: pki.clientCa.certPem, id: CA_ID }],
      hostnameAssociations: [{ mtlsCertificateId: CA_ID, hostnames: HOSTS }, { hostnames: ['api.example.com'] }],
    });
    await applySteps(opts({ pinIssuerSki: false }), { steps: ['waf-rule'] });
    assert.doesNotMatch(cf!.wafRules()[0].expression, /cert_issuer_ski/);
  });

  it('own CA alone on its hostnames: no pin unless asked', async () => {
    await start({ mtlsCertificates: [{ pem: pki.clientCa.certPem, id: CA_ID }], hostnameAssociations: [{ mtlsCertificateId: CA_ID, hostnames: HOSTS }] });
    await applySteps(opts(), { steps: ['waf-rule'] });
    assert.doesNotMatch(cf!.wafRules()[0].expression, /cert_issuer_ski/);
  });

  // ---- zone-level AOP rotation --------------------------------------------------------------------------

  it('zone AOP rotation: pending is not done; the old certificate goes only with --replace-old, once the new one is active', async () => {
    await start({ aopDeploymentPending: true, aopZoneCertificates: [{ certificate: oldPull.certPem, privateKey: oldPull.keyPem }] });
    const first = await applySteps(opts({}, 'zone'), { steps: ['aop-mode'] });
    assert.ok(first.ok, JSON.stringify(first.failed));
    assert.strictEqual(cf!.zone.aopZoneCerts.length, 2);
    let s = await readStatus(opts({ replaceOldPullCerts: true }, 'zone'));
    let aop = s.steps.find(x => x.id === 'aop-mode')!;
    assert.strictEqual(aop.status, 'partial');
    assert.match(aop.summary, /pending_deployment/);
    assert.deepStrictEqual(aop.plannedCalls, [], 'nothing is deleted while the new certificate is pending');
    const whilePending = await applySteps(opts({ replaceOldPullCerts: true }, 'zone'), { steps: ['aop-mode'] });
    assert.ok(!whilePending.done.includes('aop-mode'), 'pending_deployment is not done');
    assert.ok(whilePending.remaining.includes('aop-mode'));
    assert.strictEqual(cf!.zone.aopZoneCerts.length, 2);

    cf!.activateZoneAopCertificates();
    s = await readStatus(opts({}, 'zone'));
    aop = s.steps.find(x => x.id === 'aop-mode')!;
    assert.strictEqual(aop.status, 'partial');
    assert.ok(aop.details!.some(d => /--replace-old/.test(d)));
    cf!.clearRequests();
    const without = await applySteps(opts({}, 'zone'), { steps: ['aop-mode'] });
    assert.deepStrictEqual(writes(), [], 'without --replace-old the older certificate stays');
    assert.ok(!without.done.includes('aop-mode'));

    const replaced = await applySteps(opts({ replaceOldPullCerts: true }, 'zone'), { steps: ['aop-mode'] });
    assert.ok(replaced.ok, JSON.stringify(replaced.failed));
    assert.deepStrictEqual(replaced.calls.map(c => c.method), ['DELETE']);
    assert.strictEqual(cf!.zone.aopZoneCerts.length, 1);
    assert.strictEqual(cf!.zone.aopZoneCerts[0].serial_number, certInfo(pki.pullLeaf.certPem).serialDecimal);
    cf!.clearRequests();
    const again = await applySteps(opts({ replaceOldPullCerts: true }, 'zone'), { steps: ['aop-mode'] });
    assert.deepStrictEqual(again.done, ['aop-mode']);
    assert.deepStrictEqual(writes(), []);
  });

  // ---- creates are never sent twice -----------------------------------------------------------------------

  it('a create that succeeds and then answers 500 is found by a re-read, not sent again', async () => {
    await start();
    cf!.failAfterSuccess({ method: 'POST', pathPattern: /\/mtls_certificates$/, status: 500, code: 1000, message: 'Internal error' });
    const r = await applySteps(opts());
    assert.ok(r.ok, JSON.stringify(r.failed));
    const upload = r.calls.find(c => c.step === 'upload-ca')!;
    assert.strictEqual(upload.confirmedAfterError, true);
    assert.strictEqual(writes().filter(x => x.startsWith('POST') && x.endsWith('/mtls_certificates')).length, 1);
    assert.strictEqual(cf!.mtlsCertificates.length, 1);
    assert.deepStrictEqual(cf!.associations(cf!.mtlsCertificates[0].id), HOSTS);
  });

  it('a create that fails with 500 and cannot be read back reports an unknown outcome and stops', async () => {
    await start();
    cf!.failNext({ method: 'POST', pathPattern: /\/rulesets$/, status: 502, code: 1000, message: 'Bad gateway' });
    const r = await applySteps(opts(), {
      onProgress: e => {
        // The re-read after the failed create fails too.
        if (e.step === 'waf-rule' && e.phase === 'call') cf!.failNext({ method: 'GET', pathPattern: /entrypoint$/, status: 503, code: 1000, message: 'Unavailable' });
      },
    });
    assert.strictEqual(r.ok, false);
    assert.strictEqual(r.failed!.step, 'waf-rule');
    assert.strictEqual(r.failed!.error.kind, 'unknown-outcome');
    assert.match(r.failed!.error.message, /not known/);
    const call = r.calls.find(c => c.step === 'waf-rule')!;
    assert.strictEqual(call.outcomeUnknown, true);
    assert.strictEqual(writes().filter(x => x.startsWith('POST') && x.endsWith('/rulesets')).length, 1, 'sent once');
  });

  it('a create that fails with 500 and is not there is reported as failed (safe to apply again), sent once', async () => {
    await start();
    cf!.failNext({ method: 'POST', pathPattern: /\/mtls_certificates$/, status: 500, code: 1000, message: 'Internal error' });
    const r = await applySteps(opts());
    assert.strictEqual(r.ok, false);
    assert.strictEqual(r.failed!.step, 'upload-ca');
    assert.strictEqual(r.failed!.error.status, 500);
    assert.strictEqual(writes().length, 1);
    assert.strictEqual(cf!.mtlsCertificates.length, 0);
  });

  // ---- bounded time ---------------------------------------------------------------------------------------

  it('a hanging API ends status with a timeout error; later steps are not read', async () => {
    await start();
    cf!.hang({ method: 'GET', pathPattern: /\/settings\// });
    // The time bound itself is measured by test/bench/cloudflareTimeout.bench.mjs.
    const s = await readStatus(opts({ timeoutMs: 400 }));
    assert.strictEqual(s.unreachable?.kind, 'timeout');
    const aop = s.steps.find(x => x.id === 'aop-mode')!;
    assert.strictEqual(aop.status, 'error');
    assert.match(aop.summary, /timed out/);
    assert.strictEqual(s.steps.find(x => x.id === 'ssl-mode')!.status, 'unknown');
  });

  it('a hanging write ends apply with a timeout error, and its re-read is bounded too', async () => {
    await start({ mtlsCertificates: [{ pem: pki.clientCa.certPem, id: CA_ID }], hostnameAssociations: [{ mtlsCertificateId: CA_ID, hostnames: HOSTS }] });
    cf!.hang({ method: 'POST', pathPattern: /\/rulesets$/ });
    const r = await applySteps(opts({ timeoutMs: 400 }));
    assert.strictEqual(r.ok, false);
    assert.strictEqual(r.failed!.step, 'waf-rule');
    assert.strictEqual(r.failed!.error.kind, 'timeout');
    assert.match(r.failed!.error.message, /timed out/);
  });

  // ---- telling errors apart -----------------------------------------------------------------------------

  it('cannot reach the API (connection refused) is not "token not accepted"', async () => {
    const server = http.createServer();
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>(resolve => server.close(() => resolve()));
    const s = await readStatus({ token: 'some-token-0123456789', baseURL: `http://127.0.0.1:${port}/client/v4`, zoneName: 'example.com', hostnames: HOSTS, caMode: 'managed', aopMode: 'global', timeoutMs: 2000 });
    const c = s.steps[0];
    assert.strictEqual(c.status, 'error');
    assert.strictEqual(c.error?.kind, 'network');
    assert.match(c.summary, /Cannot reach the Cloudflare API/);
    assert.doesNotMatch(c.summary, /token/i);
    assert.ok(s.steps.slice(1).every(x => x.status === 'unknown' || x.status === 'manual'));
  });

  it('a wrong token is "not accepted", with kind auth', async () => {
    await start();
    const s = await readStatus({ ...opts(), token: 'wrong-token-0123456789' });
    assert.strictEqual(s.steps[0].error?.kind, 'auth');
    assert.match(s.steps[0].summary, /token was not accepted/);
  });

  it('own CA on a Pro zone stops at connect before any write, pointing to --managed', async () => {
    await start({ zones: [{ name: 'example.com', plan: 'Pro Website' }] });
    const s = await readStatus(opts());
    assert.strictEqual(s.steps[0].status, 'error');
    assert.match(s.steps[0].summary, /Enterprise/);
    assert.match(s.steps[0].error!.meaning, /--managed/);
    assert.strictEqual(s.zone?.ownCaAllowed, false);
    const r = await applySteps(opts());
    assert.strictEqual(r.ok, false);
    assert.strictEqual(r.failed!.step, 'connect');
    assert.deepStrictEqual(writes(), []);
    assert.ok(!cf!.requests.some(x => x.path.includes('mtls_certificates')), 'not even read');
  });

  it('the custom-rule quota and unknown codes are explained (Cloudflare\'s own message kept)', async () => {
    await start({ mtlsCertificates: [{ pem: pki.clientCa.certPem, id: CA_ID }], hostnameAssociations: [{ mtlsCertificateId: CA_ID, hostnames: HOSTS }] });
    cf!.failNext({ method: 'POST', pathPattern: /\/rulesets$/, status: 400, code: 20200, message: 'exceeded maximum number of rules in the phase http_request_firewall_custom' });
    const r = await applySteps(opts(), { steps: ['waf-rule'] });
    assert.match(r.failed!.error.meaning, /custom-rule quota/);
    await cf!.close();
    await start({ mtlsCertificates: [{ pem: pki.clientCa.certPem, id: CA_ID }], hostnameAssociations: [{ mtlsCertificateId: CA_ID, hostnames: HOSTS }] });
    cf!.failNext({ method: 'POST', pathPattern: /\/rulesets$/, status: 400, code: 12345, message: 'Something only Cloudflare knows' });
    const r2 = await applySteps(opts(), { steps: ['waf-rule'] });
    assert.strictEqual(r2.failed!.error.message, 'Something only Cloudflare knows');
    assert.match(r2.failed!.error.meaning, /Something only Cloudflare knows/);
  });
});
