// Both legs end to end through the local edge to a real nginx origin: the good setup passes every check,
// and removing the block rule, the hostname association or the origin's client verification each fails
// the check that names it. Also: the edge's 525/526 answers, its cf-cert-* headers, and curl through it.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { runProbes, ProbeOptions, ProbeReport } from '../../../src/core/probe';
import { EdgeOptions, RunningEdge, startEdge } from '../../../src/core/edge';
import { curl, startApache, startNginx, RunningServer } from '../../support/servers';
import { check, dump, HOST, makeProbePki, pem, ProbePki, read, verdicts } from './helpers';

const ALL_PASS = {
  'edge-requests-client-cert': 'pass', 'edge-blocks-without-cert': 'pass', 'edge-allows-with-cert': 'pass', 'edge-rejects-foreign-cert': 'pass',
  'origin-requires-client-cert': 'pass', 'origin-rejects-foreign-cert': 'pass', 'origin-accepts-pull-cert': 'pass', 'origin-cert-valid': 'pass', 'origin-requested-cas': 'pass',
};

/** An origin page that echoes the cf-cert-* headers it received, like the lab's mTLS test page. */
function originConfig(p: ProbePki, verify: string): string {
  return `server {
  listen 127.0.0.1:__PORT__ ssl;
  server_name ${HOST};
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_certificate ${p.serverCert};
  ssl_certificate_key ${p.serverKey};
  ${verify}
  location / {
    return 200 "origin page\\ncf-cert-presented: $http_cf_cert_presented\\ncf-cert-verified: $http_cf_cert_verified\\ncf-cert-subject-dn: $http_cf_cert_subject_dn\\ncf-cert-issuer-dn: $http_cf_cert_issuer_dn\\ncf-cert-fingerprint-sha256: $http_cf_cert_fingerprint_sha256\\ncf-cert-serial: $http_cf_cert_serial\\ncf-cert-not-after: $http_cf_cert_not_after\\ncf-cert-subject-dn-legacy: $http_cf_cert_subject_dn_legacy\\n";
  }
}`;
}

describe('Test Leg end to end: local edge in front of a real nginx origin', function () {
  this.timeout(60000);
  let p: ProbePki;
  let aop: RunningServer; // requires the origin-pull CA
  let open: RunningServer; // no client verification
  before(async () => {
    p = makeProbePki();
    aop = await startNginx(originConfig(p, `ssl_client_certificate ${p.pullCa.cert}; ssl_verify_client on;`));
    open = await startNginx(originConfig(p, ''));
  });
  after(async () => {
    await aop?.stop();
    await open?.stop();
    p?.remove();
  });

  async function withEdge<T>(origin: RunningServer, overrides: Partial<EdgeOptions>, fn: (edge: RunningEdge) => Promise<T>): Promise<T> {
    const edge = await startEdge({
      listen: '127.0.0.1:0', origin: `127.0.0.1:${origin.port}`, hostname: HOST, clientCa: read(p.caCert),
      pull: pem(p.pull.cert, p.pull.key), originCa: read(p.caCert), ...overrides,
    });
    try {
      return await fn(edge);
    } finally {
      await edge.stop();
    }
  }

  function probeBoth(edge: RunningEdge, origin: RunningServer, overrides: Partial<ProbeOptions> = {}): Promise<ProbeReport> {
    return runProbes({
      legs: 'both', hostname: HOST, edgeAddress: edge.address, originAddress: `127.0.0.1:${origin.port}`,
      client: pem(p.clientCert, p.clientKey), pull: pem(p.pull.cert, p.pull.key), originCa: read(p.caCert), edgeCa: edge.serverCaPem,
      timeoutMs: 5000, ...overrides,
    });
  }

  it('the good setup passes every check of both legs', async () => {
    await withEdge(aop, {}, async edge => {
      const report = await probeBoth(edge, aop);
      assert.deepStrictEqual(verdicts(report), ALL_PASS, dump(report));
      assert.strictEqual(report.ok, true);
      assert.deepStrictEqual(report.legs.map(l => [l.leg, l.ok]), [['leg1', true], ['leg2', true]]);
      // The origin echoed the cf-cert-* headers the edge added.
      const allows = check(report, 'edge-allows-with-cert');
      const headers = allows.data?.cfCertHeaders as Record<string, string>;
      assert.strictEqual(headers['cf-cert-verified'], 'true');
      assert.strictEqual(headers['cf-cert-presented'], 'true');
      assert.strictEqual(headers['cf-cert-subject-dn'], 'CN=test-client');
      assert.strictEqual(headers['cf-cert-issuer-dn'], 'CN=Test Client CA');
      // As openssl prints them.
      const x = (...args: string[]) => execFileSync('openssl', ['x509', '-in', p.clientCert, '-noout', ...args]).toString().trim();
      assert.strictEqual(headers['cf-cert-fingerprint-sha256'], x('-fingerprint', '-sha256').replace(/^.*=/, '').replace(/:/g, '').toLowerCase());
      assert.strictEqual(headers['cf-cert-serial'], x('-serial').replace(/^serial=/, '').replace(/^0+(?=.)/, ''));
      assert.strictEqual(headers['cf-cert-not-after'], x('-enddate').replace(/^notAfter=/, ''));
      assert.strictEqual(headers['cf-cert-subject-dn-legacy'], '/CN=test-client');
      assert.match(allows.detail, /cf-cert-verified: true/);
      assert.match(check(report, 'edge-blocks-without-cert').detail, /403/);
      assert.deepStrictEqual(check(report, 'edge-requests-client-cert').data?.requestedCas, ['CN=Test Client CA']);
    });
  });

  it('without the WAF rule, edge-blocks-without-cert fails and says the rule is missing', async () => {
    await withEdge(aop, { wafRule: false }, async edge => {
      const report = await probeBoth(edge, aop);
      const c = check(report, 'edge-blocks-without-cert');
      assert.strictEqual(c.status, 'fail', dump(report));
      assert.match(c.explanation!, /enforcing WAF rule \(not cf\.tls_client_auth\.cert_verified\) is missing/);
      assert.match(c.fix!, /and not cf\.tls_client_auth\.cert_verified\) -> Block/);
      assert.strictEqual(c.action, 'guide-waf');
      assert.strictEqual(check(report, 'edge-requests-client-cert').status, 'pass');
      assert.strictEqual(check(report, 'edge-allows-with-cert').status, 'pass');
      assert.strictEqual(report.legs[1].ok, true);
      assert.strictEqual(report.ok, false);
    });
  });

  it('without the hostname association, edge-requests-client-cert fails and says so', async () => {
    await withEdge(aop, { association: false }, async edge => {
      const report = await probeBoth(edge, aop);
      const c = check(report, 'edge-requests-client-cert');
      assert.strictEqual(c.status, 'fail', dump(report));
      assert.match(c.explanation!, /not associated with the CA/);
      assert.match(c.explanation!, /browsers never prompt/);
      assert.strictEqual(c.action, 'guide-association');
      // With the rule in place nobody gets in, not even with a good certificate: the same cause is named.
      const allows = check(report, 'edge-allows-with-cert');
      assert.strictEqual(allows.status, 'fail');
      assert.match(allows.explanation!, /not associated/);
    });
  });

  it('without client verification on the origin, origin-requires-client-cert fails (Leg 2 open)', async () => {
    await withEdge(open, {}, async edge => {
      const report = await probeBoth(edge, open);
      const c = check(report, 'origin-requires-client-cert');
      assert.strictEqual(c.status, 'fail', dump(report));
      assert.match(c.explanation!, /Leg 2 is open/);
      assert.strictEqual(c.action, 'origin-config');
      assert.strictEqual(report.legs[0].ok, true, 'Leg 1 is still fine');
      assert.strictEqual(report.legs[1].ok, false);
    });
  });

  it('AOP CA mismatch, Apache origin: the handshake fails, the edge answers 525, edge-allows-with-cert says why', async () => {
    const wrong = await startApache(`<VirtualHost 127.0.0.1:__PORT__>
  ServerName ${HOST}
  SSLEngine on
  SSLCertificateFile ${p.serverCert}
  SSLCertificateKeyFile ${p.serverKey}
  SSLVerifyClient require
  SSLCACertificateFile ${p.otherCaCert}
</VirtualHost>`);
    try {
      await withEdge(wrong, {}, async edge => {
        const report = await runProbes({ legs: 'leg1', hostname: HOST, edgeAddress: edge.address, client: pem(p.clientCert, p.clientKey), timeoutMs: 5000 });
        const c = check(report, 'edge-allows-with-cert');
        assert.strictEqual(c.status, 'fail', dump(report));
        assert.match(c.detail, /HTTP 525/);
        assert.match(c.explanation!, /525 SSL handshake failed .* AOP CA mismatch/);
        assert.strictEqual(c.action, 'origin-config');
      });
    } finally {
      await wrong.stop();
    }
  });

  it('AOP CA mismatch, nginx origin: its 400 "The SSL certificate error" comes through and is explained', async () => {
    const wrong = await startNginx(originConfig(p, `ssl_client_certificate ${p.otherCaCert}; ssl_verify_client on;`));
    try {
      await withEdge(wrong, {}, async edge => {
        const report = await runProbes({ legs: 'leg1', hostname: HOST, edgeAddress: edge.address, client: pem(p.clientCert, p.clientKey), timeoutMs: 5000 });
        const c = check(report, 'edge-allows-with-cert');
        assert.strictEqual(c.status, 'fail', dump(report));
        assert.match(c.detail, /HTTP 400 The SSL certificate error/);
        assert.match(c.explanation!, /AOP CA mismatch/);
      });
    } finally {
      await wrong.stop();
    }
  });

  it('AOP not enabled at the edge: the origin\'s 400 "No required SSL certificate" is explained as such', async () => {
    await withEdge(aop, { pull: undefined }, async edge => {
      const report = await runProbes({ legs: 'leg1', hostname: HOST, edgeAddress: edge.address, client: pem(p.clientCert, p.clientKey), timeoutMs: 5000 });
      const c = check(report, 'edge-allows-with-cert');
      assert.strictEqual(c.status, 'fail', dump(report));
      assert.match(c.explanation!, /AOP is required on the origin but not enabled in Cloudflare/);
      assert.strictEqual(c.action, 'guide-aop');
    });
  });

  it('origin certificate not trusted under Full (Strict): the edge answers 526', async () => {
    await withEdge(aop, { originCa: undefined }, async edge => {
      const report = await runProbes({ legs: 'leg1', hostname: HOST, edgeAddress: edge.address, client: pem(p.clientCert, p.clientKey), timeoutMs: 5000 });
      const c = check(report, 'edge-allows-with-cert');
      assert.strictEqual(c.status, 'fail', dump(report));
      assert.match(c.detail, /526/);
      assert.match(c.explanation!, /Full \(Strict\)/);
    });
  });

  it('curl through the edge agrees: 403 without a certificate, 200 with one, 403 with a foreign one', async () => {
    await withEdge(aop, {}, async edge => {
      const caFile = `${p.dir}/edge-ca.pem`;
      require('fs').writeFileSync(caFile, edge.serverCaPem);
      const without = await curl(edge.port, { hostname: HOST, cacert: caFile });
      assert.strictEqual(without.status, 403, without.stderr);
      assert.match(without.body, /Sorry, you have been blocked/);
      const withCert = await curl(edge.port, { hostname: HOST, cacert: caFile, cert: p.clientCert, key: p.clientKey });
      assert.strictEqual(withCert.status, 200, withCert.stderr);
      assert.match(withCert.body, /cf-cert-verified: true/);
      const foreign = await curl(edge.port, { hostname: HOST, cacert: caFile, cert: p.foreign.cert, key: p.foreign.key });
      assert.strictEqual(foreign.status, 403);
      // A client cannot smuggle its own cf-cert-verified header through the edge.
      const spoof = await curl(edge.port, { hostname: HOST, cacert: caFile, cert: p.foreign.cert, key: p.foreign.key, headers: { 'cf-cert-verified': 'true' } });
      assert.strictEqual(spoof.status, 403);
    });
  });
});
