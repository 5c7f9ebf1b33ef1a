import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Finding } from '../../../src/core/lint';
import { makeCa, makeLeaf } from '../../support/openssl';
import { lintMem, only, pos, textAt } from './helpers';

const ORIGIN_PULL = fs.readFileSync(path.join(__dirname, '../../../../test/fixtures/cloudflare/authenticated_origin_pull_ca.pem'), 'utf8');
const F = '/srv/apache2/sites-enabled/site.conf';
let pki: { ca: string; leaf: string; key: string; cfOrigin: string; certWithKey: string; certOnly: string };

function vhost(body: string, engine = 'SSLEngine on'): string {
  return `<VirtualHost *:443>\n    ServerName example.com\n    ${engine}\n    SSLCertificateFile /srv/tls/origin.pem\n    SSLCertificateKeyFile /srv/tls/origin.key\n${body}</VirtualHost>\n`;
}

function lint(text: string, extra: Record<string, string> = {}, settings = {}): Finding[] {
  return lintMem(F, text, { '/srv/ca/ca.pem': pki.ca, '/srv/ca/origin-pull.pem': ORIGIN_PULL, ...extra }, { settings: { checkVerifyDepth: false, ...settings } });
}

describe('lint: Apache rules', function () {
  this.timeout(60000);
  before(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-lint-apa-'));
    const ca = makeCa(dir, 'ca', 'Test AOP CA');
    const cf = makeCa(dir, 'cf', 'CloudFlare Origin SSL Certificate Authority');
    const leaf = makeLeaf(dir, 'leaf', ca, 'server', 'origin');
    const rd = (p: string) => fs.readFileSync(p, 'utf8');
    pki = { ca: rd(ca.cert), leaf: rd(leaf.cert), key: rd(leaf.key), cfOrigin: rd(cf.cert), certWithKey: rd(leaf.cert) + rd(leaf.key), certOnly: rd(leaf.cert) };
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('leg2-no-client-auth on SSLEngine on without SSLVerifyClient, at the SSLEngine directive', () => {
    const text = vhost('');
    const f = lint(text);
    assert.deepStrictEqual(f.map(x => [x.code, x.severity, pos(x)]), [['leg2-no-client-auth', 'warning', '3:5-3:17']]);
    assert.strictEqual(textAt(text, f[0]), 'SSLEngine on');
    const b = f[0].data!.block!;
    assert.strictEqual(b.kind, 'VirtualHost');
    assert.deepStrictEqual(b.serverNames, ['example.com']);
    assert.deepStrictEqual(b.addresses, ['*:443']);
    assert.strictEqual(b.innerIndent, '    ');
    assert.deepStrictEqual(b.insertAt, { line: 6, column: 1 });
    assert.deepStrictEqual(b.bodyEnd, { line: 6, column: 1 });
    assert.deepStrictEqual(f[0].data!.suggestedDirectives, ['SSLCACertificateFile /etc/apache2/cloudflare/origin-pull-ca.pem', 'SSLVerifyClient require']);
    assert.match(lint(vhost('    SSLVerifyClient none\n'))[0].message, /SSLVerifyClient is none/);
  });

  it('no findings for plain HTTP vhosts, SSLEngine off, or a correct AOP vhost (on = require)', () => {
    assert.deepStrictEqual(lint('<VirtualHost *:80>\nServerName a\n</VirtualHost>\n'), []);
    assert.deepStrictEqual(lint(vhost('', 'SSLEngine off')), []);
    assert.deepStrictEqual(lint(vhost('    SSLCACertificateFile /srv/ca/ca.pem\n    SSLVerifyClient require\n')), []);
    assert.deepStrictEqual(lint(vhost('    SSLCACertificateFile /srv/ca/ca.pem\n    SSLVerifyClient on\n')), []);
  });

  it('inherits from the server config: SSLEngine, the CA and SSLVerifyClient set outside the vhost', () => {
    const text = 'SSLCACertificateFile /srv/ca/ca.pem\nSSLVerifyClient require\n<VirtualHost *:443>\nSSLEngine on\nSSLCertificateFile /c.pem\nSSLCertificateKeyFile /c.key\n</VirtualHost>\n';
    assert.deepStrictEqual(lint(text), []);
  });

  it('opt-out markers (a comment line above the vhost or inside it) and settings', () => {
    assert.deepStrictEqual(lint('# not behind Cloudflare\n# mtls-lint: ignore leg2-no-client-auth\n' + vhost('')), []);
    assert.deepStrictEqual(lint(vhost('    # mtls-lint: ignore all\n')), []);
    assert.deepStrictEqual(lint(vhost(''), {}, { ignoreServerNames: ['example.com'] }), []);
  });

  it('leg2-invalid-value for SSLVerifyClient values Apache refuses, and for a trailing # comment', () => {
    const text = vhost('    SSLCACertificateFile /srv/ca/ca.pem\n    SSLVerifyClient required\n');
    const f = only(lint(text), 'leg2-invalid-value');
    assert.strictEqual(f.length, 1);
    assert.strictEqual(textAt(text, f[0]), 'required');
    assert.strictEqual(f[0].data!.suggestedValue, 'require');
    const c = only(lint(vhost('    SSLCACertificateFile /srv/ca/ca.pem\n    SSLVerifyClient require # AOP\n')), 'leg2-invalid-value');
    assert.match(c[0].message, /no comments after a directive/);
    // SSLCACertificateFile inside <Location>: not allowed here
    const loc = only(lint(vhost('    <Location />\n        SSLCACertificateFile /srv/ca/ca.pem\n    </Location>\n')), 'leg2-invalid-value');
    assert.strictEqual(loc.length, 1);
  });

  it('leg2-no-ca: require without a CA is an error (AH01897), optional a warning', () => {
    const text = vhost('    SSLVerifyClient require\n');
    const f = lint(text);
    assert.deepStrictEqual(f.map(x => [x.code, x.severity]), [['leg2-no-ca', 'error']]);
    assert.strictEqual(textAt(text, f[0]), 'require');
    assert.match(f[0].message, /AH01897/);
    const o = only(lint(vhost('    SSLVerifyClient optional\n    SSLRequire %{SSL_CLIENT_VERIFY} eq "SUCCESS"\n')), 'leg2-no-ca');
    assert.deepStrictEqual(o.map(x => x.severity), ['warning']);
    assert.deepStrictEqual(only(lint(vhost('    SSLCACertificatePath /srv/ca\n    SSLVerifyClient require\n')), 'leg2-no-ca'), []);
  });

  it('leg2-optional-unchecked: optional with nothing checking SSL_CLIENT_VERIFY; Require expr, SSLRequire, <If> pass', () => {
    const base = '    SSLCACertificateFile /srv/ca/ca.pem\n    SSLVerifyClient optional\n';
    assert.deepStrictEqual(lint(vhost(base)).map(x => [x.code, x.severity]), [['leg2-optional-unchecked', 'warning']]);
    assert.deepStrictEqual(lint(vhost(base + '    <Location />\n        Require expr %{SSL_CLIENT_VERIFY} == \'SUCCESS\'\n    </Location>\n')), []);
    assert.deepStrictEqual(lint(vhost(base + '    SSLRequire %{SSL_CLIENT_VERIFY} eq "SUCCESS"\n')), []);
    assert.deepStrictEqual(lint(vhost(base + '    <If "%{SSL_CLIENT_VERIFY} != \'SUCCESS\'">\n        Require all denied\n    </If>\n')), []);
    const fwd = lint(vhost(base + '    RequestHeader set X-Verify "%{SSL_CLIENT_VERIFY}s"\n'));
    assert.deepStrictEqual(fwd.map(x => [x.code, x.severity]), [['leg2-optional-unchecked', 'information']]);
  });

  it('tls-no-certificate: no SSLCertificateFile (AH02572), or no key anywhere', () => {
    const f = lint('<VirtualHost *:443>\n  SSLEngine on\n  SSLCACertificateFile /srv/ca/ca.pem\n  SSLVerifyClient require\n</VirtualHost>\n');
    assert.deepStrictEqual(f.map(x => [x.code, x.severity, pos(x)]), [['tls-no-certificate', 'error', '2:3-2:15']]);
    const base = (cert: string) => `<VirtualHost *:443>\n  SSLEngine on\n  SSLCertificateFile ${cert}\n  SSLCACertificateFile /srv/ca/ca.pem\n  SSLVerifyClient require\n</VirtualHost>\n`;
    assert.deepStrictEqual(only(lint(base('/srv/tls/both.pem'), { '/srv/tls/both.pem': pki.certWithKey }), 'tls-no-certificate'), []);
    assert.deepStrictEqual(only(lint(base('/srv/tls/cert.pem'), { '/srv/tls/cert.pem': pki.certOnly }), 'tls-no-certificate').map(x => pos(x)), ['3:3-3:39']);
    assert.deepStrictEqual(only(lint(base('/srv/tls/elsewhere.pem')), 'tls-no-certificate'), [], 'cannot see the file: no guess');
  });

  it('leg2-ca-file: missing/empty (apache2 -t), key only / no certificate (AH01895), content warnings', () => {
    const withCa = (p: string) => vhost(`    SSLCACertificateFile ${p}\n    SSLVerifyClient require\n`);
    const probe = (p: string, files: Record<string, string>, settings = {}) => only(lint(withCa(p), files, settings), 'leg2-ca-file').map(f => [f.data!.caProblem, f.severity]);
    assert.deepStrictEqual(probe('/srv/ca/nope.pem', {}), [['missing', 'error']]);
    assert.deepStrictEqual(probe('/srv/ca/empty.pem', { '/srv/ca/empty.pem': '' }), [['empty', 'error']]);
    assert.deepStrictEqual(probe('/srv/ca/key.pem', { '/srv/ca/key.pem': pki.key }), [['key-only', 'error']]);
    assert.deepStrictEqual(probe('/srv/ca/leaf.pem', { '/srv/ca/leaf.pem': pki.leaf }), [['not-ca', 'warning']]);
    assert.deepStrictEqual(probe('/srv/ca/cf.pem', { '/srv/ca/cf.pem': pki.cfOrigin }), [['cloudflare-origin-ca', 'warning']]);
    assert.deepStrictEqual(probe('/srv/ca/origin-pull.pem', {}, { now: new Date('2026-01-01') }), [['origin-pull-shared', 'information']]);
    // relative to ServerRoot (the parent of sites-enabled when the vhost file is linted on its own)
    assert.deepStrictEqual(probe('ssl/ca.pem', { '/srv/apache2/ssl/ca.pem': pki.ca }), []);
    // ${VAR} from Define
    assert.deepStrictEqual(only(lint('Define CA /srv/ca/nope.pem\n' + withCa('${CA}')), 'leg2-ca-file').map(f => f.data!.caPathResolved), ['/srv/ca/nope.pem']);
    // a missing file is a syntax error even outside a TLS vhost
    assert.deepStrictEqual(only(lint('SSLCACertificateFile /srv/ca/nope.pem\n'), 'leg2-ca-file').map(f => f.severity), ['error']);
  });

  it('leg2-verify-depth information when SSLVerifyDepth is absent or too deep', () => {
    const run = (body: string) => only(lintMem(F, vhost(body), { '/srv/ca/ca.pem': pki.ca }), 'leg2-verify-depth').map(f => [f.severity, pos(f)]);
    assert.deepStrictEqual(run('    SSLCACertificateFile /srv/ca/ca.pem\n    SSLVerifyClient require\n'), [['information', '7:5-7:28']]);
    assert.deepStrictEqual(run('    SSLCACertificateFile /srv/ca/ca.pem\n    SSLVerifyClient require\n    SSLVerifyDepth 10\n'), [['information', '8:20-8:22']]);
    assert.deepStrictEqual(run('    SSLCACertificateFile /srv/ca/ca.pem\n    SSLVerifyClient require\n    SSLVerifyDepth 1\n'), []);
  });

  it('<IfModule !mod_ssl.c> content is inactive, <IfModule mod_ssl.c> content is linted', () => {
    assert.deepStrictEqual(lint('<IfModule !mod_ssl.c>\n' + vhost('') + '</IfModule>\n'), []);
    assert.strictEqual(lint('<IfModule mod_ssl.c>\n' + vhost('') + '</IfModule>\n').length, 1);
  });

  it('a whole tree: apache2.conf -> sites-enabled -> vhost, findings in the vhost file', () => {
    const files = {
      '/w/apache2/apache2.conf': 'Define CADIR /w/ca\nIncludeOptional sites-enabled/*.conf\n',
      '/w/apache2/sites-enabled/a.conf': vhost('    SSLCACertificateFile ${CADIR}/missing.pem\n    SSLVerifyClient optional\n'),
      '/w/ca/other.pem': pki.ca,
    };
    const f = lintMem('/w/apache2/apache2.conf', files['/w/apache2/apache2.conf'], files, { settings: { checkVerifyDepth: false } });
    assert.deepStrictEqual(f.map(x => [x.file, x.code, x.severity, pos(x)]), [
      ['/w/apache2/sites-enabled/a.conf', 'leg2-ca-file', 'error', '6:26-6:46'],
      ['/w/apache2/sites-enabled/a.conf', 'leg2-optional-unchecked', 'warning', '7:21-7:29'],
    ]);
  });
});
