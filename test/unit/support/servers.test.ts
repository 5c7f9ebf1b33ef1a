// The test harness itself: real nginx and Apache start on loopback, require client certificates from the
// test CA, and curl agrees. If these fail, every server-backed test would be meaningless.
import * as assert from 'assert';
import { makeTestPki, TestPki } from '../../support/openssl';
import { apacheConfigTest, curl, nginxConfigTest, startApache, startNginx } from '../../support/servers';

const HOST = 'mtls.example.test';

describe('test support: real servers on loopback', () => {
  let pki: TestPki;
  before(() => { pki = makeTestPki(); });
  after(() => pki.remove());

  it('nginx -t accepts a good config and refuses ssl_verify_client without a CA', async () => {
    const good = await nginxConfigTest(`server { listen 127.0.0.1:__PORT__ ssl; ssl_certificate ${pki.serverCert}; ssl_certificate_key ${pki.serverKey}; ssl_client_certificate ${pki.caCert}; ssl_verify_client on; }`);
    assert.ok(good.ok, good.output);
    const bad = await nginxConfigTest(`server { listen 127.0.0.1:__PORT__ ssl; ssl_certificate ${pki.serverCert}; ssl_certificate_key ${pki.serverKey}; ssl_verify_client on; }`);
    assert.strictEqual(bad.ok, false);
    assert.match(bad.output, /no ssl_client_certificate for ssl_verify_client/);
  });

  it('nginx requiring client certificates: curl without a certificate is refused, with one it gets 200', async () => {
    const server = await startNginx(`server { listen 127.0.0.1:__PORT__ ssl; server_name ${HOST}; ssl_certificate ${pki.serverCert}; ssl_certificate_key ${pki.serverKey}; ssl_client_certificate ${pki.caCert}; ssl_verify_client on; location / { return 200 "ok\\n"; } }`);
    try {
      const without = await curl(server.port, { hostname: HOST, cacert: pki.caCert });
      assert.strictEqual(without.status, 400, `expected 400 No required SSL certificate, got ${without.status} ${without.stderr}`);
      assert.match(without.body, /No required SSL certificate was sent/);
      const withCert = await curl(server.port, { hostname: HOST, cacert: pki.caCert, cert: pki.clientCert, key: pki.clientKey });
      assert.strictEqual(withCert.status, 200, withCert.stderr);
      const foreign = await curl(server.port, { hostname: HOST, cacert: pki.caCert, cert: pki.otherClientCert, key: pki.otherClientKey });
      assert.strictEqual(foreign.status, 400);
    } finally {
      await server.stop();
    }
  });

  it('apache2 -t accepts a good vhost and Apache requiring client certificates refuses one without', async () => {
    const vhost = `<VirtualHost 127.0.0.1:__PORT__>
  ServerName ${HOST}
  SSLEngine on
  SSLCertificateFile ${pki.serverCert}
  SSLCertificateKeyFile ${pki.serverKey}
  SSLVerifyClient require
  SSLVerifyDepth 1
  SSLCACertificateFile ${pki.caCert}
</VirtualHost>`;
    const check = await apacheConfigTest(vhost);
    assert.ok(check.ok, check.output);
    const server = await startApache(vhost);
    try {
      const without = await curl(server.port, { hostname: HOST, cacert: pki.caCert });
      assert.notStrictEqual(without.status, 200, 'Apache served a client without a certificate');
      const withCert = await curl(server.port, { hostname: HOST, cacert: pki.caCert, cert: pki.clientCert, key: pki.clientKey });
      assert.strictEqual(withCert.status, 200, withCert.stderr + server.errorLog());
    } finally {
      await server.stop();
    }
  });
});
