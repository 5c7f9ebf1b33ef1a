// The building blocks without servers: DER names and throw-away certificates checked against openssl, address
// parsing, error-page titles, and the handshake reader against Node's own TLS server in 1.2 and 1.3.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { parseAddress } from '../../../src/core/probe';
import { attempt, alertFromError, ResponseReader } from '../../../src/core/probe/attempt';
import { makeEphemeralPair } from '../../../src/core/probe/certgen';
import { certFields, nameToString, normalizeDn, pemToDers } from '../../../src/core/probe/der';
import { outcomeOf, pageTitle } from '../../../src/core/probe/explain';
import { parseRecords } from '../../../src/core/probe/handshake';

function openssl(args: string[], input?: string): string {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
}

describe('probe building blocks', () => {
  it('throw-away certificates (from the PKI core) are read by openssl: CA constraints, EKU, SANs, key identifiers', async () => {
    const pair = await makeEphemeralPair({ caCn: 'Throw-away CA', cn: 'edge.example.test', profile: 'server', sans: ['edge.example.test', '127.0.0.1'] });
    const leafText = openssl(['x509', '-noout', '-text'], pair.certPem);
    assert.match(leafText, /Subject: CN ?= ?edge\.example\.test/);
    assert.match(leafText, /TLS Web Server Authentication/);
    assert.match(leafText, /DNS:edge\.example\.test, IP Address:127\.0\.0\.1/);
    assert.match(leafText, /CA:FALSE/);
    const caText = openssl(['x509', '-noout', '-text'], pair.caPem);
    assert.match(caText, /CA:TRUE/);
    assert.match(caText, /Certificate Sign, CRL Sign/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-der-'));
    try {
      fs.writeFileSync(path.join(dir, 'ca.pem'), pair.caPem);
      fs.writeFileSync(path.join(dir, 'leaf.pem'), pair.certPem);
      assert.match(openssl(['verify', '-CAfile', path.join(dir, 'ca.pem'), path.join(dir, 'leaf.pem')]), /OK/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const f = certFields(pemToDers(pair.certPem)[0]);
    const ca = certFields(pemToDers(pair.caPem)[0]);
    assert.strictEqual(f.aki, ca.ski, 'the leaf\'s AKI is the CA\'s SKI');
    assert.match(openssl(['x509', '-noout', '-ext', 'subjectKeyIdentifier'], pair.caPem).replace(/:/g, ''), new RegExp(ca.ski!));
  });

  it('serials read as the cf-cert-serial header shows them: uppercase hex, no leading zeros', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-serial-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k.pem'),
        '-subj', '/CN=serial', '-days', '1', '-set_serial', '0x0d1e96', '-out', path.join(dir, 'c.pem')], { stdio: 'ignore' });
      const [der] = pemToDers(fs.readFileSync(path.join(dir, 'c.pem'), 'utf8'));
      assert.strictEqual(certFields(der).serial, 'D1E96');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names decode like openssl -nameopt RFC2253, escapes included', () => {
    const key = openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-der-'));
    try {
      fs.writeFileSync(path.join(dir, 'k.pem'), key);
      const cert = openssl(['req', '-x509', '-new', '-key', path.join(dir, 'k.pem'), '-days', '1', '-subj', '/C=DE/ST=Berlin/O=Müller, GmbH/OU=Ops\\+Dev/CN=Zoë CA/emailAddress=ca@example.test']);
      const want = openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb'], cert).trim().replace(/^subject=/, '');
      assert.strictEqual(certFields(pemToDers(cert)[0]).subject, want);
      assert.strictEqual(normalizeDn('CN=a, O=B'), normalizeDn('O=b,CN=A'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('addresses: host, host:port, IPv4, IPv6 with and without brackets, URLs', () => {
    assert.deepStrictEqual(parseAddress('mtls.example.com'), { host: 'mtls.example.com', port: 443 });
    assert.deepStrictEqual(parseAddress('203.0.113.7:8443'), { host: '203.0.113.7', port: 8443 });
    assert.deepStrictEqual(parseAddress('[2001:db8::1]:444'), { host: '2001:db8::1', port: 444 });
    assert.deepStrictEqual(parseAddress('2001:db8::1'), { host: '2001:db8::1', port: 443 });
    assert.deepStrictEqual(parseAddress('https://origin.example.com:8443/x'), { host: 'origin.example.com', port: 8443 });
    assert.throws(() => parseAddress('host:99999'), /Bad port/);
    assert.throws(() => parseAddress(''), /Empty address/);
  });

  it('error pages and alerts read as the guide names them', () => {
    assert.strictEqual(pageTitle('<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>'), '400 No required SSL certificate was sent');
    assert.strictEqual(alertFromError(Object.assign(new Error('x'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' })), 'certificate_required');
    assert.strictEqual(alertFromError(Object.assign(new Error('x'), { code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' })), 'handshake_failure');
    assert.strictEqual(alertFromError(new Error('...:tlsv1 alert unknown ca:...')), 'unknown_ca');
    const o = outcomeOf({ ms: 1, handshake: { readable: false, certificateRequested: false, certificateAuthorities: [], serverCertificates: [] }, error: { code: 'ECONNREFUSED', message: 'x', phase: 'tcp' } });
    assert.strictEqual(o.kind, 'network');
  });

  it('the HTTP reader: content-length, chunked (split anywhere), to the end, 100 Continue', () => {
    const feed = (parts: string[]) => {
      const r = new ResponseReader();
      for (const part of parts) {
        const a = r.push(Buffer.from(part));
        if (a) return a;
      }
      return r.end();
    };
    const cl = feed(['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhel', 'lo', 'ignored']);
    assert.deepStrictEqual([cl?.status, cl?.statusMessage, cl?.body, cl?.headers['x-a']], [200, 'OK', 'hello', '1, 2']);
    const raw = 'HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\n\r\n';
    for (let cut = 1; cut < raw.length; cut += 7) {
      const ch = feed([raw.slice(0, cut), raw.slice(cut)]);
      assert.strictEqual(ch?.body, 'Wikipedia in \r\n\r\nchunks.', `cut at ${cut}`);
      assert.strictEqual(ch?.status, 403);
    }
    assert.strictEqual(feed(['HTTP/1.0 200 OK\r\n\r\nuntil ', 'the end'])?.body, 'until the end');
    assert.strictEqual(feed(['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'])?.status, 204);
    assert.strictEqual(feed(['HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort']), undefined, 'a short body is not an answer');
    assert.throws(() => feed(['SSH-2.0-OpenSSH\r\n\r\n']), /not an HTTP answer/);
  });

  it('parseRecords leaves a partial record at the end alone', () => {
    const rec = Buffer.from([22, 3, 3, 0, 2, 1, 2, 22, 3, 3, 0, 5, 1]);
    assert.strictEqual(parseRecords(rec).length, 1);
  });

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`reads the CertificateRequest and its CA names from Node's own TLS server (${version})`, async () => {
      const server = await makeEphemeralPair({ caCn: 'Server CA', cn: 'localhost', profile: 'server', sans: ['localhost'] });
      const clientCa = await makeEphemeralPair({ caCn: 'Client CA Ünicode', cn: 'client', profile: 'client' });
      const srv = tls.createServer({ cert: server.certPem, key: server.keyPem, requestCert: true, rejectUnauthorized: false, ca: clientCa.caPem, maxVersion: version }, s => s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'));
      await new Promise<void>(r => srv.listen(0, '127.0.0.1', () => r()));
      try {
        const port = (srv.address() as { port: number }).port;
        const a = await attempt({ target: { host: '127.0.0.1', port }, hostname: 'localhost', timeoutMs: 3000 });
        assert.strictEqual(a.handshake.version, version);
        assert.strictEqual(a.handshake.readable, true);
        assert.strictEqual(a.handshake.certificateRequested, true);
        assert.deepStrictEqual(a.handshake.certificateAuthorities.map(nameToString), ['CN=Client CA Ünicode,O=mTLS Workbench (throw-away)']);
        assert.strictEqual(a.handshake.serverCertificates.length, 1);
        assert.strictEqual(certFields(a.handshake.serverCertificates[0]).subject, 'CN=localhost');
      } finally {
        srv.close();
      }
    });
  }
});
