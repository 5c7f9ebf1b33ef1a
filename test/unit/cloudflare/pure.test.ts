import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import {
  buildWafExpression, cloudflareIpAllowlist, CLOUDFLARE_ORIGIN_PULL_CA_PEM, CLOUDFLARE_ORIGIN_PULL_CA_SHA256, explainCloudflareError,
  normalizeExpression, normalizeFingerprint, originConfigSnippet, planSteps, SetupStatus, STEP_IDS, STEP_META, MAX_EXPRESSION_LENGTH,
} from '../../../src/core/cloudflare';
import { hostnamesInExpression } from '../../../src/core/cloudflare/plan';
import { curlFor, lit, plannedCall } from '../../../src/core/cloudflare/calls';
import { certInfo, sameCertificate, subjectKeyIdentifier } from '../../../src/core/cloudflare/x509';
import { MtlsError } from '../../../src/core/errors';
import { testPki } from './certs';

const FP1 = 'AF:36:3D:C8:5B:C9:42:A8:92:D3:CE:E9:79:61:90:FD:B3:6D:89:CD:58:8A:4F:1C:B1:7C:74:A9:43:43:97:14';
const FP2 = '0000000000000000000000000000000000000000000000000000000000000001';

describe('cloudflare: WAF expression builder', () => {
  it('builds the documented rule for one or several hostnames, sorted and de-duplicated', () => {
    assert.strictEqual(buildWafExpression({ hostnames: ['api.example.com'] }),
      '(http.host in {"api.example.com"} and not cf.tls_client_auth.cert_verified)');
    assert.strictEqual(buildWafExpression({ hostnames: ['b.example.com', 'A.example.com.', 'b.example.com'] }),
      '(http.host in {"a.example.com" "b.example.com"} and not cf.tls_client_auth.cert_verified)');
  });

  it('adds issuer pinning with the SKI in uppercase hex', () => {
    const e = buildWafExpression({ hostnames: ['api.example.com'], issuerSki: '82:04:92:4c:f4:9d' });
    assert.strictEqual(e, '(http.host in {"api.example.com"} and not cf.tls_client_auth.cert_verified) or ' +
      '(http.host in {"api.example.com"} and cf.tls_client_auth.cert_issuer_ski ne "8204924CF49D")');
  });

  it('blocks revoked certificates by SHA-256 fingerprint in lowercase hex, sorted', () => {
    const e = buildWafExpression({ hostnames: ['api.example.com'], revokedFingerprints: [FP1, FP2, FP1.toLowerCase()] });
    assert.strictEqual(e, '(http.host in {"api.example.com"} and not cf.tls_client_auth.cert_verified) or ' +
      '(http.host in {"api.example.com"} and cf.tls_client_auth.cert_fingerprint_sha256 in ' +
      `{"${FP2}" "af363dc85bc942a892d3cee9796190fdb36d89cd588a4f1cb17c74a943439714"})`);
  });

  it('is stable: the same input gives the same string whatever the order', () => {
    const a = buildWafExpression({ hostnames: ['x.example.com', 'y.example.com'], revokedFingerprints: [FP1, FP2], issuerSki: 'AB' });
    const b = buildWafExpression({ hostnames: ['y.example.com', 'x.example.com'], revokedFingerprints: [FP2, FP1], issuerSki: 'ab' });
    assert.strictEqual(a, b);
    assert.strictEqual(normalizeExpression(`  ${a.replace(/ /g, '   ')} `), normalizeExpression(a));
  });

  it('refuses wildcards, bad hostnames, bad fingerprints, no hostname, and expressions over the limit', () => {
    assert.throws(() => buildWafExpression({ hostnames: ['*.example.com'] }), (e: MtlsError) => e.code === 'usage' && /wildcard/.test(e.message));
    assert.throws(() => buildWafExpression({ hostnames: ['bad host"'] }), /not a valid hostname/);
    assert.throws(() => buildWafExpression({ hostnames: [] }), /At least one hostname/);
    assert.throws(() => buildWafExpression({ hostnames: ['a.example.com'], revokedFingerprints: ['abc'] }), /not a SHA-256 fingerprint/);
    assert.throws(() => buildWafExpression({ hostnames: ['a.example.com'], issuerSki: 'xyz' }), /not a hex Subject Key Identifier/);
    const many = Array.from({ length: 80 }, (_, i) => crypto.createHash('sha256').update(String(i)).digest('hex'));
    assert.throws(() => buildWafExpression({ hostnames: ['a.example.com'], revokedFingerprints: many }),
      (e: MtlsError) => e.code === 'expression-too-long' && e.message.includes(String(MAX_EXPRESSION_LENGTH)));
  });

  it('normalizes fingerprints and reads hostnames back from an expression', () => {
    assert.strictEqual(normalizeFingerprint(FP1), 'af363dc85bc942a892d3cee9796190fdb36d89cd588a4f1cb17c74a943439714');
    assert.deepStrictEqual(hostnamesInExpression(buildWafExpression({ hostnames: ['b.example.com', 'a.example.com'] })), ['a.example.com', 'b.example.com']);
    assert.deepStrictEqual(hostnamesInExpression('ip.src eq 1.1.1.1'), []);
  });
});

describe('cloudflare: certificates', () => {
  it('reads fingerprint, decimal serial, CA flag and SKI, and matches Cloudflare records by PEM or serial', async () => {
    const { clientCa, pullLeaf } = await testPki();
    const ca = certInfo(clientCa.certPem);
    assert.strictEqual(ca.isCa, true);
    assert.strictEqual(certInfo(pullLeaf.certPem).isCa, false);
    assert.match(ca.fingerprint256, /^[0-9a-f]{64}$/);
    assert.strictEqual(ca.serialDecimal, BigInt('0x' + ca.serialHex).toString(10));
    // The SKI the DER walk finds is the one @peculiar/x509 wrote.
    const x509 = await import('@peculiar/x509');
    const ext = clientCa.cert.getExtension(x509.SubjectKeyIdentifierExtension)!;
    assert.strictEqual(ca.ski, ext.keyId.toUpperCase());
    assert.strictEqual(sameCertificate(ca, { certificates: clientCa.certPem }), true);
    assert.strictEqual(sameCertificate(ca, { certificates: pullLeaf.certPem }), false);
    assert.strictEqual(sameCertificate(ca, { serial_number: ca.serialDecimal, issuer: 'CN=Workspace Client CA, O=x' }), true);
    assert.strictEqual(sameCertificate(ca, { serial_number: ca.serialDecimal, issuer: 'CN=Someone Else' }), false);
  });

  it('finds no SKI in a certificate without one and does not throw on garbage', () => {
    assert.strictEqual(subjectKeyIdentifier(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])), undefined);
    assert.strictEqual(subjectKeyIdentifier(Buffer.from('not der')), undefined);
    assert.throws(() => certInfo('nothing here'), /not a PEM certificate/);
  });

  it('embeds Cloudflare\'s origin-pull CA exactly as published', () => {
    const fixture = fs.readFileSync(path.join(__dirname, '../../../../test/fixtures/cloudflare/authenticated_origin_pull_ca.pem'), 'utf8');
    assert.strictEqual(CLOUDFLARE_ORIGIN_PULL_CA_PEM.trim(), fixture.trim());
    const x = new crypto.X509Certificate(CLOUDFLARE_ORIGIN_PULL_CA_PEM);
    assert.strictEqual(x.fingerprint256, CLOUDFLARE_ORIGIN_PULL_CA_SHA256);
    assert.match(x.subject, /CN=origin-pull\.cloudflare\.net/);
  });
});

describe('cloudflare: explaining errors', () => {
  const apiError = (status: number, code: number, message: string) => Object.assign(new Error(`${status} ${message}`), { status, errors: [{ code, message }] });

  it('gives code, message and meaning for 1489, 1412, 10000, 9109', () => {
    const e1489 = explainCloudflareError(apiError(400, 1489, 'too many CAs'));
    assert.strictEqual(e1489.code, 1489);
    assert.match(e1489.meaning, /at most|most CAs|5/);
    const e1412 = explainCloudflareError(apiError(400, 1412, 'CA not allowed'));
    assert.match(e1412.meaning, /leaf certificate/);
    const e10000 = explainCloudflareError(apiError(403, 10000, 'Authentication error'), 'waf-rule');
    assert.strictEqual(e10000.permission, 'Zone > Zone WAF > Edit');
    assert.match(e10000.meaning, /Zone > Zone WAF > Edit/);
    // 401: the token itself was not accepted (not a permission to add).
    const e9109 = explainCloudflareError(apiError(401, 9109, 'Invalid access token'), 'ssl-mode');
    assert.match(e9109.meaning, /token was not accepted/);
    assert.strictEqual(e9109.kind, 'auth');
    assert.strictEqual(e9109.permission, undefined);
    // 403 with 9109: accepted, but not for this account or zone.
    const e9109b = explainCloudflareError(apiError(403, 9109, 'Unauthorized to access requested resource'), 'ssl-mode');
    assert.strictEqual(e9109b.kind, 'permission');
    assert.strictEqual(e9109b.permission, 'Zone > Zone Settings > Edit');
  });

  it('explains a bare 403, 429, 5xx, a network error and an unknown error, and never shows the token', () => {
    assert.match(explainCloudflareError({ status: 403, errors: [] }, 'upload-ca').meaning, /Account > SSL and Certificates > Edit/);
    assert.match(explainCloudflareError({ status: 429, errors: [] }).meaning, /Rate limited/);
    assert.match(explainCloudflareError({ status: 502, errors: [] }).meaning, /internal error/);
    class APIConnectionError extends Error {}
    assert.match(explainCloudflareError(new APIConnectionError('fetch failed')).message, /Cannot reach the Cloudflare API/);
    const u = explainCloudflareError(apiError(400, 4242, 'odd'));
    assert.strictEqual(u.code, 4242);
    assert.match(u.meaning, /HTTP 400, code 4242/);
    const secret = 'super-secret-token-value-123';
    const r = explainCloudflareError(new Error(`bad header Bearer ${secret}`), undefined, undefined, secret);
    assert.ok(!r.message.includes(secret));
  });
});

describe('cloudflare: origin config and IP allowlists', () => {
  const ranges = { ipv4: ['173.245.48.0/20', '103.21.244.0/22'], ipv6: ['2400:cb00::/32'], etag: 'abc' };

  it('writes the nginx and Apache blocks that require the origin-pull certificate', () => {
    const n = originConfigSnippet('nginx', { caPath: '/etc/ssl/cf.pem', hostname: 'api.example.com' });
    assert.match(n, /ssl_client_certificate \/etc\/ssl\/cf\.pem;/);
    assert.match(n, /ssl_verify_client on;/);
    assert.match(n, /server_name api\.example\.com;/);
    const a = originConfigSnippet('apache', { caPath: '/etc/ssl/cf.pem', hostname: 'api.example.com', certPath: '/c.pem', keyPath: '/k.pem' });
    assert.match(a, /SSLVerifyClient require/);
    assert.match(a, /SSLCACertificateFile \/etc\/ssl\/cf\.pem/);
    assert.match(a, /SSLCertificateFile \/c\.pem/);
  });

  it('writes allowlists for nginx, nginx real IP, Apache, ufw and iptables', () => {
    const nginx = cloudflareIpAllowlist('nginx', ranges);
    assert.deepStrictEqual(nginx.split('\n').filter(l => l && !l.startsWith('#')), ['allow 173.245.48.0/20;', 'allow 103.21.244.0/22;', 'allow 2400:cb00::/32;', 'deny all;']);
    assert.match(cloudflareIpAllowlist('nginx-realip', ranges), /set_real_ip_from 2400:cb00::\/32;\nreal_ip_header CF-Connecting-IP;/);
    assert.match(cloudflareIpAllowlist('apache', ranges), /<RequireAny>\n {4}Require ip 173\.245\.48\.0\/20\n[\s\S]*<\/RequireAny>/);
    const ufw = cloudflareIpAllowlist('ufw', ranges, { port: 8443 }).trim().split('\n');
    assert.strictEqual(ufw[ufw.length - 1], 'ufw deny proto tcp from any to any port 8443');
    assert.ok(ufw.includes("ufw allow proto tcp from 2400:cb00::/32 to any port 8443 comment 'Cloudflare'"));
    const ipt = cloudflareIpAllowlist('iptables', ranges);
    assert.match(ipt, /iptables -A INPUT -p tcp --dport 443 -s 103\.21\.244\.0\/22 -j ACCEPT\niptables -A INPUT -p tcp --dport 443 -j DROP/);
    assert.match(ipt, /ip6tables -A INPUT -p tcp --dport 443 -s 2400:cb00::\/32 -j ACCEPT\nip6tables -A INPUT -p tcp --dport 443 -j DROP/);
  });
});

describe('cloudflare: planned calls', () => {
  it('shows SDK and curl forms with $CLOUDFLARE_API_TOKEN and without private keys', () => {
    const call = plannedCall({
      method: 'POST', path: '/zones/z/origin_tls_client_auth', body: { certificate: 'CERT', private_key: '-----BEGIN PRIVATE KEY-----\nsecret' },
      sdkMethod: 'originTLSClientAuth.zoneCertificates.create', sdkArgs: [{ zone_id: 'z', certificate: 'CERT' }], description: 'x',
    }, 'https://api.cloudflare.com/client/v4/');
    assert.ok(!JSON.stringify(call).includes('secret'));
    assert.match(call.curl, /Authorization: Bearer \$CLOUDFLARE_API_TOKEN/);
    assert.match(call.curl, /jq -n --rawfile certificate/);
    assert.match(call.curl, /'https:\/\/api\.cloudflare\.com\/client\/v4\/zones\/z\/origin_tls_client_auth'/);
    assert.strictEqual(call.sdk, "await client.originTLSClientAuth.zoneCertificates.create({ zone_id: 'z', certificate: 'CERT' })");
  });

  it('quotes bodies for the shell', () => {
    const c = curlFor('PATCH', 'https://x/y', { description: "it's" });
    assert.ok(c.includes(`--data '{"description":"it'\\''s"}'`));
    assert.strictEqual(lit({ a: [1, 'b'], 'x-y': null, u: undefined }), "{ a: [1, 'b'], 'x-y': null }");
  });

  it('planSteps returns each step\'s calls, empty for steps without any', () => {
    const status = { steps: STEP_IDS.map(id => ({ id, plannedCalls: id === 'ssl-mode' ? [{ method: 'PATCH', path: '/p', sdk: '', curl: '' }] : [] })) } as unknown as SetupStatus;
    const plan = planSteps(status);
    assert.deepStrictEqual(Object.keys(plan), [...STEP_IDS]);
    assert.strictEqual(plan['ssl-mode'].length, 1);
    assert.strictEqual(plan.connect.length, 0);
    for (const id of STEP_IDS) assert.ok(STEP_META[id].title && STEP_META[id].dashboardPath && STEP_META[id].explanation);
  });
});

describe('cloudflare: the step catalogue lives once', () => {
  const fs = require('fs') as typeof import('fs');
  const path = require('path') as typeof import('path');
  const root = path.join(__dirname, '../../../..');

  it('the webview, status bar and tree carry no copy of step titles or status marks', () => {
    const { STEP_META } = require('../../../src/core/cloudflare/steps') as typeof import('../../../src/core/cloudflare/steps');
    for (const file of ['src/webview/guide.ts', 'src/extension/guide/statusBar.ts', 'src/extension/explorer/tree.ts', 'src/extension/guide/controller.ts']) {
      const text = fs.readFileSync(path.join(root, file), 'utf8');
      for (const m of Object.values(STEP_META)) assert.ok(!text.includes(`'${m.title}'`), `${file} repeats the title "${m.title}"`);
      assert.doesNotMatch(text, /done: '✓', todo: '✗'/, `${file} repeats the status marks`);
    }
  });

  it('plan gating: only Enterprise may upload its own CA', () => {
    const { planAllowsOwnCa } = require('../../../src/core/cloudflare/steps') as typeof import('../../../src/core/cloudflare/steps');
    assert.strictEqual(planAllowsOwnCa({ legacyId: 'enterprise', name: 'Enterprise Website' }), true);
    assert.strictEqual(planAllowsOwnCa({ legacyId: 'pro', name: 'Pro Website' }), false);
    assert.strictEqual(planAllowsOwnCa({ name: 'Free Website' }), false);
    assert.strictEqual(planAllowsOwnCa(undefined), undefined);
  });
});
