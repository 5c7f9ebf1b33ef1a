// Leg 2 probes against real origins on loopback: nginx and Apache configured for Authenticated Origin
// Pulls (require + CA), with `optional` (asks, does not require), with optional_no_ca and no check, with
// no client authentication, and trusting the wrong CA. Each check must give the right verdict and the
// right diagnosis, and curl, run beside, must agree on accept/refuse.
import * as assert from 'assert';
import { runProbes, ProbeReport, CheckId, CheckStatus } from '../../../src/core/probe';
import { curl, startApache, startNginx, RunningServer } from '../../support/servers';
import { check, dump, HOST, makeProbePki, pem, ProbePki, read, verdicts } from './helpers';

type Expect = Partial<Record<CheckId, [CheckStatus, RegExp?]>>;

interface Case {
  name: string;
  /** nginx: directives inside server {}; apache: lines inside <VirtualHost>. */
  nginx?: (p: ProbePki) => string;
  apache?: (p: ProbePki) => string;
  expect: Expect;
  /** The CA names the origin should list in its CertificateRequest. */
  requestedCas?: (p: ProbePki) => string[];
}

const CASES: Case[] = [
  {
    name: 'AOP: require + the origin-pull CA',
    nginx: p => `ssl_client_certificate ${p.pullCa.cert}; ssl_verify_client on;`,
    apache: p => `SSLVerifyClient require\n  SSLVerifyDepth 1\n  SSLCACertificateFile ${p.pullCa.cert}`,
    expect: {
      'origin-requires-client-cert': ['pass'],
      'origin-rejects-foreign-cert': ['pass'],
      'origin-accepts-pull-cert': ['pass'],
      'origin-cert-valid': ['pass'],
      'origin-requested-cas': ['pass'],
    },
    requestedCas: p => [p.pullCaDn],
  },
  {
    name: 'optional + CA (asks, does not require)',
    nginx: p => `ssl_client_certificate ${p.pullCa.cert}; ssl_verify_client optional;`,
    apache: p => `SSLVerifyClient optional\n  SSLVerifyDepth 1\n  SSLCACertificateFile ${p.pullCa.cert}`,
    expect: {
      'origin-requires-client-cert': ['fail', /asks for a client certificate but does not require one/],
      'origin-rejects-foreign-cert': ['pass'],
      'origin-accepts-pull-cert': ['pass'],
      'origin-requested-cas': ['pass'],
    },
    requestedCas: p => [p.pullCaDn],
  },
  {
    name: 'optional_no_ca and no check',
    nginx: () => 'ssl_verify_client optional_no_ca;',
    apache: () => 'SSLVerifyClient optional_no_ca',
    expect: {
      'origin-requires-client-cert': ['fail', /does not require one/],
      'origin-rejects-foreign-cert': ['fail', /accepts a client certificate from any CA/],
      'origin-accepts-pull-cert': ['pass'],
      'origin-requested-cas': ['warn', /probably does not verify the issuer/],
    },
    requestedCas: () => [],
  },
  {
    name: 'no client authentication',
    nginx: () => '',
    apache: () => '',
    expect: {
      'origin-requires-client-cert': ['fail', /does not ask for a client certificate, so anyone/],
      'origin-rejects-foreign-cert': ['fail', /does not ask for a client certificate at all/],
      'origin-accepts-pull-cert': ['pass'],
      'origin-cert-valid': ['pass'],
      'origin-requested-cas': ['fail', /Authenticated Origin Pulls protect nothing/],
    },
  },
  {
    name: 'require + the wrong CA',
    nginx: p => `ssl_client_certificate ${p.otherCaCert}; ssl_verify_client on;`,
    apache: p => `SSLVerifyClient require\n  SSLVerifyDepth 1\n  SSLCACertificateFile ${p.otherCaCert}`,
    expect: {
      'origin-requires-client-cert': ['pass'],
      'origin-rejects-foreign-cert': ['pass'],
      'origin-accepts-pull-cert': ['fail', /AOP CA mismatch/],
      'origin-requested-cas': ['fail', /AOP CA mismatch/],
    },
    requestedCas: () => ['CN=Unrelated CA'],
  },
];

function nginxServer(p: ProbePki, inner: string, protocols = 'TLSv1.2 TLSv1.3'): string {
  return `server {
  listen 127.0.0.1:__PORT__ ssl;
  server_name ${HOST};
  ssl_protocols ${protocols};
  ssl_certificate ${p.serverCert};
  ssl_certificate_key ${p.serverKey};
  ${inner}
  location / { return 200 "origin page\\n"; }
}`;
}

function apacheVhost(p: ProbePki, inner: string, protocol?: string): string {
  return `<VirtualHost 127.0.0.1:__PORT__>
  ServerName ${HOST}
  SSLEngine on
  ${protocol ? `SSLProtocol ${protocol}` : ''}
  SSLCertificateFile ${p.serverCert}
  SSLCertificateKeyFile ${p.serverKey}
  ${inner}
</VirtualHost>`;
}

async function probeLeg2(p: ProbePki, port: number, extra: { pull?: boolean; expectedPullCa?: string } = {}): Promise<ProbeReport> {
  return runProbes({
    legs: 'leg2', hostname: HOST, originAddress: `127.0.0.1:${port}`,
    pull: extra.pull === false ? undefined : pem(p.pull.cert, p.pull.key),
    originCa: read(p.caCert), expectedPullCa: extra.expectedPullCa, timeoutMs: 5000,
  });
}

function assertExpectations(report: ProbeReport, expect: Expect, where: string) {
  for (const [id, [status, why]] of Object.entries(expect) as [CheckId, [CheckStatus, RegExp?]][]) {
    const c = check(report, id);
    assert.strictEqual(c.status, status, `${where}: ${id} is ${c.status}, expected ${status}: ${c.detail}\n${dump(report)}`);
    if (why) assert.match(`${c.detail} ${c.explanation ?? ''}`, why, `${where}: ${id} diagnosis`);
    if (status === 'fail') {
      assert.ok(c.explanation && c.fix, `${where}: ${id} fails without explanation and fix`);
    }
    assert.ok(c.ms >= 0 && c.ms < 5000, `${where}: ${id} has a timing (${c.ms})`);
  }
}

/** curl as a second client: accepted = an HTTP 200 answer. */
async function curlAccepts(port: number, p: ProbePki, cert?: { cert: string; key: string }): Promise<{ accepted: boolean; summary: string }> {
  const r = await curl(port, { hostname: HOST, cacert: p.caCert, cert: cert?.cert, key: cert?.key, timeoutS: 5 });
  return { accepted: r.exitCode === 0 && r.status === 200, summary: `curl exit ${r.exitCode}, status ${r.status} ${r.stderr.trim()}` };
}

async function assertCurlAgrees(report: ProbeReport, port: number, p: ProbePki, where: string) {
  const noCert = await curlAccepts(port, p);
  const foreign = await curlAccepts(port, p, p.foreign);
  const pull = await curlAccepts(port, p, p.pull);
  // A check that passes by refusal means curl must be refused too, and the other way round.
  assert.strictEqual(check(report, 'origin-requires-client-cert').status === 'pass', !noCert.accepted, `${where}: curl without a certificate: ${noCert.summary}; probe ${verdicts(report)['origin-requires-client-cert']}`);
  assert.strictEqual(check(report, 'origin-rejects-foreign-cert').status === 'pass', !foreign.accepted, `${where}: curl with the foreign certificate: ${foreign.summary}`);
  assert.strictEqual(check(report, 'origin-accepts-pull-cert').status === 'pass', pull.accepted, `${where}: curl with the pull certificate: ${pull.summary}`);
}

describe('probe Leg 2 against real origins on loopback', function () {
  this.timeout(60000);
  let p: ProbePki;
  before(() => { p = makeProbePki(); });
  after(() => p?.remove());

  for (const server of ['nginx', 'apache'] as const) {
    for (const c of CASES) {
      describe(`${server}: ${c.name}`, () => {
        let srv: RunningServer;
        let report: ProbeReport;
        before(async () => {
          srv = server === 'nginx' ? await startNginx(nginxServer(p, c.nginx!(p))) : await startApache(apacheVhost(p, c.apache!(p)));
          report = await probeLeg2(p, srv.port);
        });
        after(async () => { await srv?.stop(); });

        it('gives the right verdict and diagnosis for every check', () => {
          assertExpectations(report, c.expect, `${server} ${c.name}`);
          assert.strictEqual(report.ok, Object.values(c.expect).every(([s]) => s !== 'fail'));
          assert.strictEqual(report.legs[0].leg, 'leg2');
        });

        it('curl, run beside, agrees on accept/refuse', async () => {
          await assertCurlAgrees(report, srv.port, p, `${server} ${c.name}`);
        });

        if (c.requestedCas) {
          it('reads the CA names of the CertificateRequest', () => {
            const cas = check(report, 'origin-requested-cas').data?.requestedCas;
            assert.deepStrictEqual(cas, c.requestedCas!(p));
          });
        }
      });
    }
  }

  it('the pull CA DN is decoded as openssl prints it (RFC 2253, escaped comma)', () => {
    assert.strictEqual(p.pullCaDn, 'CN=Example Origin Pull CA,OU=Origin Pull,O=Example\\, Inc.,C=US');
  });

  it('nginx with TLS 1.3 only: the CertificateRequest is read by decrypting the handshake', async () => {
    const srv = await startNginx(nginxServer(p, `ssl_client_certificate ${p.pullCa.cert}; ssl_verify_client on;`, 'TLSv1.3'));
    try {
      const report = await probeLeg2(p, srv.port);
      const cas = check(report, 'origin-requested-cas');
      assert.strictEqual(cas.status, 'pass', dump(report));
      assert.strictEqual(cas.data?.tlsVersion, 'TLSv1.3');
      assert.deepStrictEqual(cas.data?.requestedCas, [p.pullCaDn]);
      assert.strictEqual(report.ok, true, dump(report));
    } finally {
      await srv.stop();
    }
  });

  it('Apache with TLS 1.2 only and no pull certificate: handshake refusals, the origin certificate read from the handshake', async () => {
    const srv = await startApache(apacheVhost(p, `SSLVerifyClient require\n  SSLVerifyDepth 1\n  SSLCACertificateFile ${p.pullCa.cert}`, '-all +TLSv1.2'));
    try {
      const report = await probeLeg2(p, srv.port, { pull: false, expectedPullCa: read(p.pullCa.cert) });
      assert.deepStrictEqual(verdicts(report), {
        'origin-requires-client-cert': 'pass', 'origin-rejects-foreign-cert': 'pass', 'origin-accepts-pull-cert': 'skip',
        'origin-cert-valid': 'pass', 'origin-requested-cas': 'pass',
      }, dump(report));
      assert.match(check(report, 'origin-requires-client-cert').detail, /TLS alert handshake_failure in the handshake/);
      assert.match(check(report, 'origin-cert-valid').detail, /chain trusted.*TLSv1\.2/);
    } finally {
      await srv.stop();
    }
  });

  it('without a pull certificate the expected CA is Cloudflare\'s shared origin-pull CA', async () => {
    const srv = await startNginx(nginxServer(p, `ssl_client_certificate ${p.pullCa.cert}; ssl_verify_client on;`));
    try {
      const report = await probeLeg2(p, srv.port, { pull: false });
      const cas = check(report, 'origin-requested-cas');
      assert.strictEqual(cas.status, 'fail');
      assert.match(cas.detail, /not Cloudflare's shared origin-pull CA \(global AOP\) "CN=origin-pull\.cloudflare\.net/);
      assert.strictEqual(check(report, 'origin-accepts-pull-cert').status, 'skip');
    } finally {
      await srv.stop();
    }
  });
});
