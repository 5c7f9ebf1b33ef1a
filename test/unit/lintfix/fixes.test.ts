import * as assert from 'assert';
import { applyEdits, computeFixes, quoteArg, detectIndentUnit } from '../../../src/core/lint/fixes';
import { readStructure } from '../../../src/core/lint/fixes/structure';
import { ORIGIN_PULL, WORKSPACE_CA, conf, findingAt, fixOf } from './helpers';

const CAS = [ORIGIN_PULL, WORKSPACE_CA];

function fixed(text: string, f: ReturnType<typeof findingAt>, kind: Parameters<typeof fixOf>[1], caKind?: string): string {
  return applyEdits(text, fixOf(computeFixes(text, f, { cas: CAS }), kind, caKind).edits);
}

describe('lint quick-fixes: nginx', () => {
  const site = conf(`
    server {
        listen 443 ssl;
        server_name example.com;

        ssl_certificate     /etc/ssl/origin.pem;
        ssl_certificate_key /etc/ssl/origin.key;

        location / {
            root /var/www;
        }
    }
  `);

  it('adds the AOP directives after the last ssl_* directive, in 4-space indentation', () => {
    const f = findingAt('leg2-no-client-auth', site, 'server', undefined);
    const fixes = computeFixes(site, f, { cas: CAS });
    assert.deepStrictEqual(fixes.map(x => x.title), [
      'Require Cloudflare client certificate (origin-pull CA)',
      'Require client certificate (workspace CA acme-root)',
      'Ignore leg2-no-client-auth in this server block (not behind Cloudflare)',
    ]);
    assert.strictEqual(fixes[0].isPreferred, true);
    assert.strictEqual(applyEdits(site, fixes[0].edits), conf(`
      server {
          listen 443 ssl;
          server_name example.com;

          ssl_certificate     /etc/ssl/origin.pem;
          ssl_certificate_key /etc/ssl/origin.key;
          ssl_client_certificate /etc/ssl/cloudflare/origin-pull-ca.pem;
          ssl_verify_client on;
          ssl_verify_depth 1;

          location / {
              root /var/www;
          }
      }
    `));
    assert.match(applyEdits(site, fixes[1].edits), /ssl_client_certificate \/srv\/pki\/\.mtls\/acme-root\/ca\.pem;/);
  });

  it('keeps tabs, and turns an explicit "ssl_verify_client off" on instead of adding a second one', () => {
    const text = 'http {\n\tserver {\n\t\tlisten 443 ssl;\n\t\tssl_certificate a.pem;\n\t\tssl_certificate_key a.key;\n\t\tssl_verify_client off;\n\t}\n}\n';
    const out = fixed(text, findingAt('leg2-no-client-auth', text, 'server'), 'require-client-cert', 'origin-pull');
    assert.strictEqual(out, 'http {\n\tserver {\n\t\tlisten 443 ssl;\n\t\tssl_certificate a.pem;\n\t\tssl_certificate_key a.key;\n\t\tssl_verify_client on;\n' +
      '\t\tssl_client_certificate /etc/ssl/cloudflare/origin-pull-ca.pem;\n\t\tssl_verify_depth 1;\n\t}\n}\n');
  });

  it('keeps CRLF line endings and 2-space indentation', () => {
    const text = 'server {\r\n  listen 443 ssl;\r\n  ssl_certificate a.pem;\r\n  ssl_certificate_key a.key;\r\n}\r\n';
    const out = fixed(text, findingAt('leg2-no-client-auth', text, 'server'), 'require-client-cert', 'origin-pull');
    assert.strictEqual(out, 'server {\r\n  listen 443 ssl;\r\n  ssl_certificate a.pem;\r\n  ssl_certificate_key a.key;\r\n' +
      '  ssl_client_certificate /etc/ssl/cloudflare/origin-pull-ca.pem;\r\n  ssl_verify_client on;\r\n  ssl_verify_depth 1;\r\n}\r\n');
  });

  it('uses a CA and depth already in effect at http level instead of adding them again', () => {
    const text = conf(`
      http {
          ssl_client_certificate /etc/ssl/ca.pem;
          ssl_verify_depth 2;
          server {
              listen 443 ssl;
              ssl_certificate a.pem;
              ssl_certificate_key a.key;
          }
      }
    `);
    const fixes = computeFixes(text, findingAt('leg2-no-client-auth', text, 'server'), { cas: CAS });
    assert.strictEqual(fixes[0].title, 'Require a client certificate (ssl_verify_client on)');
    assert.strictEqual(applyEdits(text, fixes[0].edits), text.replace('a.key;\n', 'a.key;\n        ssl_verify_client on;\n'));
  });

  it('inserts into a server block with no ssl_* directive right after the opening line, and quotes paths with spaces', () => {
    const text = 'server {\n    listen 443 ssl;\n}\n';
    const f = findingAt('leg2-no-client-auth', text, 'server');
    const fx = fixOf(computeFixes(text, f, { cas: [{ path: '/etc/my certs/ca.pem', label: 'typed', kind: 'typed' }] }), 'require-client-cert');
    assert.strictEqual(applyEdits(text, fx.edits), 'server {\n    listen 443 ssl;\n    ssl_client_certificate "/etc/my certs/ca.pem";\n    ssl_verify_client on;\n    ssl_verify_depth 1;\n}\n');
  });

  it('works on a one-line server block and on a file without a final newline', () => {
    const one = 'server { listen 443 ssl; ssl_certificate a.pem; ssl_certificate_key a.key; }';
    const out = fixed(one, findingAt('leg2-no-client-auth', one, 'server'), 'require-client-cert', 'origin-pull');
    assert.strictEqual(out, 'server { listen 443 ssl; ssl_certificate a.pem; ssl_certificate_key a.key;\n    ssl_client_certificate /etc/ssl/cloudflare/origin-pull-ca.pem;\n    ssl_verify_client on;\n    ssl_verify_depth 1;\n }');
    const noEol = 'server {\n    listen 443 ssl;\n    ssl_certificate a.pem;\n    ssl_certificate_key a.key;\n}';
    assert.strictEqual(fixed(noEol, findingAt('leg2-no-client-auth', noEol, 'server'), 'require-client-cert', 'origin-pull'),
      'server {\n    listen 443 ssl;\n    ssl_certificate a.pem;\n    ssl_certificate_key a.key;\n    ssl_client_certificate /etc/ssl/cloudflare/origin-pull-ca.pem;\n    ssl_verify_client on;\n    ssl_verify_depth 1;\n}');
  });

  it('leg2-no-ca: adds ssl_client_certificate right after ssl_verify_client, same indentation', () => {
    const text = 'server {\n\tlisten 443 ssl;\n\tssl_certificate a.pem;\n\tssl_certificate_key a.key;\n\tssl_verify_client on;\n\tlocation / { }\n}\n';
    const fixes = computeFixes(text, findingAt('leg2-no-ca', text, 'ssl_verify_client'), { cas: CAS });
    assert.deepStrictEqual(fixes.map(f => f.kind), ['add-client-ca', 'add-client-ca', 'ignore']);
    assert.strictEqual(fixes[0].title, 'Add client CA: Cloudflare origin-pull CA (ssl_client_certificate)');
    assert.strictEqual(applyEdits(text, fixes[0].edits), text.replace('on;\n', 'on;\n\tssl_client_certificate /etc/ssl/cloudflare/origin-pull-ca.pem;\n'));
  });

  it('leg2-no-ca with the CA in ssl_trusted_certificate: moving it is the preferred fix', () => {
    const text = 'server {\n    listen 443 ssl;\n    ssl_trusted_certificate /etc/ssl/ca.pem;\n    ssl_verify_client on;\n}\n';
    const fixes = computeFixes(text, findingAt('leg2-no-ca', text, 'ssl_verify_client'), { cas: CAS });
    assert.strictEqual(fixes[0].kind, 'move-to-client-ca');
    assert.strictEqual(fixes[0].isPreferred, true);
    assert.strictEqual(applyEdits(text, fixes[0].edits), text.replace('ssl_trusted_certificate', 'ssl_client_certificate'));
  });

  it('leg2-trusted-not-sent: renames ssl_trusted_certificate', () => {
    const text = 'server {\n    ssl_trusted_certificate "/etc/ssl/ca.pem";\n}\n';
    const out = fixed(text, findingAt('leg2-trusted-not-sent', text, 'ssl_trusted_certificate'), 'move-to-client-ca');
    assert.strictEqual(out, 'server {\n    ssl_client_certificate "/etc/ssl/ca.pem";\n}\n');
  });

  it('leg2-optional-unchecked: "optional" -> "on" (preferred), or the $ssl_client_verify check after the directive', () => {
    const text = 'server {\n  listen 443 ssl;\n  ssl_client_certificate ca.pem;\n  ssl_verify_client optional;\n  location / {\n    root /srv;\n  }\n}\n';
    const f = findingAt('leg2-optional-unchecked', text, 'ssl_verify_client');
    const fixes = computeFixes(text, f, { cas: CAS });
    assert.deepStrictEqual(fixes.map(x => x.kind), ['set-required', 'add-verify-check', 'ignore']);
    assert.strictEqual(fixes[0].isPreferred, true);
    assert.strictEqual(applyEdits(text, fixes[0].edits), text.replace('optional;', 'on;'));
    assert.strictEqual(applyEdits(text, fixes[1].edits), text.replace('optional;\n', 'optional;\n  if ($ssl_client_verify != SUCCESS) {\n    return 403;\n  }\n'));
  });

  it('leg2-optional-unchecked on optional_no_ca at http level: fixes the http directive, the check goes in the server', () => {
    const text = 'http {\n    ssl_verify_client optional_no_ca;\n    server {\n        listen 443 ssl;\n    }\n}\n';
    const f = findingAt('leg2-optional-unchecked', text, 'ssl_verify_client', { block: { file: '/etc/nginx/sites-available/site', line: 3, column: 5, endLine: 5, endColumn: 6, kind: 'server', serverNames: [], addresses: ['443'], indent: '    ', innerIndent: '        ', eol: '\n', bodyStart: { line: 3, column: 13 }, insertAt: { line: 5, column: 1 }, insertAtLineStart: true } });
    const fixes = computeFixes(text, f, { cas: CAS });
    assert.strictEqual(applyEdits(text, fixOf(fixes, 'set-required').edits), text.replace('optional_no_ca', 'on'));
    assert.strictEqual(applyEdits(text, fixOf(fixes, 'add-verify-check').edits),
      text.replace('listen 443 ssl;\n', 'listen 443 ssl;\n        if ($ssl_client_verify != SUCCESS) {\n            return 403;\n        }\n'));
  });

  it('leg2-invalid-value: "require" -> "on", from the finding data or by itself', () => {
    const text = 'server {\n    ssl_verify_client require;\n}\n';
    const f = findingAt('leg2-invalid-value', text, 'require');
    assert.strictEqual(fixed(text, f, 'fix-value'), text.replace('require', 'on'));
    const f2 = findingAt('leg2-invalid-value', text, 'ssl_verify_client', { suggestedValue: 'optional' });
    assert.strictEqual(fixed(text, f2, 'fix-value'), text.replace('require', 'optional'));
  });

  it('leg2-verify-depth: lowers an existing depth, or adds one after ssl_verify_client', () => {
    const deep = 'server {\n    ssl_verify_client on;\n    ssl_verify_depth 5;\n}\n';
    assert.strictEqual(fixed(deep, findingAt('leg2-verify-depth', deep, 'ssl_verify_depth'), 'set-verify-depth'), deep.replace('5', '1'));
    const none = 'server {\n    ssl_verify_client on;\n    location / {}\n}\n';
    assert.strictEqual(fixed(none, findingAt('leg2-verify-depth', none, 'ssl_verify_client'), 'set-verify-depth'), none.replace('on;\n', 'on;\n    ssl_verify_depth 1;\n'));
  });

  it('leg2-ca-file: points ssl_client_certificate at the chosen CA', () => {
    const text = 'server {\n    ssl_client_certificate /etc/ssl/cloudflare-origin-ca.pem;  # wrong one\n    ssl_verify_client on;\n}\n';
    const f = findingAt('leg2-ca-file', text, '/etc/ssl/cloudflare-origin-ca.pem', { caProblem: 'cloudflare-origin-ca' });
    const fixes = computeFixes(text, f, { cas: CAS });
    assert.strictEqual(fixes[0].title, 'Use the Cloudflare origin-pull CA as the client CA');
    assert.strictEqual(fixes[0].isPreferred, true);
    assert.strictEqual(applyEdits(text, fixes[0].edits), text.replace('/etc/ssl/cloudflare-origin-ca.pem', ORIGIN_PULL.path));
    // the shared origin-pull CA is information only: nothing to replace automatically
    const info = computeFixes(text, findingAt('leg2-ca-file', text, '/etc', { caProblem: 'origin-pull-shared' }), { cas: CAS });
    assert.deepStrictEqual(info.map(x => x.kind), ['ignore']);
  });

  it('ignore: a marker comment as the first line of the server block', () => {
    const text = 'server {\n\tlisten 443 ssl;\n}\n';
    assert.strictEqual(fixed(text, findingAt('leg2-no-client-auth', text, 'server'), 'ignore'), 'server {\n\t# mtls-lint: ignore leg2-no-client-auth\n\tlisten 443 ssl;\n}\n');
  });

  it('offers nothing when the text no longer has the directive (stale finding)', () => {
    const text = 'server {\n    listen 443 ssl;\n}\n';
    const stale = { ...findingAt('leg2-invalid-value', text, 'listen'), line: 40 };
    assert.deepStrictEqual(computeFixes(text, stale, { cas: CAS }), []);
  });
});

describe('lint quick-fixes: Apache', () => {
  const vhost = conf(`
    <IfModule mod_ssl.c>
        <VirtualHost *:443>
            ServerName example.com
            DocumentRoot /var/www/html

            SSLEngine on
            SSLCertificateFile /etc/ssl/origin.pem
            SSLCertificateKeyFile /etc/ssl/origin.key

            <Directory /var/www/html>
                Require all granted
            </Directory>
        </VirtualHost>
    </IfModule>
  `);

  it('adds SSLVerifyClient require, SSLVerifyDepth 1 and SSLCACertificateFile after the last SSL directive', () => {
    const fixes = computeFixes(vhost, findingAt('leg2-no-client-auth', vhost, '<VirtualHost', undefined, 0, '/etc/apache2/sites-available/site.conf'), { cas: CAS });
    assert.deepStrictEqual(fixes.map(x => x.title), [
      'Require Cloudflare client certificate (origin-pull CA)',
      'Require client certificate (workspace CA acme-root)',
      'Ignore leg2-no-client-auth in this virtual host (not behind Cloudflare)',
    ]);
    assert.strictEqual(applyEdits(vhost, fixes[0].edits), vhost.replace('origin.key\n', 'origin.key\n        SSLVerifyClient require\n        SSLVerifyDepth 1\n        SSLCACertificateFile /etc/ssl/cloudflare/origin-pull-ca.pem\n'));
  });

  it('keeps tabs and replaces "SSLVerifyClient none" (any case)', () => {
    const text = '<VirtualHost *:443>\n\tSSLEngine on\n\tsslverifyclient none\n\tSSLCertificateFile a.pem\n</VirtualHost>\n';
    const out = fixed(text, findingAt('leg2-no-client-auth', text, '<VirtualHost'), 'require-client-cert', 'workspace');
    assert.strictEqual(out, '<VirtualHost *:443>\n\tSSLEngine on\n\tsslverifyclient require\n\tSSLCertificateFile a.pem\n\tSSLVerifyDepth 1\n\tSSLCACertificateFile /srv/pki/.mtls/acme-root/ca.pem\n</VirtualHost>\n');
  });

  it('leg2-no-ca: SSLCACertificateFile after SSLVerifyClient; leg2-invalid-value: "required" -> "require"', () => {
    const text = '<VirtualHost *:443>\n  SSLEngine on\n  SSLVerifyClient require\n</VirtualHost>\n';
    assert.strictEqual(fixed(text, findingAt('leg2-no-ca', text, 'SSLVerifyClient'), 'add-client-ca', 'origin-pull'),
      text.replace('require\n', 'require\n  SSLCACertificateFile /etc/ssl/cloudflare/origin-pull-ca.pem\n'));
    const bad = '<VirtualHost *:443>\n  SSLVerifyClient required\n</VirtualHost>\n';
    assert.strictEqual(fixed(bad, findingAt('leg2-invalid-value', bad, 'required'), 'fix-value'), bad.replace('required', 'require'));
    // mod_ssl reads "on" as "require": nothing to fix
    const on = '<VirtualHost *:443>\n  SSLVerifyClient on\n</VirtualHost>\n';
    assert.deepStrictEqual(computeFixes(on, findingAt('leg2-invalid-value', on, 'on'), { cas: CAS }).filter(f => f.kind === 'fix-value'), []);
  });

  it('leg2-optional-unchecked: require (preferred), or an <If> that denies unverified clients', () => {
    const text = '<VirtualHost *:443>\n    SSLEngine on\n    SSLVerifyClient optional\n    SSLCACertificateFile ca.pem\n</VirtualHost>\n';
    const fixes = computeFixes(text, findingAt('leg2-optional-unchecked', text, 'SSLVerifyClient'), { cas: CAS });
    assert.strictEqual(applyEdits(text, fixOf(fixes, 'set-required').edits), text.replace('optional', 'require'));
    assert.strictEqual(applyEdits(text, fixOf(fixes, 'add-verify-check').edits),
      text.replace('optional\n', 'optional\n    <If "%{SSL_CLIENT_VERIFY} != \'SUCCESS\'">\n        Require all denied\n    </If>\n'));
  });

  it('leg2-ca-file: SSLCACertificatePath becomes SSLCACertificateFile with the chosen CA; a continuation line is followed', () => {
    const text = '<VirtualHost *:443>\n    SSLCACertificatePath \\\n        /etc/ssl/empty-dir\n</VirtualHost>\n';
    const out = fixed(text, findingAt('leg2-ca-file', text, 'SSLCACertificatePath', { caProblem: 'no-certificate' }), 'replace-ca', 'origin-pull');
    assert.strictEqual(out, '<VirtualHost *:443>\n    SSLCACertificateFile \\\n        /etc/ssl/cloudflare/origin-pull-ca.pem\n</VirtualHost>\n');
  });
});

describe('lint quick-fixes: helpers', () => {
  it('detects the indentation unit', () => {
    assert.strictEqual(detectIndentUnit(['a {', '\tb;', '\t\tc;', '}']), '\t');
    assert.strictEqual(detectIndentUnit(['a {', '  b {', '    c;', '  }', '}']), '  ');
    assert.strictEqual(detectIndentUnit(['a;']), '    ');
  });

  it('quotes paths the servers would split', () => {
    assert.strictEqual(quoteArg('/a/b.pem', 'nginx'), '/a/b.pem');
    assert.strictEqual(quoteArg('/a b/c.pem', 'nginx'), '"/a b/c.pem"');
    assert.strictEqual(quoteArg('/a b/c.pem', 'apache'), '"/a b/c.pem"');
  });

  it('reads nginx structure with exact positions (quotes, comments, ${var})', () => {
    const s = readStructure('# c { }\nserver {\n  set $x "a;b";  # ;\n  return 200 "${x}";\n}\n', 'nginx');
    assert.strictEqual(s.nodes.length, 1);
    const server = s.nodes[0];
    assert.deepStrictEqual(server.children!.map(c => [c.name, c.args.map(a => a.value), c.start, c.end]), [
      ['set', ['$x', 'a;b'], { line: 3, column: 3 }, { line: 3, column: 16 }],
      ['return', ['200', '${x}'], { line: 4, column: 3 }, { line: 4, column: 21 }],
    ]);
    assert.deepStrictEqual([server.bodyStart, server.bodyEnd, server.end], [{ line: 2, column: 9 }, { line: 5, column: 1 }, { line: 5, column: 2 }]);
  });
});
