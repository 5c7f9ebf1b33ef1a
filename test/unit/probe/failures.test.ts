// Probe failures that are not about client certificates: nothing listening, a name that does not resolve,
// a server that never answers (the timeout), and origin certificates that Full (Strict) refuses.
import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { runProbes } from '../../../src/core/probe';
import { randomSerial } from '../../../src/core/pki/certs';
import {
  OID, authorityKeyIdentifier, basicConstraints, encodeName, extKeyUsage, keyIdentifier, keyUsage, signCertificate, subjectAltName, subjectKeyIdentifier,
} from '../../../src/core/pki/x509';
import { certFields, pemToDers } from '../../../src/core/probe/der';
import { freePort, startNginx } from '../../support/servers';
import { check, dump, HOST, makeProbePki, pem, ProbePki, read } from './helpers';

describe('probe failures: network, DNS, timeouts, origin certificates', function () {
  this.timeout(60000);
  let p: ProbePki;
  before(() => { p = makeProbePki(); });
  after(() => p?.remove());

  it('connection refused: every check of both legs fails with "nothing listens" and where to look', async () => {
    const port = await freePort();
    const report = await runProbes({ legs: 'both', hostname: HOST, edgeAddress: `127.0.0.1:${port}`, originAddress: `127.0.0.1:${port}`, timeoutMs: 3000 });
    assert.strictEqual(report.ok, false);
    for (const leg of report.legs) {
      for (const c of leg.checks) {
        if (c.status === 'skip') continue;
        assert.strictEqual(c.status, 'fail', `${c.id}: ${c.detail}`);
        assert.match(c.explanation!, new RegExp(`Connection refused: nothing listens on 127\\.0\\.0\\.1:${port}`));
        assert.match(c.fix!, leg.leg === 'leg1' ? /mtls\.edgeAddress|Start Local Edge/ : /mtls\.originAddress/);
      }
    }
    assert.strictEqual(check(report, 'edge-allows-with-cert').status, 'skip');
    assert.strictEqual(check(report, 'origin-accepts-pull-cert').status, 'skip');
  });

  it('DNS: a hostname that does not resolve is reported as such', async () => {
    const report = await runProbes({ legs: 'leg1', hostname: 'mtls.nothing.invalid', timeoutMs: 5000 });
    const c = check(report, 'edge-blocks-without-cert');
    assert.strictEqual(c.status, 'fail');
    assert.match(c.explanation!, /DNS: mtls\.nothing\.invalid does not resolve/);
    assert.match(c.fix!, /proxy it \(orange cloud\)/);
  });

  it('timeout: a server that accepts and never answers fails within the timeout, all probes in parallel', async () => {
    const silent = net.createServer(() => undefined);
    const held: net.Socket[] = [];
    silent.on('connection', s => held.push(s));
    await new Promise<void>(r => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const t0 = Date.now();
      const report = await runProbes({ legs: 'both', hostname: HOST, edgeAddress: `127.0.0.1:${port}`, originAddress: `127.0.0.1:${port}`, timeoutMs: 400 });
      const wall = Date.now() - t0;
      assert.ok(wall < 1500, `parallel probes with a 400 ms timeout took ${wall} ms`);
      const c = check(report, 'origin-requires-client-cert');
      assert.strictEqual(c.status, 'fail');
      assert.match(c.detail, /no answer within 400 ms/);
      // TCP was accepted: the stall is in the TLS handshake, which Cloudflare reports as 522.
      assert.match(c.explanation!, /TLS handshake stalled.*522 Connection timed out/);
      assert.strictEqual(c.setting, 'mtls.originAddress');
      assert.match(check(report, 'edge-requests-client-cert').explanation!, /TLS handshake stalled/);
      assert.ok(c.ms >= 350 && c.ms < 1200, `ms ${c.ms}`);
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });

  it('a plain-HTTP port is not mistaken for a refusal: every Leg 2 check fails with "does not speak TLS"', async () => {
    const plain = await startNginx('server { listen 127.0.0.1:__PORT__; location / { return 200 "plain\\n"; } }');
    try {
      const report = await runProbes({ legs: 'leg2', hostname: HOST, originAddress: `127.0.0.1:${plain.port}`, timeoutMs: 3000 });
      for (const c of report.legs[0].checks.filter(x => x.status !== 'skip')) {
        assert.strictEqual(c.status, 'fail', `${c.id}: ${c.detail}`);
        assert.match(c.explanation!, /does not speak TLS there/, c.id);
      }
    } finally {
      await plain.stop();
    }
  });

  function originWith(certFile: string, keyFile: string) {
    return startNginx(`server { listen 127.0.0.1:__PORT__ ssl; server_name ${HOST}; ssl_certificate ${certFile}; ssl_certificate_key ${keyFile};
      ssl_client_certificate ${p.pullCa.cert}; ssl_verify_client on; location / { return 200 "ok\\n"; } }`);
  }

  it('origin-cert-valid: untrusted issuer without a named CA -> 526 and "name that CA"', async () => {
    const srv = await originWith(p.serverCert, p.serverKey);
    try {
      const report = await runProbes({ legs: 'leg2', hostname: HOST, originAddress: `127.0.0.1:${srv.port}`, pull: pem(p.pull.cert, p.pull.key), timeoutMs: 5000 });
      const c = check(report, 'origin-cert-valid');
      assert.strictEqual(c.status, 'fail', dump(report));
      assert.match(c.detail, /not trusted/);
      assert.match(c.explanation!, /526 Invalid SSL certificate/);
      assert.match(c.fix!, /mtls\.trustedOriginCa/);
      assert.strictEqual(check(report, 'origin-accepts-pull-cert').status, 'pass', 'trust of the origin certificate does not matter for AOP');
    } finally {
      await srv.stop();
    }
  });

  it('origin-cert-valid: the name does not match the hostname', async () => {
    const srv = await originWith(p.serverCert, p.serverKey);
    try {
      const report = await runProbes({ legs: 'leg2', hostname: 'other.example.test', originAddress: `127.0.0.1:${srv.port}`, pull: pem(p.pull.cert, p.pull.key), originCa: read(p.caCert), timeoutMs: 5000 });
      const c = check(report, 'origin-cert-valid');
      assert.strictEqual(c.status, 'fail', dump(report));
      assert.match(c.detail, /name does not match other\.example\.test/);
    } finally {
      await srv.stop();
    }
  });

  it('origin-cert-valid: an expired certificate, and one expiring soon (warn)', async () => {
    const caDer = pemToDers(read(p.caCert))[0];
    const ca = certFields(caDer);
    const caKey = crypto.createPrivateKey(read(p.caKey));
    const mint = (name: string, notBefore: Date, days: number) => {
      const keys = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
      // The PKI core's writer with a validity in the past, which issueCertificate (always "from now") cannot give.
      const spki = keys.publicKey.export({ type: 'spki', format: 'der' });
      const certPem = signCertificate({
        serial: Buffer.from(randomSerial(), 'hex'), issuer: ca.subjectDer, subject: encodeName(HOST), notBefore,
        notAfter: new Date(notBefore.getTime() + days * 86400_000), spki,
        extensions: [
          basicConstraints(false), keyUsage(['digitalSignature']), extKeyUsage([OID.serverAuth]), subjectAltName([{ type: 'dns', value: HOST }]),
          subjectKeyIdentifier(keyIdentifier(spki)), authorityKeyIdentifier(Buffer.from(ca.ski ?? '', 'hex')),
        ],
      }, caKey);
      const certFile = path.join(p.dir, `${name}.pem`);
      const keyFile = path.join(p.dir, `${name}.key`);
      fs.writeFileSync(certFile, certPem);
      fs.writeFileSync(keyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      fs.chmodSync(keyFile, 0o644);
      return { certFile, keyFile };
    };
    const expired = mint('expired', new Date(Date.now() - 40 * 86400_000), 10);
    const soon = mint('soon', new Date(Date.now() - 80 * 86400_000), 85);
    for (const [files, status, re] of [[expired, 'fail', /expired on/], [soon, 'warn', /expires in 4 days/]] as const) {
      const srv = await originWith(files.certFile, files.keyFile);
      try {
        const report = await runProbes({ legs: 'leg2', hostname: HOST, originAddress: `127.0.0.1:${srv.port}`, pull: pem(p.pull.cert, p.pull.key), originCa: read(p.caCert), timeoutMs: 5000, only: ['origin-cert-valid'] });
        assert.deepStrictEqual(report.legs[0].checks.map(c => c.id), ['origin-cert-valid']);
        const c = check(report, 'origin-cert-valid');
        assert.strictEqual(c.status, status, dump(report));
        assert.match(c.detail, re);
      } finally {
        await srv.stop();
      }
    }
  });
});
