import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import {
  CertAndKey, createRootCa, inspectCertificate, issueCertificate, parseCsr, parseSan, signCsr, verifyCertificate, generateKey,
} from '../../../src/core/pki';
import { MtlsError } from '../../../src/core/errors';
import { openssl, opensslOk, tmpDir, write } from './helpers';

describe('pki: certificates', function () {
  this.timeout(120000);
  let dir: string;
  let rsaCa: CertAndKey;
  let ecCa: CertAndKey;
  before(async () => {
    dir = tmpDir();
    [rsaCa, ecCa] = await Promise.all([
      createRootCa({ cn: 'Test Root, RSA', org: 'Acme Corp', key: 'rsa2048' }),
      createRootCa({ cn: 'Test Root EC', key: 'ec-p384', days: 30 }),
    ]);
    write(path.join(dir, 'rsa-ca.pem'), rsaCa.certPem);
    write(path.join(dir, 'ec-ca.pem'), ecCa.certPem);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates an RSA root CA with the extensions openssl expects', () => {
    const text = opensslOk(['x509', '-in', path.join(dir, 'rsa-ca.pem'), '-noout', '-text']);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
    assert.match(text, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    assert.match(text, /X509v3 Subject Key Identifier/);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.match(text, /Subject: O = Acme Corp, CN = "Test Root, RSA"/);
    const info = inspectCertificate(rsaCa.certPem);
    assert.strictEqual(info.isCa, true);
    assert.strictEqual(info.selfSigned, true);
    assert.strictEqual(info.profile, 'ca');
    assert.deepStrictEqual(info.keyUsage, ['keyCertSign', 'cRLSign']);
    assert.strictEqual(info.keyUsageCritical, true);
    assert.deepStrictEqual(info.basicConstraints, { ca: true, pathLength: undefined, critical: true });
    assert.ok(info.daysLeft >= 3649 && info.daysLeft <= 3650, String(info.daysLeft));
    assert.strictEqual(info.subjectCn, 'Test Root, RSA');
    assert.strictEqual(info.subjectOrg, 'Acme Corp');
  });

  it('creates an RSA 4096 CA by default', async () => {
    const ca = await createRootCa({ cn: 'Default' });
    const info = inspectCertificate(ca.certPem);
    assert.strictEqual(info.keyType, 'RSA');
    assert.strictEqual(info.keyBits, 4096);
    assert.strictEqual(info.signatureAlgorithm, 'sha256WithRSAEncryption');
  });

  it('creates an ECDSA P-384 CA signed with SHA-384', () => {
    const info = inspectCertificate(ecCa.certPem);
    assert.strictEqual(info.keyType, 'EC');
    assert.strictEqual(info.curve, 'P-384');
    assert.strictEqual(info.signatureAlgorithm, 'ecdsa-with-SHA384');
    assert.strictEqual(info.daysLeft, 29);
    const text = opensslOk(['x509', '-in', path.join(dir, 'ec-ca.pem'), '-noout', '-text']);
    assert.match(text, /ecdsa-with-SHA384/);
    assert.match(text, /NIST CURVE: P-384/);
  });

  for (const [caName, leafKey] of [['rsa', 'rsa2048'], ['rsa', 'ec-p256'], ['ec', 'ec-p256'], ['ec', 'rsa2048']] as const) {
    it(`issues a client certificate (${leafKey}) from the ${caName.toUpperCase()} CA that openssl verifies`, async () => {
      const ca = caName === 'rsa' ? rsaCa : ecCa;
      const leaf = await issueCertificate(ca, { cn: 'alice@example.com', key: leafKey, sans: ['alice@example.com', 'device-1.example.com', '10.1.2.3', 'spiffe://example.com/alice'] });
      const file = write(path.join(dir, `${caName}-${leafKey}-client.pem`), leaf.certPem);
      const v = openssl(['verify', '-CAfile', path.join(dir, `${caName}-ca.pem`), '-purpose', 'sslclient', file]);
      assert.strictEqual(v.status, 0, v.stderr + v.stdout);
      assert.match(v.stdout, /: OK/);
      const text = opensslOk(['x509', '-in', file, '-noout', '-text']);
      assert.match(text, /X509v3 Extended Key Usage:\s+TLS Web Client Authentication/);
      assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
      assert.match(text, /Digital Signature/);
      assert.match(text, /X509v3 Authority Key Identifier/);
      assert.match(text, /X509v3 Subject Key Identifier/);
      assert.match(text, /email:alice@example.com, DNS:device-1.example.com, IP Address:10.1.2.3, URI:spiffe:\/\/example.com\/alice/);
      const info = inspectCertificate(leaf.certPem);
      const caInfo = inspectCertificate(ca.certPem);
      assert.strictEqual(info.aki, caInfo.ski, 'AKI of the leaf is the SKI of the CA');
      assert.deepStrictEqual(info.extKeyUsage, ['clientAuth']);
      assert.strictEqual(info.profile, 'client');
      assert.strictEqual(info.isCa, false);
      assert.strictEqual(info.keyType, leafKey.startsWith('rsa') ? 'RSA' : 'EC');
      assert.ok(crypto.createPrivateKey(leaf.keyPem));
      assert.ok(verifyCertificate(leaf.certPem, ca.certPem).ok);
    });
  }

  it('uses random positive 128-bit serials and backdates notBefore by about five minutes', async () => {
    const a = inspectCertificate((await issueCertificate(rsaCa, { cn: 'a', key: 'ec-p256' })).certPem);
    const b = inspectCertificate((await issueCertificate(rsaCa, { cn: 'b', key: 'ec-p256', days: 10 })).certPem);
    assert.notStrictEqual(a.serial, b.serial);
    assert.match(a.serial, /^[89A-F][0-9A-F]{31}$/, 'exactly 128 bits, printed without a sign byte');
    const back = Date.now() - a.notBefore.getTime();
    assert.ok(back > 4 * 60000 && back < 6 * 60000, `notBefore is ${back} ms in the past`);
    assert.strictEqual(a.daysLeft, 364);
    assert.strictEqual(b.daysLeft, 9);
    const serial = opensslOk(['x509', '-noout', '-serial'], { input: a.pem });
    assert.strictEqual(serial.trim(), `serial=${a.serial}`);
  });

  it('issues origin-pull (clientAuth leaf) and server (serverAuth + SANs) certificates', async () => {
    const op = inspectCertificate((await issueCertificate(rsaCa, { cn: 'origin-pull.example.com', profile: 'origin-pull' })).certPem);
    assert.deepStrictEqual(op.extKeyUsage, ['clientAuth']);
    assert.strictEqual(op.isCa, false);
    assert.strictEqual(op.keyBits, 2048);
    const srv = await issueCertificate(rsaCa, { cn: 'localhost', profile: 'server', key: 'ec-p256', sans: ['localhost', '127.0.0.1', '::1'] });
    const info = inspectCertificate(srv.certPem);
    assert.deepStrictEqual(info.extKeyUsage, ['serverAuth']);
    assert.deepStrictEqual(info.sans, [{ type: 'dns', value: 'localhost' }, { type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '::1' }]);
    const file = write(path.join(dir, 'server.pem'), srv.certPem);
    const v = openssl(['verify', '-CAfile', path.join(dir, 'rsa-ca.pem'), '-purpose', 'sslserver', file]);
    assert.strictEqual(v.status, 0, v.stderr);
    // a server certificate without SANs gets its CN as a DNS SAN (clients match SANs only)
    const bare = inspectCertificate((await issueCertificate(rsaCa, { cn: 'www.example.com', profile: 'server', key: 'ec-p256' })).certPem);
    assert.deepStrictEqual(bare.sans, [{ type: 'dns', value: 'www.example.com' }]);
  });

  it('detects SAN types and rejects bad ones', () => {
    assert.deepStrictEqual(parseSan('example.com'), { type: 'dns', value: 'example.com' });
    assert.deepStrictEqual(parseSan('*.Example.com'), { type: 'dns', value: '*.example.com' });
    assert.deepStrictEqual(parseSan('192.0.2.1'), { type: 'ip', value: '192.0.2.1' });
    assert.deepStrictEqual(parseSan('IP:2001:db8::1'), { type: 'ip', value: '2001:db8::1' });
    assert.deepStrictEqual(parseSan('a@b.example'), { type: 'email', value: 'a@b.example' });
    assert.deepStrictEqual(parseSan('https://example.com/x'), { type: 'uri', value: 'https://example.com/x' });
    assert.deepStrictEqual(parseSan('DNS:host'), { type: 'dns', value: 'host' });
    for (const bad of ['not a host', 'IP:999.1.1.1', 'email:nope', 'a..b']) {
      assert.throws(() => parseSan(bad), (e: MtlsError) => e.code === 'bad-option' && e.message.includes(bad));
    }
  });

  it('rejects bad options before generating anything', async () => {
    await assert.rejects(createRootCa({ cn: '' }), (e: MtlsError) => e.code === 'bad-option' && /common name/.test(e.message));
    await assert.rejects(createRootCa({ cn: 'x', key: 'rsa1024' as never }), (e: MtlsError) => e.code === 'bad-option' && /rsa1024/.test(e.message));
    await assert.rejects(createRootCa({ cn: 'x', days: 0 }), (e: MtlsError) => e.code === 'bad-option' && /days/.test(e.message));
    await assert.rejects(issueCertificate(rsaCa, { cn: 'x', profile: 'admin' as never }), (e: MtlsError) => e.code === 'bad-option' && /profile/.test(e.message));
    const leaf = await issueCertificate(rsaCa, { cn: 'leaf', key: 'ec-p256' });
    await assert.rejects(issueCertificate(leaf, { cn: 'x' }), (e: MtlsError) => e.code === 'bad-option' && /not a CA/.test(e.message));
    await assert.rejects(issueCertificate({ certPem: rsaCa.certPem, keyPem: ecCa.keyPem }, { cn: 'x', key: 'ec-p256' }), (e: MtlsError) => e.code === 'key-mismatch');
  });

  it('never lets a leaf outlive its CA', async () => {
    const leaf = inspectCertificate((await issueCertificate(ecCa, { cn: 'long', key: 'ec-p256', days: 400 })).certPem);
    assert.ok(leaf.notAfter.getTime() <= inspectCertificate(ecCa.certPem).notAfter.getTime());
  });

  it('verifies against the right CA only', async () => {
    const leaf = await issueCertificate(ecCa, { cn: 'v', key: 'ec-p256' });
    const ok = verifyCertificate(leaf.certPem, ecCa.certPem);
    assert.deepStrictEqual([ok.ok, ok.signatureValid, ok.issuerMatches, ok.timeValid], [true, true, true, true]);
    const bad = verifyCertificate(leaf.certPem, rsaCa.certPem);
    assert.strictEqual(bad.ok, false);
    assert.strictEqual(bad.signatureValid, false);
    assert.match(bad.problems.join(' '), /did not issue/);
    const late = verifyCertificate(leaf.certPem, ecCa.certPem, new Date(Date.now() + 400 * 86400000));
    assert.strictEqual(late.timeValid, false);
    assert.match(late.problems.join(' '), /expired/);
  });

  it('signs an openssl CSR (RSA and EC) and refuses a tampered one', async () => {
    for (const keyArgs of [['-newkey', 'rsa:2048'], ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']]) {
      const keyFile = path.join(dir, 'csr.key');
      const csrFile = path.join(dir, 'req.csr');
      fs.rmSync(keyFile, { force: true });
      opensslOk(['req', '-new', ...keyArgs, '-nodes', '-keyout', keyFile, '-out', csrFile, '-subj', '/O=Req Org/CN=bob.example.com', '-addext', 'subjectAltName=DNS:bob.example.com,IP:192.0.2.7']);
      const csr = fs.readFileSync(csrFile);
      const info = parseCsr(csr);
      assert.strictEqual(info.signatureValid, true);
      assert.strictEqual(info.subjectCn, 'bob.example.com');
      assert.deepStrictEqual(info.sans, [{ type: 'dns', value: 'bob.example.com' }, { type: 'ip', value: '192.0.2.7' }]);
      const certPem = await signCsr(rsaCa, csr, { profile: 'server' });
      const certFile = write(path.join(dir, 'csr-signed.pem'), certPem);
      assert.strictEqual(openssl(['verify', '-CAfile', path.join(dir, 'rsa-ca.pem'), certFile]).status, 0);
      // the certificate carries the requester's key
      const mod = (args: string[]) => opensslOk(['pkey', ...args, '-pubout']);
      assert.strictEqual(mod(['-in', keyFile]), opensslOk(['x509', '-in', certFile, '-noout', '-pubkey']));
      const ci = inspectCertificate(certPem);
      assert.strictEqual(ci.subject, 'O=Req Org, CN=bob.example.com');
      assert.deepStrictEqual(ci.extKeyUsage, ['serverAuth']);
      assert.strictEqual(ci.sans.length, 2);
    }
    // Tamper: change one byte of the subject inside the DER; the signature no longer verifies.
    const der = Buffer.from(fs.readFileSync(path.join(dir, 'req.csr'), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const i = der.indexOf(Buffer.from('bob.example.com'));
    der[i] = 'c'.charCodeAt(0);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    assert.strictEqual(parseCsr(tampered).signatureValid, false);
    await assert.rejects(signCsr(rsaCa, tampered), (e: MtlsError) => e.code === 'bad-csr' && /signature/.test(e.message));
    await assert.rejects(signCsr(rsaCa, 'hello'), (e: MtlsError) => e.code === 'bad-csr');
  });

  it('generates keys asynchronously without blocking the event loop', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = Date.now();
    await generateKey('rsa2048');
    clearInterval(timer);
    const elapsed = Date.now() - started;
    // a blocking keygen would let no tick through; allow for slow machines
    if (elapsed > 50) assert.ok(ticks >= 2, `only ${ticks} ticks in ${elapsed} ms`);
  });
});
