// The real proof of Leg 1's certificates: a TLS server on loopback that requires client certificates from
// our CA accepts the issued one through curl, and rejects one from another CA or none at all.
import * as assert from 'assert';
import * as fs from 'fs';
import * as https from 'https';
import * as path from 'path';
import { execFile } from 'child_process';
import { AddressInfo } from 'net';
import { CertAndKey, KeyAlgorithm, createRootCa, exportPkcs12, issueCertificate } from '../../../src/core/pki';
import { tmpDir, write } from './helpers';

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile('curl', ['-sS', '--max-time', '20', ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

for (const [label, caKey, leafKey] of [['RSA', 'rsa2048', 'rsa2048'], ['ECDSA', 'ec-p256', 'ec-p256']] as [string, KeyAlgorithm, KeyAlgorithm][]) {
  describe(`pki: mutual TLS with ${label} certificates (Node TLS server + curl)`, function () {
    this.timeout(120000);
    let dir: string;
    let server: https.Server;
    let port: number;
    let ca: CertAndKey;
    let client: CertAndKey;
    let stranger: CertAndKey;
    const url = () => `https://mtls.test:${port}/`;
    const resolve = () => ['--resolve', `mtls.test:${port}:127.0.0.1`];

    before(async () => {
      dir = tmpDir('mtls-tls-');
      const otherCa = await createRootCa({ cn: 'Someone Else', key: caKey });
      ca = await createRootCa({ cn: 'Workbench Test Root', key: caKey });
      const srv = await issueCertificate(ca, { cn: 'mtls.test', profile: 'server', key: leafKey, sans: ['mtls.test', '127.0.0.1'] });
      client = await issueCertificate(ca, { cn: 'alice', key: leafKey });
      stranger = await issueCertificate(otherCa, { cn: 'mallory', key: leafKey });
      write(path.join(dir, 'ca.pem'), ca.certPem);
      for (const [n, c] of [['client', client], ['stranger', stranger]] as const) {
        write(path.join(dir, `${n}.pem`), c.certPem);
        write(path.join(dir, `${n}.key`), c.keyPem);
      }
      fs.writeFileSync(path.join(dir, 'client.p12'), await exportPkcs12({ certPem: client.certPem, keyPem: client.keyPem, chainPems: [ca.certPem], password: 'p12pass' }));
      server = https.createServer({ cert: srv.certPem, key: srv.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
        const peer = (req.socket as import('tls').TLSSocket).getPeerCertificate();
        res.end(`hello ${peer.subject?.CN}\n`);
      });
      await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
      port = (server.address() as AddressInfo).port;
    });
    after(async () => {
      await new Promise(r => server.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('accepts the client certificate issued by the CA (curl --cert/--key, server verified with --cacert)', async () => {
      const r = await curl(['--cacert', path.join(dir, 'ca.pem'), ...resolve(), '--cert', path.join(dir, 'client.pem'), '--key', path.join(dir, 'client.key'), url()]);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stdout, 'hello alice\n');
    });

    it('accepts the same identity from the modern .p12', async () => {
      const r = await curl(['--cacert', path.join(dir, 'ca.pem'), ...resolve(), '--cert-type', 'P12', '--cert', `${path.join(dir, 'client.p12')}:p12pass`, url()]);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stdout, 'hello alice\n');
    });

    it('rejects a client certificate from another CA', async () => {
      const r = await curl(['--cacert', path.join(dir, 'ca.pem'), ...resolve(), '--cert', path.join(dir, 'stranger.pem'), '--key', path.join(dir, 'stranger.key'), url()]);
      assert.notStrictEqual(r.code, 0, 'the handshake must fail');
      assert.doesNotMatch(r.stdout, /hello/);
    });

    it('rejects a client without a certificate', async () => {
      const r = await curl(['--cacert', path.join(dir, 'ca.pem'), ...resolve(), url()]);
      assert.notStrictEqual(r.code, 0);
      assert.doesNotMatch(r.stdout, /hello/);
    });
  });
}

describe('pki: mutual TLS through a real nginx on loopback', function () {
  this.timeout(120000);
  let dir: string;
  let nginx: import('../../support/servers').RunningServer | undefined;
  let servers: typeof import('../../support/servers');

  before(async function () {
    servers = await import('../../support/servers');
    if (!fs.existsSync(servers.NGINX)) return this.skip();
    dir = tmpDir('mtls-nginx-');
    const ca = await createRootCa({ cn: 'Nginx Test Root', key: 'rsa2048' });
    const other = await createRootCa({ cn: 'Other Root', key: 'ec-p256' });
    const srv = await issueCertificate(ca, { cn: 'mtls.test', profile: 'server', key: 'ec-p256' });
    const client = await issueCertificate(ca, { cn: 'alice', key: 'rsa2048' });
    const stranger = await issueCertificate(other, { cn: 'mallory', key: 'ec-p256' });
    write(path.join(dir, 'ca.pem'), ca.certPem);
    for (const [n, c] of [['client', client], ['stranger', stranger]] as const) {
      write(path.join(dir, `${n}.pem`), c.certPem);
      write(path.join(dir, `${n}.key`), c.keyPem);
    }
    nginx = await servers.startNginx(`
  server {
    listen 127.0.0.1:__PORT__ ssl;
    server_name mtls.test;
    ssl_certificate __DIR__/server.pem;
    ssl_certificate_key __DIR__/server.key;
    ssl_client_certificate __DIR__/ca.pem;
    ssl_verify_client on;
    location / { return 200 "hello $ssl_client_s_dn\\n"; }
  }`, { files: { 'server.pem': srv.certPem, 'server.key': srv.keyPem, 'ca.pem': ca.certPem } });
  });
  after(async () => {
    await nginx?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('accepts the issued client certificate and refuses one from another CA or none', async () => {
    const base = { hostname: 'mtls.test', cacert: path.join(dir, 'ca.pem') };
    const ok = await servers.curl(nginx!.port, { ...base, cert: path.join(dir, 'client.pem'), key: path.join(dir, 'client.key') });
    assert.strictEqual(ok.exitCode, 0, ok.stderr);
    assert.strictEqual(ok.status, 200, ok.body);
    assert.match(ok.body, /hello CN=alice/);
    const bad = await servers.curl(nginx!.port, { ...base, cert: path.join(dir, 'stranger.pem'), key: path.join(dir, 'stranger.key') });
    assert.strictEqual(bad.status, 400, 'nginx answers 400 to a certificate it cannot verify');
    assert.doesNotMatch(bad.body, /hello/);
    const none = await servers.curl(nginx!.port, base);
    assert.strictEqual(none.status, 400);
    assert.match(none.body, /No required SSL certificate was sent/);
  });
});
