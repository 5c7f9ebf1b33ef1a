// The local edge routes and scrubs like Cloudflare: only the fronted hostname is served (Host normalised for
// case, trailing dot and port; anything else refused before the rule and never forwarded), headers
// Cloudflare owns are never taken from the client, and revoked certificates are blocked the way the rule
// or the Cloudflare-managed CA would. Each request is sent byte for byte over a raw TLS socket to the edge,
// in front of a real nginx origin that logs every request it gets and echoes the headers it saw.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { RunningEdge, startEdge, EdgeOptions, routeHost } from '../../../src/core/edge';
import { rawTlsRequest, RunningServer, startNginx } from '../../support/servers';
import { HOST, makeProbePki, pem, ProbePki, read } from './helpers';

describe('Local edge: Host routing, header scrubbing and revocation against a real nginx origin', function () {
  this.timeout(60000);
  let p: ProbePki;
  let origin: RunningServer;
  let edge: RunningEdge;
  const originRequests = () => {
    try { return fs.readFileSync(path.join(origin.dir, 'access.log'), 'utf8').split('\n').filter(Boolean).length; } catch { return 0; }
  };

  before(async () => {
    p = makeProbePki();
    origin = await startNginx(`server {
  listen 127.0.0.1:__PORT__ ssl;
  server_name ${HOST};
  access_log __DIR__/access.log;
  ssl_certificate ${p.serverCert};
  ssl_certificate_key ${p.serverKey};
  ssl_client_certificate ${p.pullCa.cert};
  ssl_verify_client on;
  location / {
    return 200 "host=$host\\ntrue-client-ip=$http_true_client_ip\\nforwarded=$http_forwarded\\ncf-connecting-ip=$http_cf_connecting_ip\\nx-forwarded-for=$http_x_forwarded_for\\nx-real-ip=$http_x_real_ip\\ncf-ipcountry=$http_cf_ipcountry\\ncf-cert-verified=$http_cf_cert_verified\\ncf-cert-revoked=$http_cf_cert_revoked\\nx-app=$http_x_app\\nuri=$request_uri\\n";
  }
}`);
  });
  after(async () => {
    await origin?.stop();
    p?.remove();
  });

  async function withEdge(overrides: Partial<EdgeOptions>, fn: () => Promise<void>): Promise<void> {
    edge = await startEdge({
      listen: '127.0.0.1:0', origin: `127.0.0.1:${origin.port}`, hostname: HOST, clientCa: read(p.caCert),
      pull: pem(p.pull.cert, p.pull.key), originCa: read(p.caCert), ...overrides,
    });
    try { await fn(); } finally { await edge.stop(); }
  }

  const withCert = { servername: HOST, cert: '', key: '' };
  const send = (request: string, cert = true) => rawTlsRequest(edge.port, request, cert ? { ...withCert, cert: p.clientCert, key: p.clientKey, timeoutMs: 15000 } : { servername: HOST, timeoutMs: 15000 });
  /** nginx writes its access log as the request ends: wait (briefly) for the count to settle on `n`. */
  async function originRequestsSettle(n: number): Promise<number> {
    for (let i = 0; i < 20 && originRequests() !== n; i++) await new Promise(r => setTimeout(r, 50));
    return originRequests();
  }

  it('serves the fronted hostname with Host normalised for case, trailing dot and port', async () => {
    await withEdge({}, async () => {
      for (const host of [HOST, HOST.toUpperCase(), `${HOST}.`, `${HOST}:443`, `${HOST}.:8443`, `Mtls.Example.TEST.:${edge.port}`]) {
        const r = await send(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        assert.strictEqual(r.status, 200, `Host: ${host}\n${r.raw}`);
        assert.match(r.body, new RegExp(`host=${HOST.replace(/\./g, '\\.')}\\n`));
      }
    });
  });

  it('refuses another host, no Host, a bad port or several Hosts, with or without a certificate, and never forwards them', async () => {
    await withEdge({}, async () => {
      // The forwarded requests of the previous test may still be on their way into the log.
      let before = originRequests();
      for (let i = 0; i < 10; i++) { await new Promise(r => setTimeout(r, 100)); const now = originRequests(); if (now === before) break; before = now; }
      const cases: [string, number, RegExp][] = [
        [`GET / HTTP/1.0\r\n\r\n`, 400, /no Host header/],
        [`GET / HTTP/1.0\r\nConnection: close\r\n\r\n`, 400, /no Host header/],
        [`GET / HTTP/1.1\r\nHost: other.example.test\r\nConnection: close\r\n\r\n`, 421, /not the fronted hostname/],
        [`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 421, /not the fronted hostname/],
        [`GET / HTTP/1.1\r\nHost: ${HOST}:abc\r\nConnection: close\r\n\r\n`, 400, /malformed Host/],
        [`GET / HTTP/1.1\r\nHost: ${HOST}:99999\r\nConnection: close\r\n\r\n`, 400, /bad port/],
        [`GET / HTTP/1.1\r\nHost: ${HOST}:\r\nConnection: close\r\n\r\n`, 400, /malformed Host/],
        [`GET / HTTP/1.1\r\nHost: user@${HOST}\r\nConnection: close\r\n\r\n`, 400, /malformed Host/],
        [`GET / HTTP/1.1\r\nHost: ${HOST}\r\nHost: other.example.test\r\nConnection: close\r\n\r\n`, 400, /2 Host headers/],
        [`GET https://other.example.test/ HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`, 421, /not the fronted hostname/],
      ];
      for (const withCertificate of [false, true]) {
        for (const [request, status, reason] of cases) {
          const r = await send(request, withCertificate);
          assert.strictEqual(r.status, status, `${JSON.stringify(request)} (certificate: ${withCertificate})\n${r.raw}`);
          assert.match(r.body, reason, r.body);
          assert.match(r.body, /was not forwarded to the origin/);
        }
      }
      assert.strictEqual(originRequests(), before, 'no refused request reached the origin');
      // The fronted hostname without a certificate is blocked by the rule, also as HTTP/1.0 and with a trailing dot.
      for (const request of [`GET / HTTP/1.0\r\nHost: ${HOST}\r\n\r\n`, `GET / HTTP/1.1\r\nHost: ${HOST.toUpperCase()}.:443\r\nConnection: close\r\n\r\n`]) {
        const r = await send(request, false);
        assert.strictEqual(r.status, 403, r.raw);
        assert.match(r.body, /Sorry, you have been blocked/);
      }
      assert.strictEqual(originRequests(), before, 'blocked requests did not reach the origin either');
      const ok = await send(`GET /x?y=1 HTTP/1.0\r\nHost: ${HOST}\r\n\r\n`);
      assert.strictEqual(ok.status, 200, ok.raw);
      assert.strictEqual(await originRequestsSettle(before + 1), before + 1);
      const absolute = await send(`GET https://${HOST}/abs?q=1 HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
      assert.strictEqual(absolute.status, 200, absolute.raw);
      assert.match(absolute.body, /uri=\/abs\?q=1\n/, 'an absolute-form target is forwarded as origin-form');
    });
  });

  it('overwrites or removes True-Client-IP, Forwarded, CF-Connecting-IP and the other headers Cloudflare sets', async () => {
    await withEdge({}, async () => {
      const spoof = [
        'True-Client-IP: 203.0.113.66', 'Forwarded: for=203.0.113.66;proto=https', 'CF-Connecting-IP: 203.0.113.66',
        'X-Forwarded-For: 203.0.113.66', 'X-Real-IP: 203.0.113.66', 'CF-IPCountry: ZZ', 'cf_connecting_ip: 203.0.113.66',
        'CF-Cert-Verified: true', 'CF-Cert-Revoked: false', 'X-App: kept',
      ].join('\r\n');
      const r = await send(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n${spoof}\r\nConnection: close\r\n\r\n`);
      assert.strictEqual(r.status, 200, r.raw);
      assert.doesNotMatch(r.body, /203\.0\.113\.66/, r.body);
      assert.match(r.body, /\ntrue-client-ip=\n/);
      assert.match(r.body, /\nforwarded=\n/);
      assert.match(r.body, /\nx-real-ip=\n/);
      assert.match(r.body, /\ncf-ipcountry=\n/);
      assert.match(r.body, /\ncf-connecting-ip=127\.0\.0\.1\n/);
      assert.match(r.body, /\nx-forwarded-for=127\.0\.0\.1\n/);
      assert.match(r.body, /\ncf-cert-verified=true\n/);
      assert.match(r.body, /\nx-app=kept\n/, 'the application\'s own headers pass');
      // Without a verified certificate a spoofed cf-cert-verified changes nothing.
      const noCert = await send(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nCF-Cert-Verified: true\r\nConnection: close\r\n\r\n`, false);
      assert.strictEqual(noCert.status, 403);
    });
  });

  const fingerprint = (file: string) => execFileSync('openssl', ['x509', '-in', file, '-noout', '-fingerprint', '-sha256']).toString().trim().replace(/^.*=/, '');

  it('blocks a revoked certificate whose fingerprint the rule lists (own CA, as `cloudflare apply --revoked`)', async () => {
    await withEdge({ ruleRevokedFingerprints: [fingerprint(p.clientCert)] }, async () => {
      const r = await send(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
      assert.strictEqual(r.status, 403, r.raw);
      assert.match(r.body, /The client certificate is revoked/);
      assert.match(r.body, /cert_fingerprint_sha256 in \{&#34;[0-9a-f]{64}&#34;\}/);
      assert.match(edge.rule!, /cf\.tls_client_auth\.cert_fingerprint_sha256 in/);
    });
  });

  it('own CA: a certificate revoked in the store but not in the rule still passes (cert_verified stays true, cert_revoked false)', async () => {
    await withEdge({ revokedFingerprints: [fingerprint(p.clientCert)] }, async () => {
      const r = await send(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
      assert.strictEqual(r.status, 200, r.raw);
      assert.match(r.body, /cf-cert-revoked=false/);
    });
  });

  it('Cloudflare-managed CA rehearsal: cf.tls_client_auth.cert_revoked is true for a revoked certificate and the rule blocks it', async () => {
    await withEdge({ managedCa: true, revokedFingerprints: [fingerprint(p.clientCert)] }, async () => {
      assert.match(edge.rule!, /cf\.tls_client_auth\.cert_revoked/);
      const r = await send(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
      assert.strictEqual(r.status, 403, r.raw);
      assert.match(r.body, /revoked/);
    });
    await withEdge({ managedCa: true, revokedFingerprints: ['00'.repeat(32)], wafRule: true }, async () => {
      const r = await send(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
      assert.strictEqual(r.status, 200, r.raw);
      assert.match(r.body, /cf-cert-revoked=false/);
    });
    // Without the rule the origin sees cf-cert-revoked: true (Managed Transform) and decides itself.
    await withEdge({ managedCa: true, revokedFingerprints: [fingerprint(p.clientCert)], wafRule: false }, async () => {
      const r = await send(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
      assert.strictEqual(r.status, 200, r.raw);
      assert.match(r.body, /cf-cert-revoked=true/);
    });
  });

  it('a 526 names the trusted-origin-CA setting, and a stale edge says which settings changed', async () => {
    await withEdge({ originCa: read(p.otherCaCert), originCaSource: 'mtls.trustedOriginCa' }, async () => {
      const r = await send(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
      assert.strictEqual(r.status, 526, r.raw);
      assert.match(r.body, /mtls\.trustedOriginCa as it was when the edge started/);
      assert.doesNotMatch(r.body, /changed since/);
      edge.staleSettings.push('mtls.trustedOriginCa');
      const stale = await send(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
      assert.strictEqual(stale.status, 526);
      assert.match(stale.body, /changed since: mtls\.trustedOriginCa\. Restart it/);
    });
  });
});

describe('routeHost', () => {
  const h = (...headers: string[]) => headers.flatMap(v => ['Host', v]);
  it('normalises case, trailing dot and port', () => {
    assert.deepStrictEqual(routeHost(h('App.Test.:8443'), '/', 'app.test'), { ok: true, host: 'app.test' });
    assert.deepStrictEqual(routeHost(h('app.test'), '/', 'APP.TEST.'), { ok: true, host: 'app.test' });
  });
  it('refuses what is not the fronted hostname', () => {
    assert.strictEqual(routeHost([], '/', 'app.test').ok, false);
    assert.strictEqual(routeHost(h('app.test:0'), '/', 'app.test').ok, false);
    assert.strictEqual(routeHost(h('app.test:65536'), '/', 'app.test').ok, false);
    assert.strictEqual(routeHost(h('app.test..'), '/', 'app.test').ok, false);
    assert.strictEqual(routeHost(h('app.test.evil'), '/', 'app.test').ok, false);
    assert.strictEqual(routeHost(h('app.test, evil.test'), '/', 'app.test').ok, false);
    assert.strictEqual(routeHost(h('[::1]:443'), '/', 'app.test').ok, false);
  });
});
