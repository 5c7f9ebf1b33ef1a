// Verdicts and explanations that name the real cause, against real nginx and Apache origins (and small
// Node servers for the odd behaviours: a TLS server that never answers, a TCP port that never speaks TLS):
// an origin that closes every connection without asking for a certificate, a pull certificate from an
// intermediate, an expired pull certificate, Apache's per-directory verification, an application closing
// the connection after a good handshake, an incomplete origin chain, and timeouts by phase.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import * as tls from 'tls';
import { runProbes, ProbeOptions } from '../../../src/core/probe';
import { makeCa, makeLeaf } from '../../support/openssl';
import { curl, startApache, startNginx, RunningServer } from '../../support/servers';
import { check, dump, HOST, makeProbePki, pem, ProbePki, read } from './helpers';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** An intermediate CA (CA:TRUE, pathlen 0) signed by `root`. */
function makeIntermediate(dir: string, name: string, root: { cert: string; key: string }, cn: string): { cert: string; key: string } {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.pem`);
  const ext = path.join(dir, `${name}.ext`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], dir);
  openssl(['req', '-new', '-key', key, '-subj', `/O=Example/CN=${cn}`, '-out', csr], dir);
  fs.writeFileSync(ext, 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  openssl(['x509', '-req', '-in', csr, '-CA', root.cert, '-CAkey', root.key, '-CAcreateserial', '-days', '30', '-sha256', '-extfile', ext, '-out', cert], dir);
  return { cert, key };
}

/** What `openssl s_client -tls1_2` prints about the CertificateRequest: the CA names, or that none came. */
function sClientCaNames(port: number): string {
  let out: string;
  try {
    out = execFileSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', HOST, '-tls1_2'], { input: '', timeout: 10000, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
  } catch (err) {
    out = String((err as { stdout?: Buffer }).stdout ?? '');
  }
  if (/No client certificate CA names sent/.test(out)) return 'none';
  const m = /Acceptable client certificate CA names\n([\s\S]*?)\n(?:Requested|Client Certificate Types|Shared)/.exec(out);
  return m ? m[1].trim() : `unreadable: ${out.slice(0, 300)}`;
}

describe('Probe verdicts and causes against real origins', function () {
  this.timeout(60000);
  let p: ProbePki;
  let root: { cert: string; key: string };
  let inter: { cert: string; key: string };
  let interPull: { cert: string; key: string; chain: string };
  let interServer: { cert: string; key: string; full: string };
  let expiredPull: { cert: string; key: string };
  const servers: RunningServer[] = [];

  before(() => {
    p = makeProbePki();
    root = makeCa(p.dir, 'aop-root', 'Example AOP Root');
    inter = makeIntermediate(p.dir, 'aop-inter', root, 'Example AOP Intermediate');
    const leaf = makeLeaf(p.dir, 'inter-pull', inter, 'client', 'inter-origin-pull');
    interPull = { ...leaf, chain: path.join(p.dir, 'inter-pull-chain.pem') };
    fs.writeFileSync(interPull.chain, read(leaf.cert) + read(inter.cert));
    const srv = makeLeaf(p.dir, 'inter-server', inter, 'server', HOST, [HOST, '127.0.0.1']);
    interServer = { ...srv, full: path.join(p.dir, 'inter-server-full.pem') };
    fs.writeFileSync(interServer.full, read(srv.cert) + read(inter.cert));
    // Expired yesterday, from the origin-pull CA the origins trust.
    const key = path.join(p.dir, 'expired-pull.key');
    const csr = path.join(p.dir, 'expired-pull.csr');
    const cert = path.join(p.dir, 'expired-pull.pem');
    const ext = path.join(p.dir, 'expired-pull.ext');
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], p.dir);
    openssl(['req', '-new', '-key', key, '-subj', '/CN=expired-origin-pull', '-out', csr], p.dir);
    fs.writeFileSync(ext, 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
    openssl(['x509', '-req', '-in', csr, '-CA', p.pullCa.cert, '-CAkey', p.pullCa.key, '-CAcreateserial', '-days', '-1', '-sha256', '-extfile', ext, '-out', cert], p.dir);
    expiredPull = { cert, key };
    for (const f of fs.readdirSync(p.dir)) fs.chmodSync(path.join(p.dir, f), 0o644);
  });
  after(async () => {
    for (const s of servers) await s.stop();
    p?.remove();
  });

  async function nginx(directives: string, cert = p.serverCert, key = p.serverKey, location = 'return 200 "origin page\\n";'): Promise<RunningServer> {
    const s = await startNginx(`server {
  listen 127.0.0.1:__PORT__ ssl;
  server_name ${HOST};
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_certificate ${cert};
  ssl_certificate_key ${key};
  ${directives}
  location / { ${location} }
}`);
    servers.push(s);
    return s;
  }

  const leg2 = (port: number, overrides: Partial<ProbeOptions> = {}) => runProbes({
    legs: 'leg2', hostname: HOST, originAddress: `127.0.0.1:${port}`, pull: pem(p.pull.cert, p.pull.key), originCa: read(p.caCert), timeoutMs: 5000, ...overrides,
  });

  it('an origin that never asks for a certificate but closes every connection (nginx return 444) does not pass origin-requires-client-cert', async () => {
    const s = await nginx('', undefined, undefined, 'return 444;');
    const report = await leg2(s.port);
    const requires = check(report, 'origin-requires-client-cert');
    assert.strictEqual(requires.status, 'fail', dump(report));
    assert.match(requires.detail, /without ever asking for a client certificate \(no CertificateRequest/);
    assert.match(requires.explanation!, /not client-certificate enforcement/);
    assert.match(requires.explanation!, /520/);
    const accepts = check(report, 'origin-accepts-pull-cert');
    assert.strictEqual(accepts.status, 'fail');
    assert.match(accepts.explanation!, /never asked for a client certificate/);
    assert.doesNotMatch(accepts.explanation!, /CA mismatch/);
    assert.strictEqual(check(report, 'origin-rejects-foreign-cert').status, 'warn');
    assert.strictEqual(report.ok, false);
    // openssl and curl agree: no CertificateRequest, and an empty reply for everyone.
    assert.strictEqual(sClientCaNames(s.port), 'none');
    const c = await curl(s.port, { hostname: HOST, cacert: p.caCert });
    assert.strictEqual(c.exitCode, 52, c.stderr);
    const withCert = await curl(s.port, { hostname: HOST, cacert: p.caCert, cert: p.pull.cert, key: p.pull.key });
    assert.strictEqual(withCert.exitCode, 52, withCert.stderr);
  });

  it('the application closing the connection after a good mTLS handshake is named as such, not as a CA mismatch', async () => {
    const s = await nginx(`ssl_client_certificate ${p.pullCa.cert}; ssl_verify_client on;`, undefined, undefined, 'return 444;');
    const report = await leg2(s.port);
    const accepts = check(report, 'origin-accepts-pull-cert');
    assert.strictEqual(accepts.status, 'fail', dump(report));
    assert.match(accepts.explanation!, /TLS layer accepted it; then the application closed the connection/);
    assert.doesNotMatch(accepts.explanation!, /CA mismatch/);
    assert.strictEqual(check(report, 'origin-requires-client-cert').status, 'pass', 'it does ask for and require a certificate');
  });

  it('origin-requested-cas passes when the origin names the root above the pull certificate\'s intermediate (nginx, depth 2)', async () => {
    const s = await nginx(`ssl_client_certificate ${root.cert}; ssl_verify_client on; ssl_verify_depth 2;`);
    const report = await leg2(s.port, { pull: pem(interPull.chain, interPull.key) });
    const cas = check(report, 'origin-requested-cas');
    assert.strictEqual(cas.status, 'pass', dump(report));
    assert.match(cas.detail, /"CN=Example AOP Root".*an ancestor of the origin-pull certificate \(issued by "CN=Example AOP Intermediate,O=Example"/);
    assert.strictEqual(check(report, 'origin-accepts-pull-cert').status, 'pass', dump(report));
    // openssl names the root alone; curl with the same chain gets the page.
    assert.match(sClientCaNames(s.port), /^CN ?= ?Example AOP Root$/);
    const c = await curl(s.port, { hostname: HOST, cacert: p.caCert, cert: interPull.chain, key: interPull.key });
    assert.strictEqual(c.status, 200, c.stderr);
  });

  it('a refusal by an origin that trusts the pull certificate\'s CA does not blame the CA: a certificate without clientAuth is named (nginx)', async () => {
    const s = await nginx(`ssl_client_certificate ${p.pullCa.cert}; ssl_verify_client on;`);
    const serverProfile = makeLeaf(p.dir, 'pull-server-profile', p.pullCa, 'server', 'pull-without-clientauth');
    const report = await leg2(s.port, { pull: pem(serverProfile.cert, serverProfile.key) });
    const accepts = check(report, 'origin-accepts-pull-cert');
    assert.strictEqual(accepts.status, 'fail', dump(report));
    assert.match(accepts.detail, /The origin trusts "CN=Example Origin Pull CA/);
    assert.match(accepts.explanation!, /which vouches for the origin-pull certificate, so this is not a CA mismatch/);
    assert.match(accepts.explanation!, /Extended Key Usage does not include clientAuth/);
    assert.doesNotMatch(accepts.explanation!, /AOP CA mismatch/);
    assert.strictEqual(accepts.action, 'issue-pull-cert');
    assert.strictEqual(check(report, 'origin-requested-cas').status, 'pass');
  });

  it('a CA mismatch is still named as one (nginx trusting another CA)', async () => {
    const s = await nginx(`ssl_client_certificate ${p.otherCaCert}; ssl_verify_client on;`);
    const report = await leg2(s.port);
    const accepts = check(report, 'origin-accepts-pull-cert');
    assert.strictEqual(accepts.status, 'fail', dump(report));
    assert.match(accepts.explanation!, /AOP CA mismatch/);
    assert.match(accepts.detail, /The origin trusts "CN=Unrelated CA"/);
  });

  it('an expired pull certificate is named as expired, not as a CA problem (nginx and Apache)', async () => {
    const n = await nginx(`ssl_client_certificate ${p.pullCa.cert}; ssl_verify_client on;`);
    const a = await startApache(`<VirtualHost 127.0.0.1:__PORT__>
  ServerName ${HOST}
  SSLEngine on
  SSLCertificateFile ${p.serverCert}
  SSLCertificateKeyFile ${p.serverKey}
  SSLVerifyClient require
  SSLVerifyDepth 1
  SSLCACertificateFile ${p.pullCa.cert}
</VirtualHost>`);
    servers.push(a);
    for (const s of [n, a]) {
      const report = await leg2(s.port, { pull: pem(expiredPull.cert, expiredPull.key) });
      const accepts = check(report, 'origin-accepts-pull-cert');
      assert.strictEqual(accepts.status, 'fail', dump(report));
      assert.match(accepts.explanation!, /The origin-pull certificate expired on \d{4}-\d\d-\d\d/);
      assert.doesNotMatch(accepts.explanation!, /CA mismatch/);
      assert.strictEqual(accepts.action, 'issue-pull-cert');
      // curl with the same certificate is refused too (nginx 400, Apache in the handshake).
      const c = await curl(s.port, { hostname: HOST, cacert: p.caCert, cert: expiredPull.cert, key: expiredPull.key });
      assert.ok(c.status === 400 || c.exitCode !== 0, `curl: ${c.exitCode} ${c.status} ${c.stderr}`);
    }
  });

  it('Apache per-directory SSLVerifyClient (needs renegotiation / post-handshake auth) is named, with the fix to move it to the VirtualHost', async () => {
    const a = await startApache(`<VirtualHost 127.0.0.1:__PORT__>
  ServerName ${HOST}
  SSLEngine on
  SSLCertificateFile ${p.serverCert}
  SSLCertificateKeyFile ${p.serverKey}
  SSLCACertificateFile ${p.pullCa.cert}
  <Location />
    SSLVerifyClient require
    SSLVerifyDepth 1
  </Location>
</VirtualHost>`);
    servers.push(a);
    const report = await leg2(a.port);
    const accepts = check(report, 'origin-accepts-pull-cert');
    assert.strictEqual(accepts.status, 'fail', dump(report));
    assert.match(accepts.explanation!, /per directory or location/);
    assert.match(accepts.explanation!, /renegotiation \(TLS 1\.2\) or post-handshake authentication \(TLS 1\.3\)/);
    assert.match(accepts.fix!, /<VirtualHost> level/);
    assert.doesNotMatch(accepts.explanation!, /CA mismatch/);
    // openssl sees no CertificateRequest in the handshake. curl (OpenSSL, post-handshake auth on) gets the
    // page; Cloudflare, like the probe, does not do post-handshake auth: curl is no stand-in for it here.
    assert.strictEqual(sClientCaNames(a.port), 'none');
    const c = await curl(a.port, { hostname: HOST, cacert: p.caCert, cert: p.pull.cert, key: p.pull.key });
    assert.strictEqual(c.status, 200, `curl: ${c.exitCode} ${c.status} ${c.stderr}`);
  });

  it('an incomplete origin chain says "serve the intermediate (full chain)", and the full chain passes', async () => {
    const leafOnly = await nginx(`ssl_client_certificate ${p.pullCa.cert}; ssl_verify_client on;`, interServer.cert, interServer.key);
    const report = await leg2(leafOnly.port, { originCa: read(root.cert) });
    const valid = check(report, 'origin-cert-valid');
    assert.strictEqual(valid.status, 'fail', dump(report));
    assert.match(valid.detail, /chain is incomplete.*without the intermediate "CN=Example AOP Intermediate,O=Example"/);
    assert.match(valid.fix!, /Serve the intermediate \(full chain\)/);
    assert.doesNotMatch(valid.fix!, /trustedOriginCa/);
    const rootFile = root.cert;
    const c = await curl(leafOnly.port, { hostname: HOST, cacert: rootFile, cert: p.pull.cert, key: p.pull.key });
    assert.strictEqual(c.exitCode, 60, `curl agrees: ${c.stderr}`);
    const full = await nginx(`ssl_client_certificate ${p.pullCa.cert}; ssl_verify_client on;`, interServer.full, interServer.key);
    const ok = await leg2(full.port, { originCa: read(root.cert) });
    assert.strictEqual(check(ok, 'origin-cert-valid').status, 'pass', dump(ok));
  });

  it('a timeout says which phase stalled and the Cloudflare error a visitor would see', async () => {
    // TCP accepted, TLS never answered.
    const silent = net.createServer(() => undefined);
    // TLS completes, the request is never answered.
    const hung = tls.createServer({ cert: read(p.serverCert), key: read(p.serverKey) }, () => undefined);
    const listen = (s: net.Server) => new Promise<number>(r => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));
    const sockets: net.Socket[] = [];
    silent.on('connection', c => sockets.push(c));
    hung.on('connection', c => sockets.push(c));
    try {
      const [a, b] = [await listen(silent), await listen(hung)];
      const r1 = await runProbes({ legs: 'leg2', hostname: HOST, originAddress: `127.0.0.1:${a}`, timeoutMs: 400, only: ['origin-requires-client-cert'] });
      const c1 = check(r1, 'origin-requires-client-cert');
      assert.strictEqual(c1.status, 'fail');
      assert.match(c1.detail, /TCP connected, but the TLS handshake stalled/);
      assert.match(c1.explanation!, /522 Connection timed out/);
      const r2 = await runProbes({ legs: 'leg2', hostname: HOST, originAddress: `127.0.0.1:${b}`, timeoutMs: 400, only: ['origin-requires-client-cert'] });
      const c2 = check(r2, 'origin-requires-client-cert');
      assert.match(c2.detail, /the TLS handshake completed and the request was sent, but no response came/);
      assert.match(c2.explanation!, /524 A timeout occurred/);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
      hung.close();
    }
  });
});
