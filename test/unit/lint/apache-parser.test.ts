import * as assert from 'assert';
import { ApacheDirective, Directive, parseConfig, lintTextDetailed } from '../../../src/core/lint';
import { memFs, pos, textAt } from './helpers';

function parse(text: string) {
  return parseConfig(text, { file: '/etc/apache2/sites-available/x.conf', dialect: 'apache' });
}

function find(ds: Directive[], name: string): ApacheDirective | undefined {
  for (const d of ds) {
    if (d.name.toLowerCase() === name.toLowerCase()) return d as ApacheDirective;
    const inner = d.block && find(d.block, name);
    if (inner) return inner;
  }
  return undefined;
}

describe('lint: Apache parser', () => {
  it('gives exact positions of sections, tags, directives and arguments', () => {
    const text = '<IfModule mod_ssl.c>\n  <VirtualHost *:443>\n\tSSLEngine on\n    SSLVerifyClient  "require"\n  </VirtualHost>\n</IfModule>\n';
    const pf = parse(text);
    assert.deepStrictEqual(pf.findings, []);
    const vh = find(pf.directives, 'VirtualHost')!;
    assert.strictEqual(vh.section, true);
    assert.strictEqual(pos(vh), '2:3-5:17');
    assert.strictEqual(textAt(text, vh.openTag!), '<VirtualHost *:443>');
    assert.strictEqual(textAt(text, vh.closeTag!), '</VirtualHost>');
    assert.strictEqual(textAt(text, vh.nameRange), 'VirtualHost');
    assert.deepStrictEqual(vh.args.map(a => [a.value, pos(a)]), [['*:443', '2:16-2:21']]);
    const eng = find(pf.directives, 'SSLEngine')!;
    assert.strictEqual(eng.indent, '\t');
    assert.strictEqual(textAt(text, eng), 'SSLEngine on');
    const v = find(pf.directives, 'SSLVerifyClient')!;
    assert.strictEqual(v.args[0].value, 'require');
    assert.strictEqual(v.args[0].raw, '"require"');
    assert.strictEqual(textAt(text, v.args[0]), '"require"');
  });

  it('joins backslash continuations and keeps positions on the physical lines', () => {
    const text = 'BrowserMatch "MSIE [2-6]" \\\n    nokeepalive ssl-unclean-shutdown \\\n    downgrade-1.0\n<VirtualHost 10.0.0.1:443 \\\n   10.0.0.2:443 \\\n   >\nServerName a\n</VirtualHost>\n';
    const pf = parse(text);
    assert.deepStrictEqual(pf.findings, []);
    const bm = pf.directives[0];
    assert.deepStrictEqual(bm.args.map(a => [a.value, pos(a)]), [['MSIE [2-6]', '1:14-1:26'], ['nokeepalive', '2:5-2:16'], ['ssl-unclean-shutdown', '2:17-2:37'], ['downgrade-1.0', '3:5-3:18']]);
    assert.strictEqual(pos(bm), '1:1-3:18');
    const vh = pf.directives[1];
    assert.deepStrictEqual(vh.args.map(a => [a.value, pos(a)]), [['10.0.0.1:443', '4:14-4:26'], ['10.0.0.2:443', '5:4-5:16']]);
    assert.strictEqual(vh.block!.length, 1);
  });

  it('reads a # line as a comment (a continued comment swallows the next line), a # after a directive as an argument', () => {
    const text = '# mtls-lint: ignore all\n# comment \\\nServerName hidden\nServerAdmin a # not a comment\n';
    const pf = parse(text);
    assert.deepStrictEqual(pf.comments.map(c => [c.text, pos(c)]), [[' mtls-lint: ignore all', '1:1-1:24'], [' comment ServerName hidden', '2:1-3:18']]);
    assert.deepStrictEqual(pf.directives.map(d => [d.name, d.args.map(a => a.value)]), [['ServerAdmin', ['a', '#', 'not', 'a', 'comment']]]);
  });

  it('unquotes like ap_getword_conf (escaped quotes and backslashes) and tolerates an unclosed quote', () => {
    const pf = parse('LogFormat "%h \\"%r\\" \\\\x" combined\nRewriteRule ^a\\ b$ c\nSSLCipherSuite "HIGH:!aNULL\n');
    assert.deepStrictEqual(pf.directives.map(d => d.args.map(a => a.value)), [['%h "%r" \\x', 'combined'], ['^a\\', 'b$', 'c'], ['HIGH:!aNULL']]);
    assert.deepStrictEqual(pf.findings, []);
  });

  it('accepts several closing tags on one line, as httpd does', () => {
    const pf = parse('<IfModule mod_ssl.c>\n<VirtualHost *:443>\nSSLEngine on\n</VirtualHost> </IfModule>\n');
    assert.deepStrictEqual(pf.findings, []);
    assert.strictEqual(pf.directives[0].block![0].block!.length, 1);
  });

  it('reports unclosed and mismatched sections (errors where httpd refuses, a warning for <IfModule>)', () => {
    const pf = parse('<VirtualHost *:80>\n<Directory /x>\n</VirtualHost>\n</Location>\n<IfModule x>\n<Location />\n');
    assert.deepStrictEqual(pf.findings.map(f => [f.severity, pos(f), f.message.slice(0, 25)]), [
      ['error', '2:1-2:15', '<Directory> is not closed'],
      ['error', '4:1-4:12', '</Location> without a mat'],
      ['warning', '5:1-5:13', '<IfModule> is never close'],
      ['error', '6:1-6:13', '<Location> is never close'],
    ]);
  });

  it('evaluates Define/${VAR}, <IfDefine>, <IfModule !mod_ssl.c> and follows Include/IncludeOptional with globs', () => {
    const files: Record<string, string> = {
      '/t/apache2/apache2.conf': [
        'Define CERTS /t/certs',
        'Include ports.conf',
        'IncludeOptional sites-enabled/*.conf',
        'IncludeOptional nothing/*.conf',
        '<IfModule !mod_ssl.c>',
        '  Include never.conf',
        '</IfModule>',
        '<IfDefine !CERTS>',
        '  Include never.conf',
        '</IfDefine>',
      ].join('\n'),
      '/t/apache2/ports.conf': 'Listen 443\n',
      '/t/apache2/sites-enabled/a.conf': '<VirtualHost *:443>\nSSLCACertificateFile ${CERTS}/ca.pem\n</VirtualHost>\n',
      '/t/apache2/never.conf': 'Bogus\n',
    };
    const r = lintTextDetailed(files['/t/apache2/apache2.conf'], { file: '/t/apache2/apache2.conf', fs: memFs(files) });
    assert.deepStrictEqual(r.files.map(f => f.file), ['/t/apache2/apache2.conf', '/t/apache2/ports.conf', '/t/apache2/sites-enabled/a.conf']);
    const a = r.files[2];
    const ca = find(a.directives, 'SSLCACertificateFile')!;
    assert.strictEqual(ca.args[0].value, '/t/certs/ca.pem');
    assert.strictEqual(ca.args[0].raw, '${CERTS}/ca.pem');
    const ifm = r.root.directives.find(d => d.name === 'IfModule') as ApacheDirective;
    assert.strictEqual(ifm.active, false);
  });

  it('resolves relative includes against ServerRoot, or its copy in the workspace', () => {
    const files: Record<string, string> = {
      '/ws/etc/httpd/conf/httpd.conf': 'ServerRoot "/etc/httpd"\nInclude conf.d/*.conf\n',
      '/ws/etc/httpd/conf.d/ssl.conf': 'Listen 443\n',
    };
    const r = lintTextDetailed(files['/ws/etc/httpd/conf/httpd.conf'], { file: '/ws/etc/httpd/conf/httpd.conf', fs: memFs(files) });
    assert.deepStrictEqual(r.files.map(f => f.file), ['/ws/etc/httpd/conf/httpd.conf', '/ws/etc/httpd/conf.d/ssl.conf']);
  });

  it('parses a huge file in bounded time', () => {
    const big = '<VirtualHost *:443>\n' + 'RewriteRule ^/a/(.*)$ /b/$1 [L,R=301] \\\n  extra\n'.repeat(30000) + '<Directory /x>\n'.repeat(5000);
    const t0 = Date.now();
    const pf = parse(big);
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    assert.strictEqual(pf.directives[0].block!.length, 30001);
  });
});
