import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Finding, RULES, lintText } from '../../../src/core/lint';
import { makeCa, makeLeaf } from '../../support/openssl';
import { lintMem, only, pos, textAt } from './helpers';

const ORIGIN_PULL = fs.readFileSync(path.join(__dirname, '../../../../test/fixtures/cloudflare/authenticated_origin_pull_ca.pem'), 'utf8');
const F = '/srv/nginx/sites-enabled/site.conf';

let pki: { ca: string; leaf: string; key: string; cfOrigin: string; inter: string; interBundle: string };

function server(body: string, listen = 'listen 443 ssl;'): string {
  return `server {\n    ${listen}\n    server_name example.com;\n    ssl_certificate /srv/tls/origin.pem;\n    ssl_certificate_key /srv/tls/origin.key;\n${body}}\n`;
}

function lint(text: string, extra: Record<string, string> = {}, settings = {}): Finding[] {
  return lintMem(F, text, { '/srv/ca/ca.pem': pki.ca, '/srv/ca/origin-pull.pem': ORIGIN_PULL, ...extra }, { settings: { checkVerifyDepth: false, ...settings } });
}

describe('lint: nginx rules', function () {
  this.timeout(60000);
  before(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-lint-ngx-'));
    const ca = makeCa(dir, 'ca', 'Test AOP CA');
    const cf = makeCa(dir, 'cf', 'CloudFlare Origin SSL Certificate Authority');
    const leaf = makeLeaf(dir, 'leaf', ca, 'client', 'a-client');
    const rd = (p: string) => fs.readFileSync(p, 'utf8');
    pki = { ca: rd(ca.cert), leaf: rd(leaf.cert), key: rd(leaf.key), cfOrigin: rd(cf.cert), inter: '', interBundle: '' };
    // an intermediate under the CA, for depth checks
    const interKey = path.join(dir, 'inter.key');
    const { execFileSync } = require('child_process') as typeof import('child_process');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', interKey]);
    execFileSync('openssl', ['req', '-new', '-key', interKey, '-subj', '/CN=Inter', '-out', path.join(dir, 'inter.csr')]);
    fs.writeFileSync(path.join(dir, 'ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n');
    execFileSync('openssl', ['x509', '-req', '-in', path.join(dir, 'inter.csr'), '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '10', '-extfile', path.join(dir, 'ext'), '-out', path.join(dir, 'inter.pem')], { stdio: 'ignore' });
    pki.inter = rd(path.join(dir, 'inter.pem'));
    pki.interBundle = pki.inter + pki.ca;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every rule code has an explanation and docs', () => {
    for (const [code, r] of Object.entries(RULES)) {
      assert.ok(r.title && r.explanation.length > 40 && /^https:\/\//.test(r.docs), code);
    }
  });

  it('leg2-no-client-auth on a TLS server without ssl_verify_client, at the listen ... ssl directive', () => {
    const text = server('');
    const fs1 = lint(text);
    assert.deepStrictEqual(fs1.map(f => [f.code, f.severity, pos(f)]), [['leg2-no-client-auth', 'warning', '2:5-2:20']]);
    assert.strictEqual(textAt(text, fs1[0]), 'listen 443 ssl;');
    const d = fs1[0].data!;
    assert.strictEqual(d.block!.kind, 'server');
    assert.deepStrictEqual(d.block!.serverNames, ['example.com']);
    assert.strictEqual(d.block!.innerIndent, '    ');
    assert.deepStrictEqual(d.block!.insertAt, { line: 6, column: 1 });
    assert.strictEqual(d.block!.insertAtLineStart, true);
    assert.deepStrictEqual(d.suggestedDirectives, ['ssl_client_certificate /etc/nginx/cloudflare/origin-pull-ca.pem;', 'ssl_verify_client on;']);
    // also with ssl on; and with ssl_verify_client off
    assert.deepStrictEqual(lint(server('    ssl on;\n', 'listen 443;')).map(f => f.code), ['leg2-no-client-auth']);
    assert.match(lint(server('    ssl_verify_client off;\n'))[0].message, /ssl_verify_client is off/);
  });

  it('no Leg 2 findings for plain HTTP, and none for a correct AOP server', () => {
    assert.deepStrictEqual(lint('server { listen 80; server_name a; location / { return 200; } }\n'), []);
    assert.deepStrictEqual(lint(server('    ssl_client_certificate /srv/ca/ca.pem;\n    ssl_verify_client on;\n')), []);
  });

  it('opt-out by marker comment (inside or just above the block) or by setting', () => {
    assert.deepStrictEqual(lint('# mtls-lint: ignore leg2-no-client-auth\n' + server('')), []);
    assert.deepStrictEqual(lint(server('    # mtls-lint: ignore all\n')), []);
    assert.deepStrictEqual(lint(server(''), {}, { ignoreServerNames: ['*.com'] }), []);
    assert.deepStrictEqual(lint(server(''), {}, { ignoreCodes: ['leg2-no-client-auth'] }), []);
    // a marker for another code does not hide this one
    assert.strictEqual(lint('# mtls-lint: ignore leg2-verify-depth\n' + server('')).length, 1);
    // ignoring Leg 2 does not hide tls-no-certificate
    assert.deepStrictEqual(lint('# mtls-lint: ignore leg2-no-client-auth\nserver { listen 443 ssl; }\n').map(f => f.code), ['tls-no-certificate']);
  });

  it('leg2-invalid-value for ssl_verify_client require (Apache spelling), at the value', () => {
    const text = server('    ssl_client_certificate /srv/ca/ca.pem;\n    ssl_verify_client require;\n');
    const f = only(lint(text), 'leg2-invalid-value');
    assert.strictEqual(f.length, 1);
    assert.strictEqual(f[0].severity, 'error');
    assert.strictEqual(textAt(text, f[0]), 'require');
    assert.strictEqual(f[0].data!.suggestedValue, 'on');
    assert.match(f[0].message, /Apache spelling/);
    // in http, in a plain server, and with two values: still refused by nginx -t
    assert.strictEqual(only(lint('http { ssl_verify_client yes; server { listen 80; } }\n'), 'leg2-invalid-value').length, 1);
    assert.strictEqual(only(lint(server('    ssl_verify_client on off;\n')), 'leg2-invalid-value').length, 1);
  });

  it('leg2-invalid-value for client-verification directives inside location', () => {
    const text = server('    ssl_client_certificate /srv/ca/ca.pem;\n    ssl_verify_client on;\n    location /admin { ssl_verify_client on; }\n');
    const f = only(lint(text), 'leg2-invalid-value');
    assert.strictEqual(f.length, 1);
    assert.strictEqual(pos(f[0]), '8:23-8:40');
    assert.match(f[0].message, /not allowed inside a location/);
  });

  it('leg2-no-ca for on/optional without ssl_client_certificate (not for optional_no_ca)', () => {
    const text = server('    ssl_verify_client on;\n');
    const f = lint(text);
    assert.deepStrictEqual(f.map(x => x.code), ['leg2-no-ca']);
    assert.strictEqual(textAt(text, f[0]), 'on');
    assert.match(f[0].message, /no ssl_client_certificate for ssl_verify_client/);
    assert.deepStrictEqual(only(lint(server('    ssl_verify_client optional;\n    if ($ssl_client_verify != SUCCESS) { return 403; }\n')), 'leg2-no-ca').length, 1);
    assert.deepStrictEqual(only(lint(server('    ssl_verify_client optional_no_ca;\n')), 'leg2-no-ca'), []);
    // inherited from http: both the CA and the verification
    assert.deepStrictEqual(lint(`http {\n ssl_client_certificate /srv/ca/ca.pem;\n ssl_verify_client on;\n${server('')}}\n`), []);
    // a plain-HTTP server with certificates inherited from http: nginx -t refuses it too
    assert.deepStrictEqual(lint('http { ssl_certificate /a.pem; ssl_certificate_key /a.key; server { listen 80; ssl_verify_client on; } }\n').map(x => x.code), ['leg2-no-ca']);
    // ... but not without any certificate (nginx never sets up TLS for it)
    assert.deepStrictEqual(lint('server { listen 80; ssl_verify_client on; }\n'), []);
  });

  it('leg2-trusted-not-sent when the CA is only in ssl_trusted_certificate', () => {
    const text = server('    ssl_trusted_certificate /srv/ca/origin-pull.pem;\n    ssl_verify_client on;\n');
    const f = lint(text);
    assert.deepStrictEqual(f.map(x => [x.code, x.severity]), [['leg2-trusted-not-sent', 'information'], ['leg2-no-ca', 'error']]);
    assert.strictEqual(textAt(text, f[0]), 'ssl_trusted_certificate /srv/ca/origin-pull.pem;');
    assert.strictEqual(f[0].data!.caPath, '/srv/ca/origin-pull.pem');
    assert.deepStrictEqual(f[1].data!.suggestedDirectives, ['ssl_client_certificate /srv/ca/origin-pull.pem;']);
    // ssl_trusted_certificate for OCSP stapling, no client verification: nothing to say about it
    assert.deepStrictEqual(lint(server('    ssl_trusted_certificate /srv/ca/ca.pem;\n    ssl_stapling on;\n')).map(x => x.code), ['leg2-no-client-auth']);
  });

  it('leg2-optional-unchecked: optional without a check; a server-level if, a map, or all locations checking pass', () => {
    const base = '    ssl_client_certificate /srv/ca/ca.pem;\n    ssl_verify_client optional;\n';
    const f = lint(server(base));
    assert.deepStrictEqual(f.map(x => [x.code, x.severity]), [['leg2-optional-unchecked', 'warning']]);
    assert.strictEqual(f[0].data!.suggestedValue, 'on');
    assert.deepStrictEqual(lint(server(base + '    if ($ssl_client_verify != SUCCESS) { return 403; }\n')), []);
    assert.deepStrictEqual(lint(`map $ssl_client_verify $bad { default 1; SUCCESS 0; }\n${server(base + '    if ($bad) { return 403; }\n')}`), []);
    assert.deepStrictEqual(lint(server(base + '    location / { if ($ssl_client_verify != SUCCESS) { return 403; } }\n')), []);
    const partial = lint(server(base + '    location / { if ($ssl_client_verify != SUCCESS) { return 403; } }\n    location /open { }\n'));
    assert.match(partial[0].message, /only some locations.*location \/open/);
    const fwd = lint(server(base + '    location / { proxy_set_header X-Verify $ssl_client_verify; proxy_pass http://b; }\n'));
    assert.deepStrictEqual(fwd.map(x => [x.code, x.severity]), [['leg2-optional-unchecked', 'information']]);
    assert.deepStrictEqual(only(lint(server('    ssl_verify_client optional_no_ca;\n')), 'leg2-optional-unchecked').length, 1);
  });

  it('tls-no-certificate for listen ssl without ssl_certificate or without its key', () => {
    const f = lint('server {\n  listen 443 ssl;\n}\n');
    assert.deepStrictEqual(f.map(x => [x.code, x.severity, pos(x)]), [['tls-no-certificate', 'error', '2:3-2:18'], ['leg2-no-client-auth', 'warning', '2:3-2:18']]);
    const k = lint('server {\n  listen 443 ssl;\n  ssl_certificate /a.pem;\n  ssl_verify_client off; # mtls-lint: ignore leg2-no-client-auth\n}\n');
    assert.deepStrictEqual(k.map(x => [x.code, pos(x)]), [['tls-no-certificate', '3:3-3:26']]);
    assert.deepStrictEqual(lint('server { listen 443 ssl; ssl_reject_handshake on; }\n'), []);
    assert.deepStrictEqual(lint('http { ssl_certificate /a.pem; ssl_certificate_key /a.key; server { listen 443 ssl; # mtls-lint: ignore leg2\n } }\n'), []);
  });

  it('leg2-ca-file: missing, empty, key only, not a CA, Cloudflare Origin CA, expired, shared origin-pull CA', () => {
    const withCa = (p: string) => server(`    ssl_client_certificate ${p};\n    ssl_verify_client on;\n`);
    const probe = (p: string, files: Record<string, string>, settings = {}) => only(lint(withCa(p), files, settings), 'leg2-ca-file').map(f => [f.data!.caProblem, f.severity]);
    assert.deepStrictEqual(probe('/srv/ca/nope.pem', {}), [['missing', 'error']]);
    assert.deepStrictEqual(probe('/elsewhere/ca.pem', {}), [['missing', 'warning']], 'a folder that is not on this machine: cannot tell');
    assert.deepStrictEqual(probe('/srv/ca/empty.pem', { '/srv/ca/empty.pem': '' }), [['empty', 'error']]);
    assert.deepStrictEqual(probe('/srv/ca/key.pem', { '/srv/ca/key.pem': pki.key }), [['key-only', 'error']]);
    assert.deepStrictEqual(probe('/srv/ca/junk.pem', { '/srv/ca/junk.pem': 'hello\n' }), [['no-certificate', 'error']]);
    assert.deepStrictEqual(probe('/srv/ca/leaf.pem', { '/srv/ca/leaf.pem': pki.leaf }), [['not-ca', 'warning']]);
    assert.deepStrictEqual(probe('/srv/ca/cf.pem', { '/srv/ca/cf.pem': pki.cfOrigin }), [['cloudflare-origin-ca', 'warning']]);
    assert.deepStrictEqual(probe('/srv/ca/ca.pem', {}, { now: new Date(Date.now() + 400 * 86400e3) }), [['expired', 'warning']]);
    const pull = only(lint(withCa('/srv/ca/origin-pull.pem'), {}, { now: new Date('2026-01-01') }), 'leg2-ca-file');
    assert.deepStrictEqual(pull.map(f => [f.data!.caProblem, f.severity]), [['origin-pull-shared', 'information']]);
    assert.match(pull[0].message, /any Cloudflare customer/);
    assert.strictEqual(pull[0].data!.caFingerprint256, '9A:1A:C2:B4:BE:15:F9:F2:7E:EE:20:A7:34:CB:A4:E9:89:8F:61:00:1B:3B:D7:C8:4B:69:B5:6A:3E:25:A2:B9');
    // relative paths resolve against the nginx prefix (the parent of sites-enabled here)
    assert.deepStrictEqual(probe('ca/ca.pem', { '/srv/nginx/ca/ca.pem': pki.ca }), []);
    // with verification off nginx does not load the file: nothing to report about it
    assert.deepStrictEqual(only(lint(server('    ssl_client_certificate /srv/ca/nope.pem;\n')), 'leg2-ca-file'), []);
  });

  it('leg2-verify-depth: absent (information), deeper than needed, too shallow for an intermediate', () => {
    const base = (ca: string, depth = '') => server(`    ssl_client_certificate ${ca};\n    ssl_verify_client on;\n${depth}`);
    const run = (t: string, files = {}) => only(lintMem(F, t, { '/srv/ca/ca.pem': pki.ca, '/srv/ca/bundle.pem': pki.interBundle, ...files }), 'leg2-verify-depth').map(f => [f.severity, f.data!.suggestedDepth]);
    assert.deepStrictEqual(run(base('/srv/ca/ca.pem')), [['information', 1]]);
    assert.deepStrictEqual(run(base('/srv/ca/ca.pem', '    ssl_verify_depth 1;\n')), []);
    assert.deepStrictEqual(run(base('/srv/ca/ca.pem', '    ssl_verify_depth 5;\n')), [['information', 1]]);
    // nginx counts like OpenSSL: the intermediates between the client certificate and the trust anchor
    assert.deepStrictEqual(run(base('/srv/ca/ca.pem', '    ssl_verify_depth 0;\n')), []);
    assert.deepStrictEqual(run(base('/srv/ca/bundle.pem')), [['information', 1]]);
    assert.deepStrictEqual(run(base('/srv/ca/bundle.pem', '    ssl_verify_depth 0;\n')), [['warning', 1]]);
    assert.deepStrictEqual(run(base('/srv/ca/bundle.pem', '    ssl_verify_depth 2;\n')), [['information', 1]]);
  });

  it('follows includes: a server whose TLS settings live in an included snippet', () => {
    const files = {
      '/w/nginx/nginx.conf': 'events {}\nhttp {\n  include sites-enabled/*;\n}\n',
      '/w/nginx/sites-enabled/a': 'server {\n  listen 443 ssl;\n  include snippets/aop.conf;\n}\n',
      '/w/nginx/snippets/aop.conf': 'ssl_certificate /x.pem;\nssl_certificate_key /x.key;\nssl_client_certificate ca.pem;\nssl_verify_client optional;\n',
      '/w/nginx/ca.pem': pki.ca,
    };
    const f = lintText(files['/w/nginx/nginx.conf'], { file: '/w/nginx/nginx.conf', fs: require('./helpers').memFs(files), settings: { checkVerifyDepth: false } });
    assert.deepStrictEqual(f.map(x => [x.file, x.code, pos(x)]), [['/w/nginx/snippets/aop.conf', 'leg2-optional-unchecked', '4:19-4:27']]);
    assert.strictEqual(f[0].data!.block!.file, '/w/nginx/sites-enabled/a');
  });

  it('a server file linted on its own inherits the http block of the nginx.conf next to it', () => {
    const files = {
      '/w/nginx/nginx.conf': 'events {}\nhttp {\n  ssl_certificate /x.pem;\n  ssl_certificate_key /x.key;\n  ssl_client_certificate /srv/ca/ca.pem;\n  ssl_verify_client on;\n  include sites-enabled/*;\n}\n',
      '/w/nginx/sites-enabled/a': 'server {\n  listen 443 ssl;\n  server_name a.example;\n}\n',
      '/srv/ca/ca.pem': pki.ca,
    };
    const f = lintText(files['/w/nginx/sites-enabled/a'], { file: '/w/nginx/sites-enabled/a', fs: require('./helpers').memFs(files), settings: { checkVerifyDepth: false } });
    assert.deepStrictEqual(f, [], 'certificate and client verification come from nginx.conf');
    const alone = lintMem('/elsewhere/a.conf', files['/w/nginx/sites-enabled/a']);
    assert.deepStrictEqual(alone.map(x => x.code), ['tls-no-certificate', 'leg2-no-client-auth']);
  });

  it('listen ... quic counts as TLS', () => {
    assert.deepStrictEqual(lint(server('', 'listen 443 quic reuseport;')).map(f => f.code), ['leg2-no-client-auth']);
  });

  it('positions of findings always point at the directive text', () => {
    const text = 'http {\n\tserver {\n\t\tlisten 8443 ssl http2;\n\t\tssl_verify_client   maybe;\n\t}\n}\n';
    for (const f of lint(text)) {
      assert.ok(/^(listen|maybe)/.test(textAt(text, f)), `${f.code} at ${pos(f)}: ${textAt(text, f)}`);
    }
  });
});
