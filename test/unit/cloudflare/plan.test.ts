// The Cloudflare plan against the fake API on loopback (never the real API): full apply per AOP mode,
// idempotence, what a user already has is kept, injected errors give correct partial reports, and every
// request the SDK sent is valid against the OpenAPI subset.
import * as assert from 'assert';
import { applySteps, ApplyReport, AopMode, CloudflareOptions, fetchIpRanges, readStatus, StepId, WAF_RULE_REF } from '../../../src/core/cloudflare';
import { certInfo } from '../../../src/core/cloudflare/x509';
import { FakeCloudflare, FakeCloudflareOptions } from '../../support/fakeCloudflare';
import { testPki, TestPki } from './certs';

const HOSTS = ['api.example.com', 'app.example.com'];
const API_STEPS: StepId[] = ['connect', 'upload-ca', 'associate-hostnames', 'waf-rule', 'aop-mode', 'ssl-mode'];
const MANUAL: StepId[] = ['origin-config', 'verify'];
const CA_ID = '0b8a1f3e-4c2d-4e5f-9a6b-7c8d9e0f1a2b';

describe('cloudflare: plan and apply against the fake API', function () {
  this.timeout(60_000);
  let pki: TestPki;
  let cf: FakeCloudflare;
  before(async () => { pki = await testPki(); });
  afterEach(async function () {
    if (!cf) return;
    // Every request the SDK sent, in every test, matches the OpenAPI subset.
    const invalid = cf.invalidRequests();
    await cf.close();
    if (this.currentTest?.state === 'passed') {
      assert.deepStrictEqual(invalid.map(r => `${r.method} ${r.path}: ${r.validationErrors.join('; ')}`), []);
    }
  });

  async function start(seed: FakeCloudflareOptions = {}) {
    cf = await FakeCloudflare.start({ zoneName: 'example.com', ...seed });
    return cf;
  }
  function opts(mode: AopMode = 'global', extra: Partial<CloudflareOptions> = {}): CloudflareOptions {
    return {
      token: cf.token, baseURL: cf.url, zoneName: 'example.com', hostnames: HOSTS, caPem: pki.clientCa.certPem, aopMode: mode,
      pullCertPem: mode === 'global' ? undefined : pki.pullLeaf.certPem, pullKeyPem: mode === 'global' ? undefined : pki.pullLeaf.keyPem,
      ...extra,
    };
  }
  const writes = () => cf.writes().map(r => `${r.method} ${r.path}`);
  const noToken = (value: unknown) => assert.ok(!JSON.stringify(value).includes(cf.token), 'the token never appears in results');

  for (const mode of ['global', 'zone', 'hostname'] as AopMode[]) {
    it(`applies everything from nothing (AOP ${mode}), then a second apply makes no write`, async () => {
      await start();
      const before = await readStatus(opts(mode));
      assert.deepStrictEqual(before.steps.map(s => s.status), ['done', 'todo', 'todo', 'todo', 'todo', 'manual', 'todo', 'manual']);
      assert.deepStrictEqual(before.legs, { 1: 'todo', 2: 'todo' });
      assert.deepStrictEqual(cf.writes(), [], 'reading writes nothing');

      const report = await applySteps(opts(mode));
      noToken(report);
      assert.strictEqual(report.ok, true, JSON.stringify(report.failed));
      assert.deepStrictEqual(report.done, API_STEPS);
      assert.deepStrictEqual(report.remaining, MANUAL);
      assert.ok(report.calls.every(c => c.ok));

      const after = await readStatus(opts(mode));
      noToken(after);
      assert.deepStrictEqual(after.steps.map(s => [s.id, s.status]), [
        ['connect', 'done'], ['upload-ca', 'done'], ['associate-hostnames', 'done'], ['waf-rule', 'done'], ['aop-mode', 'done'],
        ['origin-config', 'manual'], ['ssl-mode', 'done'], ['verify', 'manual'],
      ]);
      assert.deepStrictEqual(after.legs, { 1: 'done', 2: 'done' });
      assert.ok(after.steps.every(s => s.plannedCalls.length === 0));

      // What Cloudflare now holds.
      assert.strictEqual(cf.mtlsCertificates.length, 1);
      assert.deepStrictEqual(cf.associations(cf.mtlsCertificates[0].id), HOSTS);
      const rules = cf.wafRules();
      assert.strictEqual(rules.length, 1);
      assert.strictEqual(rules[0].ref, WAF_RULE_REF);
      assert.strictEqual(rules[0].action, 'block');
      assert.strictEqual(rules[0].expression, '(http.host in {"api.example.com" "app.example.com"} and not cf.tls_client_auth.cert_verified)');
      assert.strictEqual(cf.setting('ssl'), 'strict');
      assert.strictEqual(cf.setting('min_tls_version'), '1.2');
      if (mode === 'global') assert.strictEqual(cf.setting('tls_client_auth'), 'on');
      if (mode === 'zone') {
        assert.strictEqual(cf.zone.aopZoneCerts.length, 1);
        assert.strictEqual(cf.zone.aopEnabled, true);
      }
      if (mode === 'hostname') {
        assert.strictEqual(cf.zone.aopHostCerts.length, 1);
        assert.deepStrictEqual([...cf.zone.aopHostnames.values()].map(h => [h.hostname, h.cert_id, h.enabled]),
          HOSTS.map(h => [h, cf.zone.aopHostCerts[0].id, true]));
      }
      const origin = after.steps.find(s => s.id === 'origin-config')!;
      assert.match(origin.manual!.nginx!, /ssl_verify_client on;/);
      if (mode === 'global') assert.match(origin.manual!.caPem!, /BEGIN CERTIFICATE/);

      cf.clearRequests();
      const again = await applySteps(opts(mode));
      assert.strictEqual(again.ok, true);
      assert.deepStrictEqual(again.calls, []);
      assert.deepStrictEqual(writes(), [], 'a second apply makes no POST, PUT, PATCH or DELETE');
      assert.deepStrictEqual(again.done, API_STEPS);
    });
  }

  it('keeps the zone\'s other WAF rules and other associated hostnames, and reuses an uploaded CA', async () => {
    const theirs = [
      { id: 'a'.repeat(32), ref: 'their-geo-block', action: 'block', expression: '(ip.src.country eq "XX")', description: 'geo' },
      { id: 'b'.repeat(32), ref: 'their-skip', action: 'skip', expression: '(http.request.uri.path eq "/health")', description: 'health', action_parameters: { ruleset: 'current' } },
    ];
    await start({ wafRules: theirs, mtlsCertificates: [{ pem: pki.otherCa.certPem, name: 'other' }, { pem: pki.clientCa.certPem, name: 'ours already' }] });
    const [other, ours] = cf.mtlsCertificates;
    cf.zone.associations.set(ours.id, ['legacy.example.com', 'api.example.com']);
    cf.zone.associations.set(other.id, ['partner.example.com']);

    const status = await readStatus(opts());
    const byId = Object.fromEntries(status.steps.map(s => [s.id, s]));
    assert.strictEqual(byId['upload-ca'].status, 'done');
    assert.strictEqual(byId['associate-hostnames'].status, 'partial');
    assert.ok(byId['waf-rule'].details!.some(d => /skip may let requests bypass/.test(d)));

    const report = await applySteps(opts());
    assert.strictEqual(report.ok, true);
    assert.ok(!writes().some(w => w.includes('mtls_certificates')), 'the CA already there is reused, not uploaded again');
    assert.deepStrictEqual(cf.associations(ours.id), ['legacy.example.com', 'api.example.com', 'app.example.com']);
    assert.deepStrictEqual(cf.associations(other.id), ['partner.example.com']);
    const rules = cf.wafRules();
    assert.strictEqual(rules.length, 3);
    for (const t of theirs) {
      const r = rules.find(x => x.id === t.id)!;
      assert.deepStrictEqual([r.ref, r.action, r.expression, r.description], [t.ref, t.action, t.expression, t.description]);
    }
    assert.ok(!writes().some(w => w.startsWith('PUT') && w.includes('rulesets')), 'never PUT a whole ruleset');
  });

  it('updates its own rule in place (by ref) instead of adding a second one, and never unprotects a hostname', async () => {
    await start({
      mtlsCertificates: [{ pem: pki.clientCa.certPem, id: CA_ID }],
      hostnameAssociations: [{ mtlsCertificateId: CA_ID, hostnames: HOSTS }],
      wafRules: [
        { id: 'c'.repeat(32), ref: 'their-rule', action: 'block', expression: '(ip.src eq 192.0.2.1)' },
        { id: 'd'.repeat(32), ref: WAF_RULE_REF, action: 'block', expression: '(http.host in {"old.example.com"} and not cf.tls_client_auth.cert_verified)', enabled: false },
      ],
    });
    const fp = 'ab'.repeat(32);
    const report = await applySteps(opts('global', { revokedFingerprints: [fp], pinIssuerSki: true }), { steps: ['waf-rule'] });
    assert.strictEqual(report.ok, true, JSON.stringify(report.failed));
    assert.deepStrictEqual(report.calls.map(c => c.method), ['PATCH']);
    const rules = cf.wafRules();
    assert.strictEqual(rules.length, 2);
    const ours = rules.find(r => r.ref === WAF_RULE_REF)!;
    assert.strictEqual(ours.id, 'd'.repeat(32));
    assert.strictEqual(ours.enabled, true);
    const hosts = '{"api.example.com" "app.example.com" "old.example.com"}';
    assert.strictEqual(ours.expression, `(http.host in ${hosts} and not cf.tls_client_auth.cert_verified) or ` +
      `(http.host in ${hosts} and cf.tls_client_auth.cert_issuer_ski ne "${certInfo(pki.clientCa.certPem).ski}") or ` +
      `(http.host in ${hosts} and cf.tls_client_auth.cert_fingerprint_sha256 in {"${fp}"})`);
    assert.strictEqual(rules.find(r => r.ref === 'their-rule')!.expression, '(ip.src eq 192.0.2.1)');
    // Only the WAF step was in scope: nothing else was written.
    assert.deepStrictEqual(writes().map(w => w.split(' ')[0]), ['PATCH']);
  });

  it('dry run: sends only reads and returns the exact calls a real apply then makes', async () => {
    await start();
    const dry = await applySteps(opts('zone'), { dryRun: true });
    assert.strictEqual(dry.ok, true);
    assert.strictEqual(dry.dryRun, true);
    assert.deepStrictEqual(cf.writes(), [], 'a dry run writes nothing');
    assert.ok(cf.requests.every(r => r.method === 'GET'));
    assert.deepStrictEqual(dry.done, ['connect']);
    assert.ok(dry.calls.every(c => c.dryRun && c.curl.includes('$CLOUDFLARE_API_TOKEN') && c.sdk.startsWith('await client.')));
    noToken(dry);
    assert.ok(!JSON.stringify(dry).includes('PRIVATE KEY-----\\nM'), 'no private key in the plan');

    const real = await applySteps(opts('zone'));
    assert.deepStrictEqual(real.calls.map(c => `${c.method} ${c.path}`), dry.calls.map(c => `${c.method} ${c.path}`));
    // The upload body shown in the dry run is the body the API received.
    const upload = cf.writes().find(r => r.path.endsWith('/mtls_certificates'))!;
    assert.deepStrictEqual(upload.body, dry.calls[0].body);
    // Where a dry run cannot know an id yet, it says so instead of inventing one.
    assert.strictEqual((dry.calls[1].body as { mtls_certificate_id: string }).mtls_certificate_id, '<id of the uploaded CA>');
  });

  it('applies only the steps asked for', async () => {
    await start();
    const r = await applySteps(opts(), { steps: ['ssl-mode'] });
    assert.strictEqual(r.ok, true);
    assert.deepStrictEqual(r.done, ['ssl-mode']);
    assert.deepStrictEqual(writes().map(w => w.replace(/\/zones\/\w+/, '/zones/Z')), ['PATCH /zones/Z/settings/ssl', 'PATCH /zones/Z/settings/min_tls_version']);
  });

  it('does not lower a stricter minimum TLS version and accepts Full (Strict) already set', async () => {
    await start({ settings: { ssl: 'strict', min_tls_version: '1.3' } });
    const s = await readStatus(opts());
    assert.strictEqual(s.steps.find(x => x.id === 'ssl-mode')!.status, 'done');
  });

  // ---- failures ---------------------------------------------------------------------------------------

  function assertPartial(r: ApplyReport, step: StepId, done: StepId[], code?: number) {
    assert.strictEqual(r.ok, false);
    assert.strictEqual(r.failed?.step, step);
    if (code !== undefined) assert.strictEqual(r.failed?.error.code, code);
    assert.ok(r.failed!.error.message.length > 0 && r.failed!.error.meaning.length > 0);
    assert.deepStrictEqual(r.done, done);
    const order = ['connect', 'upload-ca', 'associate-hostnames', 'waf-rule', 'aop-mode', 'origin-config', 'ssl-mode', 'verify'];
    assert.deepStrictEqual(r.remaining, order.slice(order.indexOf(step)));
    noToken(r);
  }

  it('1489 on the CA upload: stops there, with the meaning, nothing after it is written', async () => {
    await start();
    cf.failNext({ method: 'POST', pathPattern: /\/mtls_certificates$/, status: 400, code: 1489, message: 'Too many CAs' });
    const r = await applySteps(opts());
    assertPartial(r, 'upload-ca', ['connect'], 1489);
    assert.match(r.failed!.error.meaning, /5/);
    assert.deepStrictEqual(r.calls.map(c => [c.step, c.ok, c.status]), [['upload-ca', false, 400]]);
    assert.deepStrictEqual(writes().length, 1);
  });

  it('a full CA store is seen before the upload, and the API\'s own 1489 is explained', async () => {
    const { makeCa } = await import('./certs');
    const five = await Promise.all([1, 2, 3, 4, 5].map(i => makeCa(`Full ${i}`)));
    await start({ mtlsCertificates: five.map(c => ({ pem: c.certPem })) });
    const s = await readStatus(opts());
    const up = s.steps.find(x => x.id === 'upload-ca')!;
    assert.ok(up.details!.some(d => /5 of 5/.test(d)) && up.details!.some(d => /1489/.test(d)));
    assert.ok(up.details!.some(d => /Cloudflare-managed CA/.test(d)), 'offers the managed CA');
    const r = await applySteps(opts());
    assertPartial(r, 'upload-ca', ['connect'], 1489);
  });

  it('1412 on the per-hostname certificate: Leg 1 done, AOP failed, the rest remaining', async () => {
    await start();
    cf.failNext({ method: 'POST', pathPattern: '/origin_tls_client_auth/hostnames/certificates', status: 400, code: 1412, message: 'CA certificates are not allowed' });
    const r = await applySteps(opts('hostname'));
    assertPartial(r, 'aop-mode', ['connect', 'upload-ca', 'associate-hostnames', 'waf-rule'], 1412);
    assert.match(r.failed!.error.meaning, /leaf certificate/);
    assert.strictEqual(cf.setting('ssl'), 'flexible', 'the SSL step after the failure was not touched');
  });

  it('a CA given as the per-hostname certificate is refused locally (1412) before anything is sent', async () => {
    await start();
    const o = opts('hostname', { pullCertPem: pki.pullCa.certPem, pullKeyPem: pki.pullCa.keyPem });
    const s = await readStatus(o);
    const aop = s.steps.find(x => x.id === 'aop-mode')!;
    assert.deepStrictEqual([aop.status, aop.error?.code], ['error', 1412]);
    const r = await applySteps(o);
    assertPartial(r, 'aop-mode', ['connect', 'upload-ca', 'associate-hostnames', 'waf-rule'], 1412);
    assert.ok(!writes().some(w => w.includes('origin_tls_client_auth')));
  });

  it('10000 (authentication error) on the WAF write names the missing permission', async () => {
    await start();
    cf.failNext({ method: 'POST', pathPattern: /\/rulesets$/, status: 403, code: 10000, message: 'Authentication error' });
    const r = await applySteps(opts());
    assertPartial(r, 'waf-rule', ['connect', 'upload-ca', 'associate-hostnames'], 10000);
    assert.strictEqual(r.failed!.error.permission, 'Zone > Zone WAF > Edit');
    assert.match(r.failed!.error.meaning, /Zone > Zone WAF > Edit/);
  });

  it('9109 (invalid token): status says so at connect, apply writes nothing', async () => {
    await start();
    const o = { ...opts(), token: 'wrong-token-0123456789' };
    const s = await readStatus(o);
    assert.strictEqual(s.tokenValid, false);
    assert.strictEqual(s.steps[0].status, 'error');
    assert.strictEqual(s.steps[0].error?.code, 9109);
    assert.ok(s.steps.slice(1).every(x => x.status === 'unknown' || x.status === 'manual'));
    const r = await applySteps(o);
    assertPartial(r, 'connect', [], 9109);
    assert.deepStrictEqual(cf.writes(), []);
    assert.ok(!JSON.stringify([s, r]).includes('wrong-token-0123456789'));
  });

  it('a token without Zone Settings Write: each step shows its missing permission, apply stops at the first', async () => {
    await start({ permissions: ['Zone Read', 'Account SSL and Certificates Write', 'Zone SSL and Certificates Write', 'Zone WAF Write'] });
    const s = await readStatus(opts());
    const by = Object.fromEntries(s.steps.map(x => [x.id, x]));
    assert.deepStrictEqual(by['aop-mode'].missingPermissions, ['Zone > Zone Settings > Edit']);
    assert.deepStrictEqual(by['ssl-mode'].missingPermissions, ['Zone > Zone Settings > Edit']);
    assert.strictEqual(by['upload-ca'].status, 'todo');
    assert.deepStrictEqual(s.missingPermissions, ['Zone > Zone Settings > Edit']);
    assert.strictEqual(by.connect.status, 'partial');
    assert.ok(by.connect.details!.some(d => /Authenticated Origin Pulls: Zone > Zone Settings > Edit/.test(d)));
    const r = await applySteps(opts());
    assertPartial(r, 'aop-mode', ['connect', 'upload-ca', 'associate-hostnames', 'waf-rule']);
    assert.strictEqual(r.failed!.error.status, 403);
    assert.strictEqual(r.failed!.error.permission, 'Zone > Zone Settings > Edit');
  });

  it('a 403 on a write (read allowed) is reported with the permission that call needs', async () => {
    await start();
    cf.failNext({ method: 'PUT', pathPattern: 'hostname_associations', status: 403, code: 10000, message: 'Authentication error' });
    const r = await applySteps(opts());
    assertPartial(r, 'associate-hostnames', ['connect', 'upload-ca'], 10000);
    assert.strictEqual(r.failed!.error.permission, 'Zone > SSL and Certificates > Edit');
    // Apply again once the permission is there: it carries on where it stopped, without a second upload.
    cf.clearRequests();
    const again = await applySteps(opts());
    assert.strictEqual(again.ok, true);
    assert.ok(!writes().some(w => w.includes('mtls_certificates')));
    assert.strictEqual(cf.mtlsCertificates.length, 1);
  });

  it('a denied endpoint (the per-hostname status read) marks only its step', async () => {
    await start({ deny: [{ method: 'GET', pathPattern: /\/origin_tls_client_auth\/hostnames\/[^/]+$/ }] });
    const s = await readStatus(opts('hostname'));
    const by = Object.fromEntries(s.steps.map(x => [x.id, x]));
    assert.strictEqual(by['aop-mode'].status, 'error');
    assert.deepStrictEqual(by['aop-mode'].missingPermissions, ['Zone > SSL and Certificates > Edit']);
    assert.strictEqual(by['ssl-mode'].status, 'todo');
    assert.deepStrictEqual(s.legs, { 1: 'todo', 2: 'error' });
  });

  it('associating before the CA is uploaded fails clearly instead of sending a placeholder id', async () => {
    await start();
    const r = await applySteps(opts(), { steps: ['associate-hostnames'] });
    assert.strictEqual(r.ok, false);
    assert.strictEqual(r.failed?.step, 'associate-hostnames');
    assert.match(r.failed!.error.meaning, /upload-ca/);
    assert.deepStrictEqual(cf.writes(), []);
  });

  it('an unknown zone is an error at connect naming Zone Read', async () => {
    await start({ zoneName: 'other.example' });
    const s = await readStatus(opts());
    assert.strictEqual(s.steps[0].status, 'error');
    assert.deepStrictEqual(s.steps[0].missingPermissions, ['Zone > Zone > Read']);
  });

  it('refuses hostnames outside the zone and options without a token', async () => {
    await start();
    await assert.rejects(readStatus(opts('global', { hostnames: ['api.elsewhere.com'] })), /not in the zone example\.com/);
    await assert.rejects(readStatus({ ...opts(), token: '' }), /No Cloudflare API token/);
    assert.deepStrictEqual(cf.requests, []);
  });

  it('fetches Cloudflare\'s IP ranges without a token', async () => {
    await start();
    const ranges = await fetchIpRanges({ baseURL: cf.url });
    assert.ok(ranges.ipv4.includes('173.245.48.0/20'));
    assert.ok(ranges.ipv6.includes('2400:cb00::/32'));
    assert.strictEqual(cf.requests[0].headers.authorization, undefined);
  });
});
