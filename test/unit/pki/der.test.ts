// The DER layer against OpenSSL as the second implementation: what we encode OpenSSL prints as meant, and
// what OpenSSL encodes we read back the same.
import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { createRootCa, inspectCertificate, issueCertificate } from '../../../src/core/pki';
import * as D from '../../../src/core/pki/der';
import { opensslOk, tmpDir, write } from './helpers';

describe('pki: DER encoding and X.509 parsing', function () {
  this.timeout(120000);
  let dir: string;
  before(() => { dir = tmpDir('mtls-der-'); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('encodes INTEGERs, OIDs, lengths and times canonically', () => {
    assert.strictEqual(D.int(0).toString('hex'), '020100');
    assert.strictEqual(D.int(127).toString('hex'), '02017f');
    assert.strictEqual(D.int(128).toString('hex'), '02020080');
    assert.strictEqual(D.int(65537).toString('hex'), '0203010001');
    assert.strictEqual(D.int(Buffer.from('0000ff', 'hex')).toString('hex'), '020200ff');
    assert.strictEqual(D.oid('1.2.840.113549.1.1.11').toString('hex'), '06092a864886f70d01010b');
    assert.strictEqual(D.oid('2.5.29.37').toString('hex'), '0603551d25');
    assert.strictEqual(D.readOid(D.oid('1.3.6.1.4.1.311.20.2.3'), D.readTlv(D.oid('1.3.6.1.4.1.311.20.2.3'), 0)), '1.3.6.1.4.1.311.20.2.3');
    const long = D.octets(Buffer.alloc(300));
    assert.strictEqual(long.subarray(0, 4).toString('hex'), '0482012c');
    assert.strictEqual(D.time(new Date(Date.UTC(2049, 11, 31, 23, 59, 59))).toString('latin1').slice(2), '491231235959Z');
    assert.strictEqual(D.time(new Date(Date.UTC(2050, 0, 1))).toString('latin1').slice(2), '20500101000000Z');
    assert.strictEqual(D.readTime(D.time(new Date(Date.UTC(2050, 0, 1))), D.readTlv(D.time(new Date(Date.UTC(2050, 0, 1))), 0)).toISOString(), '2050-01-01T00:00:00.000Z');
    assert.strictEqual(D.set(D.int(2), D.int(1)).toString('hex'), '3106020101020102', 'SET OF sorted');
    assert.throws(() => D.readTlv(Buffer.from('3080', 'hex'), 0), /indefinite/);
    assert.throws(() => D.readTlv(Buffer.from('3005', 'hex'), 0), /truncated/);
  });

  it('writes names, SANs (IPv6 too) and key usages the way OpenSSL reads them', async () => {
    const ca = await createRootCa({ cn: 'Zürich, "Root" + CA', org: 'Ünïcødé AG', key: 'ec-p256', days: 36500 });
    const leaf = await issueCertificate(ca, { cn: 'leaf', key: 'rsa2048', profile: 'server', sans: ['2001:db8::1', '::ffff:192.0.2.1', 'fe80::1:2:3:4:5', 'host.example', 'mailto:x@example.com'] });
    const caFile = write(path.join(dir, 'ca.pem'), ca.certPem);
    const leafFile = write(path.join(dir, 'leaf.pem'), leaf.certPem);
    const caText = opensslOk(['x509', '-in', caFile, '-noout', '-subject', '-enddate', '-nameopt', 'RFC2253,-esc_msb']);
    assert.match(caText, /subject=CN=Zürich\\, \\"Root\\" \\\+ CA,O=Ünïcødé AG/);
    assert.match(caText, /notAfter=.* 21\d\d GMT/, 'a date after 2049 is a GeneralizedTime OpenSSL reads');
    const text = opensslOk(['x509', '-in', leafFile, '-noout', '-text']);
    assert.match(text, /IP Address:2001:DB8:0:0:0:0:0:1, IP Address:0:0:0:0:0:FFFF:C000:201, IP Address:FE80:0:0:1:2:3:4:5/);
    assert.match(text, /Digital Signature, Key Encipherment/);
    assert.match(text, /URI:mailto:x@example.com/);
    const info = inspectCertificate(leaf.certPem);
    assert.deepStrictEqual(info.sans.map(s => s.value), ['2001:db8::1', '::ffff:c000:201', 'fe80::1:2:3:4:5', 'host.example', 'mailto:x@example.com']);
    assert.deepStrictEqual(info.keyUsage, ['digitalSignature', 'keyEncipherment']);
    const caInfo = inspectCertificate(ca.certPem);
    assert.strictEqual(caInfo.subjectCn, 'Zürich, "Root" + CA');
    assert.strictEqual(caInfo.subjectOrg, 'Ünïcødé AG');
    assert.strictEqual(caInfo.subject, 'O=Ünïcødé AG, CN=Zürich\\, \\"Root\\" \\+ CA');
    assert.ok(caInfo.notAfter.getUTCFullYear() > 2100);
  });

  it('reads certificates made by OpenSSL with other extensions, exactly as OpenSSL describes them', () => {
    write(path.join(dir, 'ext.cnf'), [
      '[req]', 'distinguished_name=dn', '[dn]', '[v3]',
      'basicConstraints=critical,CA:TRUE,pathlen:1',
      'keyUsage=critical,digitalSignature,keyCertSign,cRLSign,decipherOnly',
      'extendedKeyUsage=serverAuth,clientAuth,codeSigning,1.3.6.1.4.1.311.20.2.2',
      'subjectAltName=DNS:a.example,IP:10.0.0.1,IP:2001:db8::2,email:ops@example.com,URI:https://example.com/x',
      'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid:always',
      '',
    ].join('\n'));
    opensslOk(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', path.join(dir, 'o.key'), '-out', path.join(dir, 'o.pem'),
      '-subj', '/C=CH/ST=Zug/O=Other Org/OU=Ops/CN=openssl made', '-days', '10', '-config', path.join(dir, 'ext.cnf'), '-extensions', 'v3', '-set_serial', '0x00ff01']);
    const info = inspectCertificate(fs.readFileSync(path.join(dir, 'o.pem')));
    assert.strictEqual(info.subject, 'C=CH, ST=Zug, O=Other Org, OU=Ops, CN=openssl made');
    assert.strictEqual(info.serial, 'FF01');
    assert.deepStrictEqual(info.basicConstraints, { ca: true, pathLength: 1, critical: true });
    assert.deepStrictEqual(info.keyUsage, ['digitalSignature', 'keyCertSign', 'cRLSign', 'decipherOnly']);
    assert.deepStrictEqual(info.extKeyUsage, ['serverAuth', 'clientAuth', 'codeSigning', '1.3.6.1.4.1.311.20.2.2']);
    assert.deepStrictEqual(info.sans, [
      { type: 'dns', value: 'a.example' }, { type: 'ip', value: '10.0.0.1' }, { type: 'ip', value: '2001:db8::2' },
      { type: 'email', value: 'ops@example.com' }, { type: 'uri', value: 'https://example.com/x' },
    ]);
    assert.strictEqual(info.signatureAlgorithm, 'ecdsa-with-SHA256');
    assert.strictEqual(info.curve, 'P-384');
    assert.strictEqual(info.selfSigned, true);
    const text = opensslOk(['x509', '-in', path.join(dir, 'o.pem'), '-noout', '-text', '-fingerprint', '-sha256']);
    const ski = /X509v3 Subject Key Identifier:\s+([0-9A-F:]+)/.exec(text)![1];
    assert.strictEqual(info.ski, ski);
    const aki = /X509v3 Authority Key Identifier:\s+(?:keyid:)?([0-9A-F:]+)/.exec(text)?.[1];
    assert.strictEqual(aki, ski);
    assert.strictEqual(info.aki, aki);
    assert.match(text, new RegExp(`Fingerprint=${info.fingerprintSha256}`));
    const dates = opensslOk(['x509', '-in', path.join(dir, 'o.pem'), '-noout', '-enddate']);
    assert.strictEqual(new Date(dates.trim().replace('notAfter=', '')).getTime(), info.notAfter.getTime());
    assert.strictEqual(info.sha256, crypto.createHash('sha256').update(new crypto.X509Certificate(fs.readFileSync(path.join(dir, 'o.pem'))).raw).digest('hex'));
  });
});
