// Real-server agreement: for a table of nginx and Apache configs, every leg2-no-ca / leg2-invalid-value /
// leg2-ca-file / tls-no-certificate error the linter gives matches the real server refusing the config
// (`nginx -t` fails; `apache2 -t` fails or the server logs AH0xxxx / fails at start), and every config the
// linter passes without errors is accepted. Where it shows what the finding is about, curl checks the
// running server (an open Leg 2 lets a client without a certificate in; a fixed one does not).
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Finding, lintText } from '../../../src/core/lint';
import { execFileSync } from 'child_process';
import { makeLeaf, makeTestPki, TestPki } from '../../support/openssl';
import { apacheConfigTest, apacheMainConfig, curl, nginxConfigTest, nginxMainConfig, startApache, startNginx } from '../../support/servers';

const HAVE_NGINX = fs.existsSync('/usr/sbin/nginx');
const HAVE_APACHE = fs.existsSync('/usr/sbin/apache2');
const REFUSAL_CODES = ['leg2-no-ca', 'leg2-invalid-value', 'leg2-ca-file', 'tls-no-certificate'];
const ORIGIN_PULL = path.join(__dirname, '../../../../test/fixtures/cloudflare/authenticated_origin_pull_ca.pem');

interface Row {
  name: string;
  /** Config text; {P} is the PKI folder, __PORT__ the listen port. */
  config: string;
  /** Codes the linter must report (any severity). */
  expect: string[];
  /** For a config the server refuses: text its output/log must contain. */
  refusal?: RegExp;
  /**
   * curl checks on a server that starts: status without a client certificate, with the right one, with a
   * foreign one (0 = no HTTP answer). `path` defaults to /index.html.
   */
  curl?: { without: (s: number) => boolean; with?: (s: number) => boolean; foreign?: (s: number) => boolean; path?: string };
}

/** Refused: no HTTP answer (handshake failed, 444), 400 (nginx: no or bad certificate), 403. */
const refused = (s: number) => s === 0 || s === 400 || s === 403;
const served = (s: number) => s === 200;

function errorsOf(fs: Finding[]): Finding[] {
  return fs.filter(f => f.severity === 'error');
}

const ngx = (body: string) => `server {\n    listen 127.0.0.1:__PORT__ ssl;\n    server_name localhost;\n    ssl_certificate {P}/server.pem;\n    ssl_certificate_key {P}/server.key;\n${body}    location / { root __DIR__/htdocs; }\n}\n`;

const NGINX_ROWS: Row[] = [
  { name: 'AOP done right (on + CA + depth)', config: ngx('    ssl_client_certificate {P}/ca.pem;\n    ssl_verify_client on;\n    ssl_verify_depth 1;\n'), expect: [], curl: { without: s => s === 400, with: s => s === 200 } },
  { name: 'TLS without client auth', config: ngx(''), expect: ['leg2-no-client-auth'], curl: { without: s => s === 200 } },
  { name: 'ssl_verify_client require (Apache word)', config: ngx('    ssl_client_certificate {P}/ca.pem;\n    ssl_verify_client require;\n'), expect: ['leg2-invalid-value'], refusal: /invalid value "require"/ },
  { name: 'on without ssl_client_certificate', config: ngx('    ssl_verify_client on;\n'), expect: ['leg2-no-ca'], refusal: /no ssl_client_certificate for ssl_verify_client/ },
  { name: 'optional without ssl_client_certificate', config: ngx('    ssl_verify_client optional;\n    if ($ssl_client_verify != SUCCESS) { return 403; }\n'), expect: ['leg2-no-ca'], refusal: /no ssl_client_certificate for ssl_verify_client/ },
  { name: 'CA only in ssl_trusted_certificate', config: ngx('    ssl_trusted_certificate {P}/ca.pem;\n    ssl_verify_client on;\n'), expect: ['leg2-no-ca', 'leg2-trusted-not-sent'], refusal: /no ssl_client_certificate for ssl_verify_client/ },
  { name: 'CA file missing', config: ngx('    ssl_client_certificate {P}/missing.pem;\n    ssl_verify_client on;\n'), expect: ['leg2-ca-file'], refusal: /missing\.pem/ },
  { name: 'CA file empty', config: ngx('    ssl_client_certificate {P}/empty.pem;\n    ssl_verify_client on;\n'), expect: ['leg2-ca-file'], refusal: /no certificate or crl found/ },
  { name: 'CA file holds only a key', config: ngx('    ssl_client_certificate {P}/ca.key;\n    ssl_verify_client on;\n'), expect: ['leg2-ca-file'], refusal: /no certificate or crl found/ },
  { name: 'CA file holds a leaf, not a CA (warning: nginx loads it)', config: ngx('    ssl_client_certificate {P}/client.pem;\n    ssl_verify_client on;\n    ssl_verify_depth 1;\n'), expect: ['leg2-ca-file'], curl: { without: s => s === 400, with: s => s === 400 } },
  { name: 'shared origin-pull CA (information)', config: ngx(`    ssl_client_certificate ${ORIGIN_PULL};\n    ssl_verify_client on;\n    ssl_verify_depth 1;\n`), expect: ['leg2-ca-file'], curl: { without: s => s === 400, with: s => s === 400 } },
  { name: 'optional_no_ca, unchecked (warning: Leg 2 open)', config: ngx('    ssl_verify_client optional_no_ca;\n'), expect: ['leg2-optional-unchecked'], curl: { without: s => s === 200 } },
  { name: 'optional with the $ssl_client_verify check', config: ngx('    ssl_client_certificate {P}/ca.pem;\n    ssl_verify_client optional;\n    ssl_verify_depth 1;\n    if ($ssl_client_verify != SUCCESS) { return 403; }\n'), expect: [], curl: { without: s => s === 403, with: s => s === 200 } },
  { name: 'listen ssl without ssl_certificate', config: 'server {\n    listen 127.0.0.1:__PORT__ ssl;\n    ssl_verify_client off; # mtls-lint: ignore leg2-no-client-auth\n}\n', expect: ['tls-no-certificate'], refusal: /no "ssl_certificate" is defined/ },
  { name: 'certificate without key', config: 'server {\n    listen 127.0.0.1:__PORT__ ssl;\n    ssl_certificate {P}/server.pem;\n}\n', expect: ['tls-no-certificate', 'leg2-no-client-auth'], refusal: /no "ssl_certificate_key" is defined/ },
  { name: 'ssl_verify_client inside location', config: ngx('    ssl_client_certificate {P}/ca.pem;\n    location /admin { ssl_verify_client on; }\n'), expect: ['leg2-invalid-value', 'leg2-no-client-auth'], refusal: /"ssl_verify_client" directive is not allowed here/ },
  { name: 'plain-HTTP server inheriting certificates, verify on, no CA', config: 'ssl_certificate {P}/server.pem;\nssl_certificate_key {P}/server.key;\nserver {\n    listen 127.0.0.1:__PORT__;\n    ssl_verify_client on;\n}\n', expect: ['leg2-no-ca'], refusal: /no ssl_client_certificate for ssl_verify_client/ },
  { name: 'plain HTTP, no TLS at all', config: 'server {\n    listen 127.0.0.1:__PORT__;\n    location / { return 200 "ok"; }\n}\n', expect: [] },
  { name: 'optional with an if on $ssl_client_verify that only sets a variable and a header (open)', config: ngx('    ssl_client_certificate {P}/ca.pem;\n    ssl_verify_client optional;\n    ssl_verify_depth 1;\n    if ($ssl_client_verify != SUCCESS) { set $unverified 1; }\n    add_header X-Unverified $unverified always;\n'), expect: ['leg2-optional-unchecked'], curl: { without: served, with: served, foreign: refused } },
  { name: 'optional_no_ca with the verify result only echoed to the client (open)', config: ngx('    ssl_verify_client optional_no_ca;\n    add_header X-Client-Verify $ssl_client_verify always;\n'), expect: ['leg2-optional-unchecked'], curl: { without: served, with: served, foreign: served } },
  { name: 'optional checked in location /admin only (the rest is open)', config: ngx('    ssl_client_certificate {P}/ca.pem;\n    ssl_verify_client optional;\n    ssl_verify_depth 1;\n    location /admin { if ($ssl_client_verify != SUCCESS) { return 403; } }\n'), expect: ['leg2-optional-unchecked'], curl: { without: served, with: served } },
  { name: 'optional checked with a map variable (closed)', config: 'map $ssl_client_verify $unverified { default 1; SUCCESS 0; }\n' + ngx('    ssl_client_certificate {P}/ca.pem;\n    ssl_verify_client optional;\n    ssl_verify_depth 1;\n    if ($unverified) { return 403; }\n'), expect: [], curl: { without: refused, with: served, foreign: refused } },
  { name: 'catch-all server that only returns 444 (serves nobody)', config: 'server {\n    listen 127.0.0.1:__PORT__ ssl default_server;\n    ssl_certificate {P}/server.pem;\n    ssl_certificate_key {P}/server.key;\n    return 444;\n}\n', expect: [], curl: { without: refused, with: refused, foreign: refused } },
  { name: 'catch-all server with ssl_reject_handshake on (serves nobody)', config: 'server {\n    listen 127.0.0.1:__PORT__ ssl default_server;\n    ssl_reject_handshake on;\n}\n', expect: [], curl: { without: refused, with: refused, foreign: refused } },
];

const vh = (body: string, engine = '    SSLEngine on\n    SSLCertificateFile {P}/server.pem\n    SSLCertificateKeyFile {P}/server.key\n') =>
  `<VirtualHost 127.0.0.1:__PORT__>\n    ServerName localhost\n${engine}${body}</VirtualHost>\n`;

const APACHE_ROWS: Row[] = [
  { name: 'AOP done right (require + CA + depth)', config: vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyClient require\n    SSLVerifyDepth 1\n'), expect: [], curl: { without: s => s === 0, with: s => s === 200 } },
  { name: 'TLS without client auth', config: vh(''), expect: ['leg2-no-client-auth'], curl: { without: s => s === 200 } },
  { name: 'SSLVerifyClient required (invalid)', config: vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyClient required\n'), expect: ['leg2-invalid-value'], refusal: /Invalid argument 'required'/ },
  { name: 'SSLVerifyClient with a trailing # comment', config: vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyClient require # AOP\n'), expect: ['leg2-invalid-value'], refusal: /SSLVerifyClient takes one argument/ },
  { name: 'require without a CA', config: vh('    SSLVerifyClient require\n'), expect: ['leg2-no-ca'], refusal: /AH01897/, curl: { without: s => s === 0, with: s => s === 0 } },
  { name: 'optional without a CA (warning: no AH01897, but certificates fail)', config: vh('    SSLVerifyClient optional\n    <Location />\n        Require expr %{SSL_CLIENT_VERIFY} == \'SUCCESS\'\n    </Location>\n'), expect: ['leg2-no-ca'], curl: { without: s => s === 403, with: s => s === 0 } },
  { name: 'CA file missing', config: vh('    SSLCACertificateFile {P}/missing.pem\n    SSLVerifyClient require\n'), expect: ['leg2-ca-file'], refusal: /does not exist or is empty/ },
  { name: 'CA file empty', config: vh('    SSLCACertificateFile {P}/empty.pem\n    SSLVerifyClient require\n'), expect: ['leg2-ca-file'], refusal: /does not exist or is empty/ },
  { name: 'CA file holds only a key', config: vh('    SSLCACertificateFile {P}/ca.key\n    SSLVerifyClient require\n    SSLVerifyDepth 1\n'), expect: ['leg2-ca-file'], refusal: /AH01895/ },
  { name: 'CA file holds a leaf (warning)', config: vh('    SSLCACertificateFile {P}/client.pem\n    SSLVerifyClient require\n    SSLVerifyDepth 1\n'), expect: ['leg2-ca-file'], curl: { without: s => s === 0, with: s => s === 0 } },
  { name: 'SSLCACertificateFile inside <Location>', config: vh('    <Location />\n        SSLCACertificateFile {P}/ca.pem\n    </Location>\n'), expect: ['leg2-invalid-value', 'leg2-no-client-auth'], refusal: /does not have support for per-directory CA/ },
  { name: 'no SSLCertificateFile', config: vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyClient require\n    SSLVerifyDepth 1\n', '    SSLEngine on\n'), expect: ['tls-no-certificate'], refusal: /AH02572/ },
  { name: 'certificate without key', config: vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyClient require\n    SSLVerifyDepth 1\n', '    SSLEngine on\n    SSLCertificateFile {P}/server.pem\n'), expect: ['tls-no-certificate'], refusal: /AH0\d{4}/ },
  { name: 'optional with Require expr on SSL_CLIENT_VERIFY', config: vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyClient optional\n    SSLVerifyDepth 1\n    <Location />\n        Require expr %{SSL_CLIENT_VERIFY} == \'SUCCESS\'\n    </Location>\n'), expect: [], curl: { without: s => s === 403, with: s => s === 200 } },
  { name: 'optional, unchecked (warning: Leg 2 open)', config: vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyClient optional\n    SSLVerifyDepth 1\n'), expect: ['leg2-optional-unchecked'], curl: { without: s => s === 200, with: s => s === 200 } },
  { name: 'plain HTTP vhost', config: vh('', ''), expect: [] },
  { name: 'SSLVerifyClient require only in <Location /admin> (the rest is open; renegotiation)', config: vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyDepth 1\n    <Location /admin>\n        SSLVerifyClient require\n    </Location>\n'), expect: ['leg2-no-client-auth', 'leg2-per-directory-verify'], curl: { without: served, with: served, foreign: served } },
  { name: 'SSLVerifyClient require in <Location /> (closed, but only by renegotiation / post-handshake auth)', config: vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyDepth 1\n    <Location />\n        SSLVerifyClient require\n    </Location>\n'), expect: ['leg2-per-directory-verify'], curl: { without: refused, foreign: refused } },
  { name: 'optional, Require expr only in <Location /admin> (the rest is open)', config: vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyClient optional\n    SSLVerifyDepth 1\n    <Location /admin>\n        Require expr %{SSL_CLIENT_VERIFY} == \'SUCCESS\'\n    </Location>\n'), expect: ['leg2-optional-unchecked'], curl: { without: served, with: served, foreign: refused } },
  { name: 'optional, <If> on SSL_CLIENT_VERIFY that only sets a header (open)', config: vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyClient optional\n    SSLVerifyDepth 1\n    <If "%{SSL_CLIENT_VERIFY} != \'SUCCESS\'">\n        Header set X-Unverified yes\n    </If>\n'), expect: ['leg2-optional-unchecked'], curl: { without: served, with: served } },
  { name: 'optional, <If> on SSL_CLIENT_VERIFY with Require all denied (closed)', config: vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyClient optional\n    SSLVerifyDepth 1\n    <If "%{SSL_CLIENT_VERIFY} != \'SUCCESS\'">\n        Require all denied\n    </If>\n'), expect: [], curl: { without: refused, with: served, foreign: refused } },
  { name: 'optional, RewriteCond/RewriteRule without RewriteEngine On (open)', config: vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyClient optional\n    SSLVerifyDepth 1\n    RewriteCond %{SSL:SSL_CLIENT_VERIFY} !=SUCCESS\n    RewriteRule ^ - [F]\n'), expect: ['leg2-optional-unchecked'], curl: { without: served, with: served } },
  { name: 'optional, RewriteEngine On with RewriteCond/RewriteRule [F] (closed)', config: vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyClient optional\n    SSLVerifyDepth 1\n    RewriteEngine On\n    RewriteCond %{SSL:SSL_CLIENT_VERIFY} !=SUCCESS\n    RewriteRule ^ - [F]\n'), expect: [], curl: { without: refused, with: served, foreign: refused } },
  { name: 'optional, SSLRequire that only tests the cipher (open)', config: vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyClient optional\n    SSLVerifyDepth 1\n    <Location />\n        SSLRequire %{SSL_CIPHER} =~ m/AES|CHACHA/\n    </Location>\n'), expect: ['leg2-optional-unchecked'], curl: { without: served, with: served } },
  { name: 'optional, SSLRequire on SSL_CLIENT_VERIFY neutralised by Satisfy Any + Require all granted (open)', config: 'LoadModule access_compat_module /usr/lib/apache2/modules/mod_access_compat.so\n' + vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyClient optional\n    SSLVerifyDepth 1\n    <Location />\n        SSLRequire %{SSL_CLIENT_VERIFY} eq "SUCCESS"\n        Satisfy Any\n        Require all granted\n    </Location>\n'), expect: ['leg2-optional-unchecked'], curl: { without: served, with: served } },
  { name: 'optional, SSLRequire on SSL_CLIENT_VERIFY in <Location /> (closed)', config: vh('    SSLCACertificateFile {P}/ca.pem\n    SSLVerifyClient optional\n    SSLVerifyDepth 1\n    <Location />\n        SSLRequire %{SSL_CLIENT_VERIFY} eq "SUCCESS"\n    </Location>\n'), expect: [], curl: { without: refused, with: served, foreign: refused } },
  { name: 'mod_macro: a vhost built by a macro is linted (open)', config: 'LoadModule macro_module /usr/lib/apache2/modules/mod_macro.so\n<Macro TlsSite $port>\n<VirtualHost 127.0.0.1:$port>\n    ServerName localhost\n    SSLEngine on\n    SSLCertificateFile {P}/server.pem\n    SSLCertificateKeyFile {P}/server.key\n</VirtualHost>\n</Macro>\nUse TlsSite __PORT__\n', expect: ['leg2-no-client-auth'], curl: { without: served } },
  { name: 'mod_macro: a macro-built vhost that requires the certificate (closed)', config: 'LoadModule macro_module /usr/lib/apache2/modules/mod_macro.so\n<Macro AopSite $port $ca>\n<VirtualHost 127.0.0.1:$port>\n    ServerName localhost\n    SSLEngine on\n    SSLCertificateFile {P}/server.pem\n    SSLCertificateKeyFile {P}/server.key\n    SSLCACertificateFile $ca\n    SSLVerifyClient require\n    SSLVerifyDepth 1\n</VirtualHost>\n</Macro>\nUse AopSite __PORT__ {P}/ca.pem\n', expect: [], curl: { without: refused, with: served, foreign: refused } },
  { name: 'SSLCACertificatePath without <hash>.0 links trusts nothing (the right certificate is refused)', config: vh('    SSLCACertificatePath {P}/cadir-nolinks\n    SSLVerifyClient require\n    SSLVerifyDepth 1\n'), expect: ['leg2-ca-file'], curl: { without: refused, with: refused, foreign: refused } },
  { name: 'SSLCACertificatePath with hash links (openssl rehash)', config: vh('    SSLCACertificatePath {P}/cadir-hashed\n    SSLVerifyClient require\n    SSLVerifyDepth 1\n'), expect: [], curl: { without: refused, with: served, foreign: refused } },
];

const ALERTS = /AH01897|AH01895|AH02572|AH02312|AH00016/;

/** An intermediate CA under the test CA, a client certificate it issued, and the CA file holding both CAs. */
function makeIntermediateChain(pki: TestPki): { bundle: string; clientCert: string; clientKey: string } {
  const dir = pki.dir;
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'inter.key']);
  run(['req', '-new', '-key', 'inter.key', '-subj', '/CN=Test Intermediate CA', '-out', 'inter.csr']);
  fs.writeFileSync(path.join(dir, 'inter.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  run(['x509', '-req', '-in', 'inter.csr', '-CA', pki.caCert, '-CAkey', pki.caKey, '-CAcreateserial', '-days', '10', '-sha256', '-extfile', 'inter.ext', '-out', 'inter.pem']);
  const leaf = makeLeaf(dir, 'inter-client', { cert: path.join(dir, 'inter.pem'), key: path.join(dir, 'inter.key') }, 'client', 'chained-client');
  const bundle = path.join(dir, 'inter-bundle.pem');
  fs.writeFileSync(bundle, fs.readFileSync(path.join(dir, 'inter.pem'), 'utf8') + fs.readFileSync(pki.caCert, 'utf8'));
  for (const f of fs.readdirSync(dir)) if (fs.statSync(path.join(dir, f)).isFile()) fs.chmodSync(path.join(dir, f), 0o644);
  return { bundle, clientCert: leaf.cert, clientKey: leaf.key };
}

/** curl without a certificate, with the right one and with a foreign one, checked against a row. */
async function checkCurl(port: number, pki: TestPki, c: NonNullable<Row['curl']>): Promise<void> {
  const p = c.path ?? '/index.html';
  const without = await curl(port, { cacert: pki.caCert, path: p });
  assert.ok(c.without(without.status), `without a client certificate: ${without.status} ${without.stderr}`);
  if (c.with) {
    const r = await curl(port, { cacert: pki.caCert, cert: pki.clientCert, key: pki.clientKey, path: p });
    assert.ok(c.with(r.status), `with the right client certificate: ${r.status} ${r.stderr}`);
  }
  if (c.foreign) {
    const r = await curl(port, { cacert: pki.caCert, cert: pki.otherClientCert, key: pki.otherClientKey, path: p });
    assert.ok(c.foreign(r.status), `with a foreign client certificate: ${r.status} ${r.stderr}`);
  }
}

describe('lint: agreement with the real servers', function () {
  this.timeout(600000);
  let pki: TestPki;
  let chain: { bundle: string; clientCert: string; clientKey: string };
  let scratch: string;
  const fill = (t: string) => t.replace(/\{P\}/g, pki.dir);

  before(() => {
    pki = makeTestPki();
    fs.writeFileSync(path.join(pki.dir, 'empty.pem'), '');
    fs.chmodSync(path.join(pki.dir, 'empty.pem'), 0o644);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-lint-agree-'));
    for (const d of ['cadir-nolinks', 'cadir-hashed']) {
      fs.mkdirSync(path.join(pki.dir, d), { mode: 0o755 });
      fs.copyFileSync(pki.caCert, path.join(pki.dir, d, 'ca.pem'));
      fs.chmodSync(path.join(pki.dir, d, 'ca.pem'), 0o644);
    }
    execFileSync('openssl', ['rehash', path.join(pki.dir, 'cadir-hashed')], { stdio: 'ignore' });
    chain = makeIntermediateChain(pki);
  });
  after(() => { pki?.remove(); fs.rmSync(scratch, { recursive: true, force: true }); });

  /** Lints exactly the main config the server will get (same text, paths and includes). */
  function lintNginx(httpContent: string): Finding[] {
    const file = path.join(scratch, 'nginx.conf');
    return lintText(nginxMainConfig(httpContent.replace(/__PORT__/g, '8443').replace(/__DIR__/g, scratch), scratch), { file, dialect: 'nginx', settings: { workspaceRoot: scratch } });
  }
  function lintApache(content: string): Finding[] {
    const file = path.join(scratch, 'httpd.conf');
    return lintText(apacheMainConfig(content.replace(/__PORT__/g, '8443').replace(/__DIR__/g, scratch), scratch, 8443), { file, dialect: 'apache' });
  }

  describe('nginx (nginx -t, and curl on the started server)', () => {
    before(function () { if (!HAVE_NGINX) this.skip(); });
    for (const row of NGINX_ROWS) {
      it(row.name, async () => {
        const config = fill(row.config);
        const findings = lintNginx(config);
        const got = [...new Set(findings.filter(f => f.code !== 'leg2-verify-depth').map(f => f.code))].sort();
        assert.deepStrictEqual(got, [...row.expect].sort(), findings.map(f => `${f.severity} ${f.code}: ${f.message}`).join('\n'));
        const errors = errorsOf(findings).filter(f => REFUSAL_CODES.includes(f.code));
        assert.deepStrictEqual(errorsOf(findings).filter(f => !REFUSAL_CODES.includes(f.code)), [], 'only refusal codes are errors here');
        const t = await nginxConfigTest(config);
        if (errors.length) {
          assert.strictEqual(t.ok, false, `linter error(s) ${errors.map(e => e.code)} but nginx -t accepts:\n${t.output}`);
          if (row.refusal) assert.match(t.output, row.refusal);
        } else {
          assert.strictEqual(t.ok, true, `no linter error but nginx -t refuses:\n${t.output}`);
        }
        if (row.curl && t.ok) {
          const s = await startNginx(config);
          try {
            await checkCurl(s.port, pki, row.curl);
          } finally {
            await s.stop();
          }
        }
      });
    }
  });

  describe('Apache (apache2 -t, then a real start: AH0xxxx in the log; curl)', () => {
    before(function () { if (!HAVE_APACHE) this.skip(); });
    for (const row of APACHE_ROWS) {
      it(row.name, async () => {
        const config = fill(row.config);
        const findings = lintApache(config);
        const got = [...new Set(findings.filter(f => f.code !== 'leg2-verify-depth').map(f => f.code))].sort();
        assert.deepStrictEqual(got, [...row.expect].sort(), findings.map(f => `${f.severity} ${f.code}: ${f.message}`).join('\n'));
        const errors = errorsOf(findings).filter(f => REFUSAL_CODES.includes(f.code));
        assert.deepStrictEqual(errorsOf(findings).filter(f => !REFUSAL_CODES.includes(f.code)), [], 'only refusal codes are errors here');
        const t = await apacheConfigTest(config);
        let started = false;
        let log = t.output;
        let server: Awaited<ReturnType<typeof startApache>> | undefined;
        if (t.ok) {
          try {
            server = await startApache(config);
            started = true;
            await new Promise(r => setTimeout(r, 300));
            log += '\n' + server.errorLog();
          } catch (err) {
            log += '\n' + (err as Error).message;
          }
        }
        try {
          const refused = !t.ok || !started || ALERTS.test(log);
          if (errors.length) {
            assert.ok(refused, `linter error(s) ${errors.map(e => e.code)} but Apache accepts and starts cleanly:\n${log}`);
            if (row.refusal) assert.match(log, row.refusal);
          } else {
            assert.ok(!refused, `no linter error but Apache refuses or alerts:\n${log}`);
          }
          if (row.curl && server) {
            await checkCurl(server.port, pki, row.curl);
          }
        } finally {
          await server?.stop();
        }
      });
    }
  });
  describe('verify depth: leg2-verify-depth agrees with what the server accepts (depth 0, one intermediate)', () => {
    interface DepthRow { server: 'nginx' | 'apache'; chain: 'direct' | 'intermediate'; depth: number; accepted: boolean }
    const rows: DepthRow[] = [
      { server: 'nginx', chain: 'direct', depth: 0, accepted: true },
      { server: 'nginx', chain: 'intermediate', depth: 0, accepted: false },
      { server: 'nginx', chain: 'intermediate', depth: 1, accepted: true },
      { server: 'apache', chain: 'direct', depth: 0, accepted: false },
      { server: 'apache', chain: 'direct', depth: 1, accepted: true },
      { server: 'apache', chain: 'intermediate', depth: 1, accepted: false },
      { server: 'apache', chain: 'intermediate', depth: 2, accepted: true },
    ];
    for (const r of rows) {
      it(`${r.server}: ${r.chain} client certificate, depth ${r.depth}: ${r.accepted ? 'accepted, no warning' : 'refused, leg2-verify-depth warning'}`, async function () {
        if (r.server === 'nginx' ? !HAVE_NGINX : !HAVE_APACHE) this.skip();
        const caFile = r.chain === 'direct' ? pki.caCert : chain.bundle;
        const config = r.server === 'nginx'
          ? ngx(`    ssl_client_certificate ${caFile};\n    ssl_verify_client on;\n    ssl_verify_depth ${r.depth};\n`)
          : vh(`    SSLCACertificateFile ${caFile}\n    SSLVerifyClient require\n    SSLVerifyDepth ${r.depth}\n`);
        const filled = fill(config);
        const findings = r.server === 'nginx' ? lintNginx(filled) : lintApache(filled);
        const warned = findings.some(f => f.code === 'leg2-verify-depth' && f.severity === 'warning');
        assert.strictEqual(warned, !r.accepted, findings.map(f => `${f.severity} ${f.code}: ${f.message}`).join('\n'));
        const s = r.server === 'nginx' ? await startNginx(filled) : await startApache(filled);
        try {
          const cert = r.chain === 'direct' ? { cert: pki.clientCert, key: pki.clientKey } : { cert: chain.clientCert, key: chain.clientKey };
          const res = await curl(s.port, { cacert: pki.caCert, ...cert, path: '/index.html' });
          assert.strictEqual(res.status === 200, r.accepted, `status ${res.status} ${res.stderr}`);
        } finally {
          await s.stop();
        }
      });
    }
  });
});
