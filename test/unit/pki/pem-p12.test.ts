import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tls from 'tls';
import {
  CertAndKey, assertKeyMatches, createRootCa, exportPkcs12, inspectCertificate, issueCertificate, keyMatchesCertificate, parseCertificate,
  parseCertificates, parsePrivateKey, readPkcs12,
} from '../../../src/core/pki';
import { pkcs12Kdf } from '../../../src/core/pki/pkcs12';
import { MtlsError } from '../../../src/core/errors';
import { forge } from '../../../src/core/pki/lib';
import { openssl, opensslOk, tmpDir, write } from './helpers';

describe('pki: PEM, keys and PKCS#12', function () {
  this.timeout(120000);
  let dir: string;
  let ca: CertAndKey;
  let rsaLeaf: CertAndKey;
  let ecCa: CertAndKey;
  let ecLeaf: CertAndKey;
  before(async () => {
    dir = tmpDir();
    [ca, ecCa] = await Promise.all([createRootCa({ cn: 'P12 Root', key: 'rsa2048' }), createRootCa({ cn: 'P12 EC Root', key: 'ec-p256' })]);
    [rsaLeaf, ecLeaf] = await Promise.all([issueCertificate(ca, { cn: 'Ünïcode Alice', key: 'rsa2048' }), issueCertificate(ecCa, { cn: 'ec-alice', key: 'ec-p256' })]);
    write(path.join(dir, 'ca.pem'), ca.certPem);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('reading PEM and DER', () => {
    it('reads PEM, DER and bundles, and names the file in every error', () => {
      const der = new crypto.X509Certificate(rsaLeaf.certPem).raw;
      assert.strictEqual(parseCertificate(der), rsaLeaf.certPem);
      assert.deepStrictEqual(parseCertificates(rsaLeaf.certPem + ca.certPem), [rsaLeaf.certPem, ca.certPem]);
      assert.strictEqual(parseCertificate(Buffer.from(rsaLeaf.keyPem + rsaLeaf.certPem)), rsaLeaf.certPem, 'a key before the certificate is skipped');
      const truncated = rsaLeaf.certPem.slice(0, 300);
      const cases: [string | Buffer, RegExp][] = [
        [truncated, /client\.pem is not a valid PEM file: a "-----BEGIN" line has no matching "-----END" line/],
        [rsaLeaf.certPem.replace(/^(-----BEGIN CERTIFICATE-----\n)(.{10})/, '$1!!!!!!!!!!'), /client\.pem is not a valid PEM file: the CERTIFICATE block is not base64/],
        [rsaLeaf.certPem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\n'), /client\.pem holds a CERTIFICATE block that is not a valid X\.509 certificate/],
        [rsaLeaf.keyPem, /client\.pem holds no certificate \(it holds: PRIVATE KEY\)/],
        ['hello world', /client\.pem holds no PEM certificate/],
        [Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]), /client\.pem is neither a PEM certificate nor a DER certificate/],
        [Buffer.alloc(0), /client\.pem is empty/],
      ];
      for (const [data, re] of cases) {
        assert.throws(() => parseCertificate(data, 'client.pem'), (e: MtlsError) => e instanceof MtlsError && e.code === 'bad-pem' && re.test(e.message), String(re));
      }
    });

    it('reads PKCS#8, PKCS#1 and SEC1 keys, PEM or DER, and refuses what is not a key', () => {
      const rsa = crypto.createPrivateKey(rsaLeaf.keyPem);
      const ec = crypto.createPrivateKey(ecLeaf.keyPem);
      for (const k of [
        rsa.export({ type: 'pkcs1', format: 'pem' }), rsa.export({ type: 'pkcs1', format: 'der' }), rsa.export({ type: 'pkcs8', format: 'der' }),
      ]) assert.strictEqual(parsePrivateKey(k), rsaLeaf.keyPem);
      for (const k of [ec.export({ type: 'sec1', format: 'pem' }), ec.export({ type: 'sec1', format: 'der' })]) assert.strictEqual(parsePrivateKey(k), ecLeaf.keyPem);
      assert.throws(() => parsePrivateKey(rsaLeaf.certPem, 'x.key'), (e: MtlsError) => e.code === 'bad-key' && /x\.key holds no private key/.test(e.message));
      const enc = rsa.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' });
      assert.throws(() => parsePrivateKey(enc, 'enc.key'), (e: MtlsError) => e.code === 'bad-key' && /encrypted/.test(e.message));
      assert.throws(() => parsePrivateKey(Buffer.from('garbage'), 'g.key'), (e: MtlsError) => e.code === 'bad-key' && /g\.key/.test(e.message));
    });

    it('tells whether a key matches a certificate', () => {
      assert.strictEqual(keyMatchesCertificate(rsaLeaf.certPem, rsaLeaf.keyPem), true);
      assert.strictEqual(keyMatchesCertificate(rsaLeaf.certPem, ca.keyPem), false);
      assert.strictEqual(keyMatchesCertificate(rsaLeaf.certPem, ecLeaf.keyPem), false);
      assert.throws(() => assertKeyMatches(rsaLeaf.certPem, ca.keyPem, 'ca.key', 'alice.pem'), (e: MtlsError) => e.code === 'key-mismatch' && /The key ca\.key does not match the certificate alice\.pem/.test(e.message));
    });
  });

  describe('PKCS#12', () => {
    it('computes the PKCS#12 KDF like forge (SHA-1 and SHA-256)', () => {
      const f = forge();
      const salt = crypto.randomBytes(8);
      for (const [md, n] of [['sha1', 24], ['sha256', 32], ['sha1', 5]] as const) {
        const ours = pkcs12Kdf('pässwörd', salt, 1, 100, n, md);
        const theirs = Buffer.from(f.pkcs12.generateKey('pässwörd', f.util.createBuffer(salt.toString('binary')), 1, 100, n, md === 'sha1' ? f.md.sha1.create() : f.md.sha256.create()).getBytes(), 'binary');
        assert.deepStrictEqual(ours, theirs, md);
      }
    });

    for (const [label, leafName] of [['RSA', 'rsa'], ['EC', 'ec']] as const) {
      it(`writes a modern ${label} p12 that OpenSSL 3 opens without -legacy and Node's TLS loads`, async () => {
        const leaf = leafName === 'rsa' ? rsaLeaf : ecLeaf;
        const chain = leafName === 'rsa' ? ca : ecCa;
        const p12 = await exportPkcs12({ certPem: leaf.certPem, keyPem: leaf.keyPem, chainPems: [chain.certPem], password: 'correct hörse', friendlyName: 'Alice laptop' });
        const file = write(path.join(dir, `${leafName}-modern.p12`), p12);
        const env = { P12PW: 'correct hörse' };
        const info = openssl(['pkcs12', '-info', '-nokeys', '-in', file, '-passin', 'env:P12PW'], { env });
        assert.strictEqual(info.status, 0, info.stderr);
        assert.match(info.stderr + info.stdout, /MAC: sha256/);
        assert.match(info.stderr + info.stdout, /AES-256-CBC/);
        assert.match(info.stdout, /friendlyName: Alice laptop/);
        assert.strictEqual((info.stdout.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, 'the chain is included');
        const all = opensslOk(['pkcs12', '-in', file, '-passin', 'env:P12PW', '-nodes'], { env });
        assert.match(all, /BEGIN PRIVATE KEY/);
        assert.doesNotThrow(() => tls.createSecureContext({ pfx: p12, passphrase: 'correct hörse' }));
        assert.throws(() => tls.createSecureContext({ pfx: p12, passphrase: 'wrong' }));
        const back = readPkcs12(p12, 'correct hörse');
        assert.strictEqual(back.certPem, leaf.certPem);
        assert.strictEqual(back.keyPem, leaf.keyPem);
        assert.deepStrictEqual(back.chainPems, [chain.certPem]);
        assert.strictEqual(back.friendlyName, 'Alice laptop');
      });
    }

    it('writes a legacy p12 (3DES key, RC2-40 certificates, SHA-1 MAC) that needs -legacy on OpenSSL 3', async () => {
      const p12 = await exportPkcs12({ certPem: rsaLeaf.certPem, keyPem: rsaLeaf.keyPem, chainPems: [ca.certPem], password: 'pw', flavor: 'legacy' });
      const file = write(path.join(dir, 'legacy.p12'), p12);
      const env = { P12PW: 'pw' };
      const without = openssl(['pkcs12', '-info', '-nokeys', '-in', file, '-passin', 'env:P12PW'], { env });
      assert.notStrictEqual(without.status, 0, 'OpenSSL 3 refuses RC2 without the legacy provider');
      const withLegacy = openssl(['pkcs12', '-legacy', '-info', '-in', file, '-passin', 'env:P12PW', '-nodes'], { env });
      assert.strictEqual(withLegacy.status, 0, withLegacy.stderr);
      assert.match(withLegacy.stderr, /MAC: sha1/);
      assert.match(withLegacy.stderr, /Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC/);
      assert.match(withLegacy.stderr, /pbeWithSHA1And40BitRC2-CBC/);
      assert.match(withLegacy.stdout, /BEGIN PRIVATE KEY/);
      assert.strictEqual((withLegacy.stdout.match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
      const back = readPkcs12(p12, 'pw');
      assert.strictEqual(back.certPem, rsaLeaf.certPem);
      assert.strictEqual(back.friendlyName, 'Ünïcode Alice', 'the CN is the default friendly name');
      // EC keys in a legacy bundle too
      const ec = await exportPkcs12({ certPem: ecLeaf.certPem, keyPem: ecLeaf.keyPem, password: 'pw', flavor: 'legacy' });
      assert.strictEqual(openssl(['pkcs12', '-legacy', '-in', write(path.join(dir, 'ec-legacy.p12'), ec), '-passin', 'env:P12PW', '-nodes'], { env }).status, 0);
    });

    it('reads bundles written by openssl (modern and legacy)', () => {
      write(path.join(dir, 'a.pem'), rsaLeaf.certPem);
      write(path.join(dir, 'a.key'), rsaLeaf.keyPem);
      const env = { P12PW: 'pässword' };
      for (const legacy of [false, true]) {
        const out = path.join(dir, `openssl-${legacy}.p12`);
        opensslOk(['pkcs12', '-export', ...(legacy ? ['-legacy'] : []), '-in', path.join(dir, 'a.pem'), '-inkey', path.join(dir, 'a.key'), '-certfile', path.join(dir, 'ca.pem'), '-name', 'from openssl', '-passout', 'env:P12PW', '-out', out], { env });
        const r = readPkcs12(fs.readFileSync(out), 'pässword');
        assert.strictEqual(r.certPem, rsaLeaf.certPem);
        assert.strictEqual(r.keyPem, rsaLeaf.keyPem);
        assert.deepStrictEqual(r.chainPems, [ca.certPem]);
        assert.strictEqual(r.friendlyName, 'from openssl');
      }
    });

    it('reads BER as Windows and Java write it (indefinite lengths, constructed OCTET STRINGs) with the one ASN.1 reader', async () => {
      const der = await exportPkcs12({ certPem: ecLeaf.certPem, keyPem: ecLeaf.keyPem, password: 'pw', friendlyName: 'Ünïcode name' });
      // PFX ::= SEQUENCE { version, authSafe ContentInfo { data, [0] OCTET STRING }, macData }: re-encode the
      // outer SEQUENCE, the ContentInfo and its [0] with indefinite lengths and the OCTET STRING as 3 chunks.
      const len = (n: number) => n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
      const tlv = (tag: number, c: Buffer) => Buffer.concat([Buffer.from([tag]), len(c.length), c]);
      const indefinite = (tag: number, ...parts: Buffer[]) => Buffer.concat([Buffer.from([tag, 0x80]), ...parts, Buffer.from([0, 0])]);
      const D = await import('../../../src/core/pki/der');
      const outer = D.readTlv(der, 0);
      const [version, authSafe, macData] = D.children(der, outer);
      const [ctOid, ctExplicit] = D.children(der, authSafe);
      const octet = D.children(der, ctExplicit)[0];
      const data = D.content(der, octet);
      const third = Math.ceil(data.length / 3);
      const chunks = [data.subarray(0, third), data.subarray(third, 2 * third), data.subarray(2 * third)].map(c => tlv(0x04, c));
      const ber = indefinite(0x30, D.whole(der, version), indefinite(0x30, D.whole(der, ctOid), indefinite(0xa0, indefinite(0x24, ...chunks))), D.whole(der, macData));
      assert.notDeepStrictEqual(ber, der);
      const r = readPkcs12(ber, 'pw');
      assert.strictEqual(r.certPem, ecLeaf.certPem);
      assert.strictEqual(r.keyPem, ecLeaf.keyPem);
      assert.strictEqual(r.friendlyName, 'Ünïcode name');
      // openssl agrees that this is the same bundle
      const env = { P12PW: 'pw' };
      assert.match(opensslOk(['pkcs12', '-in', write(path.join(dir, 'ber.p12'), ber), '-passin', 'env:P12PW', '-nokeys'], { env }), /BEGIN CERTIFICATE/);
      // hostile BER: unterminated and too deeply nested indefinite lengths are refused, not followed
      assert.throws(() => readPkcs12(Buffer.from([0x30, 0x80, 0x30, 0x80]), 'x'), (e: MtlsError) => e.code === 'p12-format');
      assert.throws(() => readPkcs12(Buffer.concat([Buffer.alloc(200, 0x30).map((_, i) => (i % 2 ? 0x80 : 0x30)), Buffer.alloc(200, 0)]), 'x'), (e: MtlsError) => e.code === 'p12-format' && /nested too deeply/.test(e.message));
    });

    it('says clearly when the password is wrong or the file is no p12', async () => {
      const p12 = await exportPkcs12({ certPem: ecLeaf.certPem, keyPem: ecLeaf.keyPem, password: 'right' });
      assert.throws(() => readPkcs12(p12, 'wrong'), (e: MtlsError) => e.code === 'p12-password' && /password is wrong/.test(e.message));
      assert.throws(() => readPkcs12(Buffer.from(ecLeaf.certPem), 'x'), (e: MtlsError) => e.code === 'p12-format' && /not a readable PKCS#12/.test(e.message));
      assert.throws(() => readPkcs12(new crypto.X509Certificate(ecLeaf.certPem).raw, 'x'), (e: MtlsError) => e.code === 'p12-format');
    });

    it('refuses an empty password and a key that does not match', async () => {
      await assert.rejects(exportPkcs12({ certPem: ecLeaf.certPem, keyPem: ecLeaf.keyPem, password: '' }), (e: MtlsError) => e.code === 'bad-option' && /password/.test(e.message));
      await assert.rejects(exportPkcs12({ certPem: ecLeaf.certPem, keyPem: rsaLeaf.keyPem, password: 'x' }), (e: MtlsError) => e.code === 'key-mismatch' && /does not match/.test(e.message));
    });

    it('keeps fingerprints stable through export and import', async () => {
      const p12 = await exportPkcs12({ certPem: rsaLeaf.certPem, keyPem: rsaLeaf.keyPem, password: 'x' });
      assert.strictEqual(inspectCertificate(readPkcs12(p12, 'x').certPem).sha256, inspectCertificate(rsaLeaf.certPem).sha256);
    });
  });
});
