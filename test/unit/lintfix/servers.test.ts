// Proof against the real servers: every config the quick-fixes produce from a table of broken nginx and
// Apache configs passes `nginx -t` / `apache2 -t`, and, started on 127.0.0.1, refuses a client without a
// certificate (or with one from another CA) and serves one with a certificate from the configured CA.
// The snippets get the same treatment.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { applyEdits, computeFixes, CaChoice, FixKind } from '../../../src/core/lint/fixes';
import type { RuleCode } from '../../../src/core/lint/types';
import { makeTestPki, TestPki } from '../../support/openssl';
import { apacheConfigTest, curl, nginxConfigTest, startApache, startNginx, RunningServer, ConfigTestResult } from '../../support/servers';
import { findingAt } from './helpers';
import { lintText } from '../../../src/core/lint';

const ROOT = path.resolve(__dirname, '../../../..');

interface Case {
  name: string;
  dialect: 'nginx' | 'apache';
  /** Broken config; CA/CERT/KEY/OTHERCA are replaced with the test PKI's paths. */
  text: string;
  code: RuleCode;
  /** Text the finding sits on (first occurrence). */
  at: string;
  fix: FixKind;
  /** Does the server's config test refuse the broken config? (documents what the rule's severity means) */
  brokenFailsConfigTest?: boolean;
  /** The fixed config still lets certificate-less clients in (the ignore marker). */
  open?: boolean;
  /** The linter cannot see this mistake (a valid CA, just not the right one): the finding is made up here. */
  synthetic?: boolean;
}

const NGX_TLS = 'listen 127.0.0.1:__PORT__ ssl;\n    server_name localhost;\n    ssl_certificate CERT;\n    ssl_certificate_key KEY;\n    root __DIR__/htdocs;';
const APA_TLS = 'ServerName localhost\n    SSLEngine on\n    SSLCertificateFile CERT\n    SSLCertificateKeyFile KEY';

const CASES: Case[] = [
  // ------------------------------------------------------------------ nginx
  { name: 'nginx: TLS server without client auth -> AOP directives', dialect: 'nginx', code: 'leg2-no-client-auth', at: 'server', fix: 'require-client-cert',
    text: `server {\n    ${NGX_TLS}\n\n    location / {\n        index index.html;\n    }\n}\n` },
  { name: 'nginx (tabs): ssl_verify_client off -> on, CA and depth added', dialect: 'nginx', code: 'leg2-no-client-auth', at: 'server', fix: 'require-client-cert',
    text: `server {\n\tlisten 127.0.0.1:__PORT__ ssl;\n\tssl_certificate CERT;\n\tssl_certificate_key KEY;\n\tssl_verify_client off;\n\troot __DIR__/htdocs;\n}\n` },
  { name: 'nginx: one-line server block -> AOP directives', dialect: 'nginx', code: 'leg2-no-client-auth', at: 'server', fix: 'require-client-cert',
    text: `server { listen 127.0.0.1:__PORT__ ssl; ssl_certificate CERT; ssl_certificate_key KEY; root __DIR__/htdocs; }\n` },
  { name: 'nginx: ssl_verify_client on without a CA -> ssl_client_certificate', dialect: 'nginx', code: 'leg2-no-ca', at: 'ssl_verify_client', fix: 'add-client-ca', brokenFailsConfigTest: true,
    text: `server {\n    ${NGX_TLS}\n    ssl_verify_client on;\n}\n` },
  { name: 'nginx: CA only in ssl_trusted_certificate -> moved to ssl_client_certificate', dialect: 'nginx', code: 'leg2-no-ca', at: 'ssl_verify_client', fix: 'move-to-client-ca', brokenFailsConfigTest: true,
    text: `server {\n    ${NGX_TLS}\n    ssl_trusted_certificate CA;\n    ssl_verify_client on;\n    ssl_verify_depth 1;\n}\n` },
  { name: 'nginx: ssl_verify_client require (invalid) -> on', dialect: 'nginx', code: 'leg2-invalid-value', at: 'require', fix: 'fix-value', brokenFailsConfigTest: true,
    text: `server {\n    ${NGX_TLS}\n    ssl_client_certificate CA;\n    ssl_verify_client require;\n}\n` },
  { name: 'nginx: optional, unchecked -> on', dialect: 'nginx', code: 'leg2-optional-unchecked', at: 'ssl_verify_client', fix: 'set-required',
    text: `server {\n    ${NGX_TLS}\n    ssl_client_certificate CA;\n    ssl_verify_client optional;\n}\n` },
  { name: 'nginx: optional, unchecked -> if ($ssl_client_verify != SUCCESS) { return 403; }', dialect: 'nginx', code: 'leg2-optional-unchecked', at: 'ssl_verify_client', fix: 'add-verify-check',
    text: `server {\n  listen 127.0.0.1:__PORT__ ssl;\n  ssl_certificate CERT;\n  ssl_certificate_key KEY;\n  ssl_client_certificate CA;\n  ssl_verify_client optional;\n  root __DIR__/htdocs;\n}\n` },
  { name: 'nginx: optional_no_ca at http level, unchecked -> check in the server', dialect: 'nginx', code: 'leg2-optional-unchecked', at: 'server', fix: 'add-verify-check',
    text: `ssl_client_certificate CA;\nssl_verify_client optional_no_ca;\nserver {\n    ${NGX_TLS}\n}\n` },
  { name: 'nginx: wrong CA file (another CA) -> the configured CA', dialect: 'nginx', code: 'leg2-ca-file', at: 'OTHERCA', fix: 'replace-ca', synthetic: true,
    text: `server {\n    ${NGX_TLS}\n    ssl_client_certificate OTHERCA;\n    ssl_verify_client on;\n}\n` },
  { name: 'nginx: verify depth 9 -> 1', dialect: 'nginx', code: 'leg2-verify-depth', at: 'ssl_verify_depth', fix: 'set-verify-depth',
    text: `server {\n    ${NGX_TLS}\n    ssl_client_certificate CA;\n    ssl_verify_client on;\n    ssl_verify_depth 9;\n}\n` },
  { name: 'nginx: ssl_verify_client inside a location (refused by nginx -t) -> moved to the server block', dialect: 'nginx', code: 'leg2-invalid-value', at: 'ssl_verify_client', fix: 'move-to-server', brokenFailsConfigTest: true,
    text: `server {\n    ${NGX_TLS}\n    ssl_client_certificate CA;\n    location / {\n        ssl_verify_client on;\n    }\n}\n` },
  { name: 'nginx: ignore marker keeps a valid config', dialect: 'nginx', code: 'leg2-no-client-auth', at: 'server', fix: 'ignore', open: true,
    text: `server {\n    ${NGX_TLS}\n}\n` },
  // ------------------------------------------------------------------ Apache
  { name: 'Apache: TLS vhost without client auth -> AOP directives', dialect: 'apache', code: 'leg2-no-client-auth', at: '<VirtualHost', fix: 'require-client-cert',
    text: `<IfModule mod_ssl.c>\n  <VirtualHost 127.0.0.1:__PORT__>\n    ${APA_TLS.replace(/\n {4}/g, '\n    ')}\n  </VirtualHost>\n</IfModule>\n` },
  { name: 'Apache (tabs): SSLVerifyClient none -> require, depth and CA added', dialect: 'apache', code: 'leg2-no-client-auth', at: '<VirtualHost', fix: 'require-client-cert',
    text: `<VirtualHost 127.0.0.1:__PORT__>\n\tServerName localhost\n\tSSLEngine on\n\tSSLCertificateFile CERT\n\tSSLCertificateKeyFile KEY\n\tSSLVerifyClient none\n</VirtualHost>\n` },
  { name: 'Apache: SSLVerifyClient require without a CA -> SSLCACertificateFile', dialect: 'apache', code: 'leg2-no-ca', at: 'SSLVerifyClient', fix: 'add-client-ca',
    text: `<VirtualHost 127.0.0.1:__PORT__>\n    ${APA_TLS}\n    SSLVerifyClient require\n    SSLVerifyDepth 1\n</VirtualHost>\n` },
  { name: 'Apache: SSLVerifyClient required (invalid) -> require', dialect: 'apache', code: 'leg2-invalid-value', at: 'required', fix: 'fix-value', brokenFailsConfigTest: true,
    text: `<VirtualHost 127.0.0.1:__PORT__>\n    ${APA_TLS}\n    SSLVerifyClient required\n    SSLCACertificateFile CA\n</VirtualHost>\n` },
  { name: 'Apache: optional, unchecked -> require', dialect: 'apache', code: 'leg2-optional-unchecked', at: 'SSLVerifyClient', fix: 'set-required',
    text: `<VirtualHost 127.0.0.1:__PORT__>\n    ${APA_TLS}\n    SSLVerifyClient optional\n    SSLCACertificateFile CA\n</VirtualHost>\n` },
  { name: 'Apache: optional, unchecked -> <If> SSL_CLIENT_VERIFY != SUCCESS: Require all denied', dialect: 'apache', code: 'leg2-optional-unchecked', at: 'SSLVerifyClient', fix: 'add-verify-check',
    text: `<VirtualHost 127.0.0.1:__PORT__>\n    ${APA_TLS}\n    SSLVerifyClient optional\n    SSLVerifyDepth 1\n    SSLCACertificateFile CA\n</VirtualHost>\n` },
  { name: 'Apache: SSLCACertificatePath to a folder without the CA -> SSLCACertificateFile', dialect: 'apache', code: 'leg2-ca-file', at: 'SSLCACertificatePath', fix: 'replace-ca',
    text: `<VirtualHost 127.0.0.1:__PORT__>\n    ${APA_TLS}\n    SSLVerifyClient require\n    SSLCACertificatePath __DIR__\n</VirtualHost>\n` },
  { name: 'Apache: SSLVerifyClient require only in <Location /> (renegotiation) -> moved to the vhost', dialect: 'apache', code: 'leg2-per-directory-verify', at: 'SSLVerifyClient', fix: 'move-to-vhost',
    text: `<VirtualHost 127.0.0.1:__PORT__>\n    ${APA_TLS}\n    SSLCACertificateFile CA\n    SSLVerifyDepth 1\n    <Location />\n        SSLVerifyClient require\n    </Location>\n</VirtualHost>\n` },
  { name: 'Apache: SSLVerifyDepth 10 -> 1', dialect: 'apache', code: 'leg2-verify-depth', at: 'SSLVerifyDepth', fix: 'set-verify-depth',
    text: `<VirtualHost 127.0.0.1:__PORT__>\n    ${APA_TLS}\n    SSLVerifyClient require\n    SSLVerifyDepth 10\n    SSLCACertificateFile CA\n</VirtualHost>\n` },
];

function materialize(text: string, pki: TestPki): string {
  return text.replace(/OTHERCA/g, pki.otherCaCert).replace(/\bCA\b/g, pki.caCert).replace(/\bCERT\b/g, pki.serverCert).replace(/\bKEY\b/g, pki.serverKey);
}

function configTest(dialect: 'nginx' | 'apache', text: string): Promise<ConfigTestResult> {
  return dialect === 'nginx' ? nginxConfigTest(text) : apacheConfigTest(text);
}

function start(dialect: 'nginx' | 'apache', text: string): Promise<RunningServer> {
  return dialect === 'nginx' ? startNginx(text) : startApache(text);
}

/** Refused: no HTTP answer (handshake failed) or 400/403. */
function refused(r: { exitCode: number; status: number }): boolean {
  return r.status === 0 || r.status === 400 || r.status === 403;
}

async function assertRequiresClientCert(server: RunningServer, pki: TestPki, what: string): Promise<void> {
  const anonymous = await curl(server.port, { cacert: pki.caCert });
  assert.ok(refused(anonymous), `${what}: a client without a certificate got ${anonymous.status} (curl ${anonymous.exitCode})\n${server.errorLog().slice(-1500)}`);
  const foreign = await curl(server.port, { cacert: pki.caCert, cert: pki.otherClientCert, key: pki.otherClientKey });
  assert.ok(refused(foreign), `${what}: a client from another CA got ${foreign.status}`);
  const good = await curl(server.port, { cacert: pki.caCert, cert: pki.clientCert, key: pki.clientKey });
  assert.strictEqual(good.status, 200, `${what}: the client from the configured CA got ${good.status} (curl ${good.exitCode}: ${good.stderr})\n${server.errorLog().slice(-1500)}`);
  assert.match(good.body, /origin ok/);
}

describe('lint quick-fixes against real nginx and Apache', function () {
  this.timeout(120000);
  let pki: TestPki;
  let ca: CaChoice;
  before(() => {
    pki = makeTestPki();
    ca = { path: pki.caCert, label: 'workspace CA test', kind: 'workspace' };
  });
  after(() => pki?.remove());

  for (const c of CASES) {
    it(c.name, async () => {
      const broken = materialize(c.text, pki);
      const file = path.join(pki.dir, c.dialect === 'nginx' ? 'nginx-site.conf' : 'apache-site.conf');
      const lintOpts = { file, dialect: c.dialect, settings: { workspaceRoot: pki.dir } };
      // The linter's own finding (with its data) where it reports one; a wrong-but-valid CA is not detectable.
      const reported = lintText(broken, lintOpts).find(f => f.code === c.code);
      if (!c.synthetic) assert.ok(reported, `the linter does not report ${c.code}: ${JSON.stringify(lintText(broken, lintOpts).map(f => f.code))}`);
      const finding = reported ?? findingAt(c.code, broken, c.at === 'OTHERCA' ? pki.otherCaCert : c.at, undefined, 0, file);
      const before = await configTest(c.dialect, broken);
      if (c.brokenFailsConfigTest) assert.strictEqual(before.ok, false, `the broken config passed the config test:\n${broken}`);
      const fixes = computeFixes(broken, finding, { cas: [ca], dialect: c.dialect });
      const fix = fixes.find(f => f.kind === c.fix);
      assert.ok(fix, `no ${c.fix} fix; got ${fixes.map(f => f.kind).join(', ')}`);
      const fixed = applyEdits(broken, fix.edits);
      assert.notStrictEqual(fixed, broken);
      const after = await configTest(c.dialect, fixed);
      assert.ok(after.ok, `config test refused the fixed config:\n${fixed}\n${after.output}`);
      // and the linter agrees: the finding is gone (an ignore marker silences it)
      const left = lintText(fixed, lintOpts).filter(f => f.code === c.code);
      assert.deepStrictEqual(left.map(f => `${f.line}:${f.column} ${f.message}`), [], `still reported after the fix:\n${fixed}`);
      if (c.open) return;
      const server = await start(c.dialect, fixed);
      try {
        await assertRequiresClientCert(server, pki, `${c.name}\n${fixed}`);
      } finally {
        await server.stop();
      }
    });
  }
});

// ------------------------------------------------------------------------------------------- snippets

interface Snippet { prefix: string | string[]; body: string[]; description: string }

/** A snippet body with its placeholders at their defaults (`${1:x}` -> x, `$0` -> ''), tabs kept. */
export function expandSnippet(body: string[]): string {
  let s = body.join('\n');
  for (let k = 0; k < 5; k++) s = s.replace(/\$\{\d+:([^{}]*)\}/g, '$1');
  return s.replace(/\$\{\d+\}|\$\d+/g, '').replace(/\\\$/g, '$');
}

function loadSnippets(file: string): Record<string, Snippet> {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'snippets', file), 'utf8'));
}

function bySuffix(snippets: Record<string, Snippet>, prefix: string): string {
  const s = Object.values(snippets).find(x => ([] as string[]).concat(x.prefix).includes(prefix));
  assert.ok(s, `no snippet ${prefix}`);
  return expandSnippet(s.body);
}

describe('lint snippets against real nginx and Apache', function () {
  this.timeout(60000);
  let pki: TestPki;
  before(() => { pki = makeTestPki(); });
  after(() => pki?.remove());

  const paths = (s: string) => s
    .replace('/etc/ssl/certs/origin.pem', pki.serverCert).replace('/etc/ssl/private/origin.key', pki.serverKey)
    .replace('/etc/nginx/cloudflare/origin-pull-ca.pem', pki.caCert).replace('/etc/apache2/cloudflare/origin-pull-ca.pem', pki.caCert).replace('/var/www/html', '__DIR__/htdocs')
    .replace('example.com', 'localhost');

  it('nginx aop-server: passes nginx -t and requires a client certificate', async () => {
    const conf = paths(bySuffix(loadSnippets('nginx.json'), 'aop-server')).replace('listen 443 ssl', 'listen 127.0.0.1:__PORT__ ssl');
    assert.ok((await nginxConfigTest(conf)).ok);
    const server = await startNginx(conf);
    try { await assertRequiresClientCert(server, pki, conf); } finally { await server.stop(); }
  });

  it('nginx aop-optional: inside a server, refuses clients without a verified certificate', async () => {
    const body = paths(bySuffix(loadSnippets('nginx.json'), 'aop-optional')).replace(/\n/g, '\n    ');
    const conf = `server {\n    ${NGX_TLS.replace('CERT', pki.serverCert).replace('KEY', pki.serverKey)}\n    ${body}\n}\n`;
    assert.ok((await nginxConfigTest(conf)).ok, conf);
    const server = await startNginx(conf);
    try { await assertRequiresClientCert(server, pki, conf); } finally { await server.stop(); }
  });

  it('nginx cf-allowlist: passes nginx -t, and denies 127.0.0.1 (not a Cloudflare address)', async () => {
    const body = bySuffix(loadSnippets('nginx.json'), 'cf-allowlist').replace(/\n/g, '\n        ');
    const conf = `server {\n    ${NGX_TLS.replace('CERT', pki.serverCert).replace('KEY', pki.serverKey)}\n    location / {\n        ${body}\n    }\n}\n`;
    assert.ok((await nginxConfigTest(conf)).ok, conf);
    const server = await startNginx(conf);
    try { assert.strictEqual((await curl(server.port, { cacert: pki.caCert })).status, 403); } finally { await server.stop(); }
  });

  it('Apache aop-vhost: passes apache2 -t and requires a client certificate', async () => {
    const conf = paths(bySuffix(loadSnippets('apache.json'), 'aop-vhost')).replace('*:443', '127.0.0.1:__PORT__');
    assert.ok((await apacheConfigTest(conf)).ok, conf);
    const server = await startApache(conf);
    try { await assertRequiresClientCert(server, pki, conf); } finally { await server.stop(); }
  });

  it('Apache aop-optional: inside a vhost, refuses clients without a verified certificate', async () => {
    const body = paths(bySuffix(loadSnippets('apache.json'), 'aop-optional'));
    const conf = `<VirtualHost 127.0.0.1:__PORT__>\n    ${materialize(APA_TLS, pki)}\n${body}\n</VirtualHost>\n`;
    assert.ok((await apacheConfigTest(conf)).ok, conf);
    const server = await startApache(conf);
    try { await assertRequiresClientCert(server, pki, conf); } finally { await server.stop(); }
  });

  it('Apache cf-allowlist: passes apache2 -t, and denies 127.0.0.1', async () => {
    const body = bySuffix(loadSnippets('apache.json'), 'cf-allowlist');
    const conf = `<VirtualHost 127.0.0.1:__PORT__>\n    ${materialize(APA_TLS, pki)}\n${body}\n</VirtualHost>\n`;
    assert.ok((await apacheConfigTest(conf)).ok, conf);
    const server = await startApache(conf);
    try { assert.strictEqual((await curl(server.port, { cacert: pki.caCert })).status, 403); } finally { await server.stop(); }
  });
});
