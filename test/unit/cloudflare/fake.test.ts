// The fake Cloudflare API itself: it must refuse what the real one would (bad paths, bodies, tokens), so
// that "zero validation failures" in the plan tests means something.
import * as assert from 'assert';
import * as child_process from 'child_process';
import * as path from 'path';
import { FakeCloudflare, FAKE_TOKEN } from '../../support/fakeCloudflare';
import { testPki } from './certs';

async function call(cf: FakeCloudflare, method: string, p: string, body?: unknown, token: string | null = cf.token) {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(cf.url + p, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json() as { success: boolean; errors: { code: number; message: string }[]; messages: unknown[]; result: any; result_info?: any } };
}

describe('cloudflare: the fake API', () => {
  let cf: FakeCloudflare;
  beforeEach(async () => { cf = await FakeCloudflare.start({ zoneName: 'example.com' }); });
  afterEach(async () => { await cf.close(); });

  it('answers in Cloudflare\'s envelope and keeps state: an uploaded CA is listed', async () => {
    const { clientCa } = await testPki();
    const up = await call(cf, 'POST', `/accounts/${cf.accountId}/mtls_certificates`, { ca: true, certificates: clientCa.certPem, name: 'ws' });
    assert.strictEqual(up.status, 200);
    assert.deepStrictEqual(Object.keys(up.json).sort(), ['errors', 'messages', 'result', 'success']);
    assert.match(up.json.result.id, /^[0-9a-f-]{36}$/);
    assert.match(up.json.result.serial_number, /^[0-9]+$/);
    assert.match(up.json.result.issuer, /CN=Workspace Client CA/);
    assert.ok(Date.parse(up.json.result.expires_on) > Date.now());
    const list = await call(cf, 'GET', `/accounts/${cf.accountId}/mtls_certificates`);
    assert.deepStrictEqual(list.json.result.map((c: { id: string }) => c.id), [up.json.result.id]);
    assert.ok(list.json.result_info);
    assert.deepStrictEqual(cf.invalidRequests(), []);
  });

  it('records a validation failure and answers 404 for a path or method the OpenAPI subset does not have', async () => {
    const a = await call(cf, 'GET', '/zones/abc/nonsense');
    assert.strictEqual(a.status, 404);
    const b = await call(cf, 'DELETE', `/zones/${cf.zone.id}/settings/ssl`);
    assert.strictEqual(b.status, 404);
    assert.strictEqual(cf.invalidRequests().length, 2);
    assert.match(cf.invalidRequests()[1].validationErrors[0], /no DELETE operation/);
  });

  it('validates bodies, path parameters and query parameters against the schemas', async () => {
    const z = cf.zone.id;
    const bad = [
      await call(cf, 'PUT', `/zones/${z}/origin_tls_client_auth/settings`, { enabled: 'yes' }), // boolean expected
      await call(cf, 'POST', `/accounts/${cf.accountId}/mtls_certificates`, { ca: true }), // certificates missing
      await call(cf, 'PUT', `/zones/${z}/certificate_authorities/hostname_associations`, { hostnames: ['a.example.com'], mtls_certificate_id: 'short' }), // 36 chars
      await call(cf, 'PUT', `/zones/${z}/origin_tls_client_auth/hostnames`, {}), // config required
      await call(cf, 'GET', `/zones/${'x'.repeat(40)}/settings/ssl`), // zone id maxLength 32
      await call(cf, 'GET', `/zones?bogus=1`), // undeclared query parameter
      await call(cf, 'POST', `/zones/${z}/rulesets/abc/rules`, { action: 'explode', expression: 'true' }), // no such action
      await call(cf, 'PATCH', `/zones/${z}/settings/ssl`, '{not json'),
    ];
    for (const r of bad) assert.strictEqual(r.status === 400 || r.status === 404, true, JSON.stringify(r.json));
    assert.strictEqual(cf.invalidRequests().length, bad.length, JSON.stringify(cf.requests.map(r => [r.path, r.validationErrors])));
    // ...and nothing changed.
    assert.strictEqual(cf.zone.aopEnabled, false);
    assert.strictEqual(cf.mtlsCertificates.length, 0);
  });

  it('accepts what the schemas allow, readOnly fields aside (a ruleset without id/version)', async () => {
    const r = await call(cf, 'POST', `/zones/${cf.zone.id}/rulesets`, {
      kind: 'zone', phase: 'http_request_firewall_custom', name: 'default', rules: [{ action: 'block', expression: 'true', ref: 'r1' }],
    });
    assert.strictEqual(r.status, 200, JSON.stringify(r.json));
    assert.match(r.json.result.id, /^[0-9a-f]{32}$/);
    assert.strictEqual(r.json.result.rules[0].ref, 'r1');
    const ep = await call(cf, 'GET', `/zones/${cf.zone.id}/rulesets/phases/http_request_firewall_custom/entrypoint`);
    assert.strictEqual(ep.json.result.id, r.json.result.id);
    assert.deepStrictEqual(cf.invalidRequests(), []);
  });

  it('requires the bearer token: none -> 401 code 10000, wrong -> 401 code 9109; /ips is public', async () => {
    const none = await call(cf, 'GET', '/user/tokens/verify', undefined, null);
    assert.deepStrictEqual([none.status, none.json.errors[0].code], [401, 10000]);
    const wrong = await call(cf, 'GET', '/user/tokens/verify', undefined, 'nope');
    assert.deepStrictEqual([wrong.status, wrong.json.errors[0].code, wrong.json.success], [401, 9109, false]);
    const ips = await call(cf, 'GET', '/ips', undefined, null);
    assert.strictEqual(ips.status, 200);
    assert.ok(ips.json.result.ipv4_cidrs.length > 5);
    assert.ok(cf.requests.every(r => !JSON.stringify(r.headers).includes(FAKE_TOKEN)), 'the recorded headers hide the token');
  });

  it('denies calls the token has no permission for with 403 code 10000, and injects errors once', async () => {
    cf.setPermissions(['Zone Read', 'Zone Settings Write']);
    const denied = await call(cf, 'GET', `/zones/${cf.zone.id}/rulesets/phases/http_request_firewall_custom/entrypoint`);
    assert.deepStrictEqual([denied.status, denied.json.errors[0].code], [403, 10000]);
    const allowed = await call(cf, 'GET', `/zones/${cf.zone.id}/settings/ssl`);
    assert.strictEqual(allowed.status, 200);
    cf.failNext({ method: 'GET', pathPattern: /\/settings\/ssl$/, status: 429, code: 971, message: 'Please wait' });
    const injected = await call(cf, 'GET', `/zones/${cf.zone.id}/settings/ssl`);
    assert.deepStrictEqual([injected.status, injected.json.errors[0].code], [429, 971]);
    assert.strictEqual((await call(cf, 'GET', `/zones/${cf.zone.id}/settings/ssl`)).status, 200);
  });

  it('enforces Cloudflare\'s rules: 5 CAs per account (1489), leaf only per hostname (1412), key must match', async () => {
    const { clientCa, pullCa, pullLeaf, otherCa } = await testPki();
    cf.caLimit = 1;
    assert.strictEqual((await call(cf, 'POST', `/accounts/${cf.accountId}/mtls_certificates`, { ca: true, certificates: clientCa.certPem })).status, 200);
    const over = await call(cf, 'POST', `/accounts/${cf.accountId}/mtls_certificates`, { ca: true, certificates: otherCa.certPem });
    assert.deepStrictEqual([over.status, over.json.errors[0].code], [400, 1489]);
    const ca = await call(cf, 'POST', `/zones/${cf.zone.id}/origin_tls_client_auth/hostnames/certificates`, { certificate: pullCa.certPem, private_key: pullCa.keyPem });
    assert.deepStrictEqual([ca.status, ca.json.errors[0].code], [400, 1412]);
    const mismatch = await call(cf, 'POST', `/zones/${cf.zone.id}/origin_tls_client_auth`, { certificate: pullLeaf.certPem, private_key: pullCa.keyPem });
    assert.strictEqual(mismatch.status, 400);
  });

  it('runs standalone and prints its URL', async function () {
    const script = path.join(__dirname, '../../support/fakeCloudflare.js');
    const child = child_process.spawn(process.execPath, [script, '--port', '0', '--zone', 'standalone.example'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', d => { out += d; const line = out.split('\n')[0]; if (out.includes('\n')) resolve(line); });
        child.on('exit', code => reject(new Error(`exited ${code}`)));
      });
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/client\/v4$/);
      const res = await fetch(`${url}/zones?name=standalone.example`, { headers: { authorization: `Bearer ${FAKE_TOKEN}` } });
      const json = await res.json() as { result: { name: string }[] };
      assert.strictEqual(json.result[0].name, 'standalone.example');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
