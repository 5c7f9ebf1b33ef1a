import * as assert from 'assert';
import { parseConfig, NginxDirective, Directive, lintTextDetailed } from '../../../src/core/lint';
import { memFs, pos, textAt } from './helpers';

function parse(text: string) {
  return parseConfig(text, { file: '/etc/nginx/nginx.conf', dialect: 'nginx' });
}

function find(ds: Directive[], name: string): NginxDirective | undefined {
  for (const d of ds) {
    if (d.name === name) return d as NginxDirective;
    const inner = d.block && find(d.block, name);
    if (inner) return inner;
  }
  return undefined;
}

describe('lint: nginx parser', () => {
  it('gives exact positions of directives, arguments, braces and semicolons', () => {
    const text = 'http {\n    server {\n\tlisten 443 ssl;\n        ssl_verify_client   optional ;\n    }\n}\n';
    const pf = parse(text);
    assert.deepStrictEqual(pf.findings, []);
    const listen = find(pf.directives, 'listen')!;
    assert.strictEqual(pos(listen), '3:2-3:17');
    assert.strictEqual(textAt(text, listen), 'listen 443 ssl;');
    assert.strictEqual(listen.indent, '\t');
    assert.deepStrictEqual(listen.args.map(a => [a.value, pos(a)]), [['443', '3:9-3:12'], ['ssl', '3:13-3:16']]);
    const v = find(pf.directives, 'ssl_verify_client')!;
    assert.strictEqual(textAt(text, v.args[0]), 'optional');
    assert.strictEqual(pos(v.semicolon!), '4:38-4:39');
    const server = find(pf.directives, 'server')!;
    assert.strictEqual(pos(server), '2:5-5:6');
    assert.strictEqual(pos(server.openBrace!), '2:12-2:13');
    assert.strictEqual(pos(server.closeBrace!), '5:5-5:6');
    assert.strictEqual(server.indent, '    ');
    assert.strictEqual(pf.lineCount, 7);
  });

  it('reads quotes and escapes as nginx does, keeping the raw text', () => {
    const text = `return 200 "a \\"b\\" c\\n" 'it''s' "x}";\nlog_format main '{ "k": "$v" }'\n   '"$s"';\n`;
    const pf = parse(text);
    const r = pf.directives[0];
    assert.deepStrictEqual(r.args.map(a => a.value), ['200', 'a "b" c\n', 'it', 's', 'x}']);
    assert.strictEqual(r.args[1].raw, '"a \\"b\\" c\\n"');
    assert.strictEqual(r.args[1].quote, '"');
    const lf = pf.directives[1];
    assert.deepStrictEqual(lf.args.map(a => a.value), ['main', '{ "k": "$v" }', '"$s"']);
    assert.strictEqual(pos(lf), '2:1-3:11');
    // 'it''s' is two quoted strings back to back: nginx refuses it, the parser says so and goes on
    assert.strictEqual(pf.findings.length, 1);
    assert.match(pf.findings[0].message, /right after a quoted string/);
  });

  it('keeps # comments (also between arguments) out of the arguments and records them', () => {
    const text = 'http { #c1\n  log_format #c2\n    \\#arg\\ 1 #c3\n    \'#arg 2\' #c4\n    ;\n}\n';
    const pf = parse(text);
    const lf = find(pf.directives, 'log_format')!;
    assert.deepStrictEqual(lf.args.map(a => a.value), ['\\#arg\\ 1', '#arg 2']);
    assert.deepStrictEqual(pf.comments.map(c => [c.text, pos(c)]), [['c1', '1:8-1:11'], ['c2', '2:14-2:17'], ['c3', '3:14-3:17'], ['c4', '4:14-4:17']]);
    assert.strictEqual(pf.findings.length, 0);
  });

  it('treats ${var} braces, # inside words and } inside words as nginx does', () => {
    const pf = parse('location / { try_files /a/${uri} =404; set $x a#b; return 200 x}; }\n');
    const loc = pf.directives[0];
    assert.deepStrictEqual(loc.block!.map(d => [d.name, d.args.map(a => a.value)]), [
      ['try_files', ['/a/${uri}', '=404']], ['set', ['$x', 'a#b']], ['return', ['200', 'x}']],
    ]);
    assert.strictEqual(pf.findings.length, 0);
  });

  it('parses if (...), map, location modifiers and an empty map value', () => {
    const text = 'map $ssl_client_verify $reject { default 1; SUCCESS 0; \'\' 1; }\nserver { if ($ssl_client_verify != SUCCESS) { return 403; } location ~* \\.php$ { } }\n';
    const pf = parse(text);
    const ifd = find(pf.directives, 'if')!;
    assert.deepStrictEqual(ifd.args.map(a => a.value), ['($ssl_client_verify', '!=', 'SUCCESS)']);
    assert.strictEqual(textAt(text, ifd), 'if ($ssl_client_verify != SUCCESS) { return 403; }');
    const map = pf.directives[0];
    assert.deepStrictEqual(map.block!.map(d => [d.name, d.args.map(a => a.value)]), [['default', ['1']], ['SUCCESS', ['0']], ['', ['1']]]);
    assert.deepStrictEqual(find(pf.directives, 'location')!.args.map(a => a.value), ['~*', '\\.php$']);
  });

  it('skips *_by_lua_block bodies as raw Lua (braces and quotes inside do not count)', () => {
    const text = [
      'server {',
      '  content_by_lua_block {',
      '    local t = { "}", \'{\' } -- } in a comment',
      '    local s = [[ } ]] --[==[ { ]==]',
      '    ngx.say("}")',
      '  }',
      '  set_by_lua_block $res { return 1 }',
      '  listen 80;',
      '}',
    ].join('\n');
    const pf = parse(text);
    assert.deepStrictEqual(pf.findings, []);
    const server = pf.directives[0];
    assert.deepStrictEqual(server.block!.map(d => d.name), ['content_by_lua_block', 'set_by_lua_block', 'listen']);
    const lua = server.block![0] as NginxDirective;
    assert.strictEqual(lua.block, undefined);
    assert.strictEqual(pos(lua), '2:3-6:4');
    assert.strictEqual(pos(lua.rawBlock!), '2:25-6:3');
    assert.deepStrictEqual(server.block![1].args.map(a => a.value), ['$res']);
  });

  it('reports a missing semicolon before } and at end of file, and unclosed blocks, and still parses the rest', () => {
    const text = 'http {\n  server {\n    location /a {\n      proxy_pass http://a\n    }\n    listen 443 ssl;\n  }\n';
    const pf = parse(text);
    assert.deepStrictEqual(pf.findings.map(f => [f.severity, pos(f), f.message.slice(0, 30)]), [
      ['error', '1:1-1:5', 'unexpected end of file: the bl'],
      ['error', '4:18-4:26', 'missing ";" after "proxy_pass '],
    ]);
    assert.ok(find(pf.directives, 'listen'), 'the directive after the broken one is still read');
    const http = pf.directives[0];
    assert.strictEqual(http.endLine, 8, 'an unclosed block runs to the end of the file');
  });

  it('warns (not errors) about a line that looks like a forgotten semicolon', () => {
    const pf = parse('server {\n  server_name a.example\n  root /srv;\n}\n');
    assert.strictEqual(pf.findings.length, 1);
    assert.strictEqual(pf.findings[0].severity, 'warning');
    assert.strictEqual(pos(pf.findings[0]), '2:15-2:24');
    assert.deepStrictEqual(pf.directives[0].block!.map(d => d.name), ['server_name', 'root']);
  });

  it('reports stray ; { } and unterminated quotes without throwing', () => {
    const pf = parse('; }\n{ listen 80; }\nserver_name "abc\n');
    assert.deepStrictEqual(pf.findings.map(f => pos(f)), ['1:1-1:2', '1:3-1:4', '2:1-2:2', '3:13-3:14', '3:13-4:1']);
    assert.match(pf.findings[3].message, /quote opened here is never closed/);
    assert.match(pf.findings[4].message, /missing ";" after "server_name abc/);
  });

  it('handles CRLF line ends and non-ASCII text with UTF-16 columns', () => {
    const text = 'server {\r\n  # Привет\r\n  server_name пример.рф;\r\n}\r\n';
    const pf = parse(text);
    const sn = find(pf.directives, 'server_name')!;
    assert.strictEqual(pos(sn.args[0]), '3:15-3:24');
    assert.strictEqual(textAt(text.replace(/\r/g, ''), sn.args[0]), 'пример.рф');
    assert.strictEqual(pf.comments[0].text, ' Привет');
    assert.strictEqual(pos(pf.comments[0]), '2:3-2:11');
  });

  it('follows include globs relative to the prefix, attaching the parsed files', () => {
    const files = {
      '/w/nginx/nginx.conf': 'http { include conf.d/*.conf; include /etc/nginx/snippets/ssl.conf; }\n',
      '/w/nginx/conf.d/a.conf': 'server { listen 80; }\n',
      '/w/nginx/conf.d/b.conf': 'server { listen 81; include ../snippets/ssl.conf; }\n',
      '/w/nginx/conf.d/skip.txt': 'garbage',
      '/w/nginx/snippets/ssl.conf': 'ssl_protocols TLSv1.3;\n',
    };
    const r = lintTextDetailed(files['/w/nginx/nginx.conf'], { file: '/w/nginx/nginx.conf', fs: memFs(files) });
    const inc = r.root.directives[0].block![0];
    assert.deepStrictEqual(inc.included!.map(p => p.file), ['/w/nginx/conf.d/a.conf', '/w/nginx/conf.d/b.conf']);
    // /etc/nginx/snippets/ssl.conf is not on this (memory) machine: its copy under the prefix is used
    assert.deepStrictEqual(r.root.directives[0].block![1].included!.map(p => p.file), ['/w/nginx/snippets/ssl.conf']);
    assert.deepStrictEqual(r.files.map(f => f.file).sort(), ['/w/nginx/conf.d/a.conf', '/w/nginx/conf.d/b.conf', '/w/nginx/nginx.conf', '/w/nginx/snippets/ssl.conf']);
  });

  it('survives include cycles and an injected resolver', () => {
    const files = { '/x/nginx.conf': 'include a.conf;\n', '/x/a.conf': 'include nginx.conf;\ninclude a.conf;\n' };
    const r = lintTextDetailed(files['/x/nginx.conf'], { file: '/x/nginx.conf', fs: memFs(files) });
    assert.deepStrictEqual(r.files.map(f => f.file), ['/x/nginx.conf', '/x/a.conf']);
    const seen: string[] = [];
    lintTextDetailed('include "weird name";', { file: '/x/nginx.conf', fs: memFs(files), resolveInclude: (p, from) => { seen.push(`${p}@${from}`); return ['/x/a.conf']; } });
    assert.deepStrictEqual(seen, ['weird name@/x/nginx.conf', 'nginx.conf@/x/a.conf', 'a.conf@/x/a.conf']);
  });

  it('parses a pathological file in bounded time', () => {
    const big = 'http {\n' + 'location / { if ($a) { return 200 "x"; } }\n'.repeat(20000) + '{'.repeat(20000) + '"' + 'x'.repeat(100000);
    const t0 = Date.now();
    const pf = parse(big);
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    assert.ok(pf.findings.length > 0);
  });
});
