import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { detectDialect, isLikelyConfigFile } from '../../../src/core/lint';

const CORPUS = path.join(__dirname, '../../../../test/fixtures/corpus');

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe('lint: dialect detection', () => {
  it('by explicit name first', () => {
    assert.strictEqual(detectDialect('/etc/nginx/nginx.conf', '<VirtualHost *:80>'), 'nginx');
    assert.strictEqual(detectDialect('/etc/apache2/apache2.conf'), 'apache');
    assert.strictEqual(detectDialect('/etc/httpd/conf/httpd.conf'), 'apache');
    assert.strictEqual(detectDialect('/var/www/.htaccess', ''), 'apache');
  });

  it('then by content, then by weaker hints', () => {
    assert.strictEqual(detectDialect('/x/site.conf', 'server {\n  listen 443 ssl;\n}\n'), 'nginx');
    assert.strictEqual(detectDialect('/x/site.conf', '<VirtualHost *:443>\n  SSLEngine on\n</VirtualHost>\n'), 'apache');
    assert.strictEqual(detectDialect('/x/site.vhost', 'server {\n  listen 80;\n}\n'), 'nginx');
    assert.strictEqual(detectDialect('/x/site.vhost', ''), 'apache');
    assert.strictEqual(detectDialect('/etc/nginx/conf.d/empty.conf', ''), 'nginx');
    assert.strictEqual(detectDialect('/x/notes.conf', 'just some words'), undefined);
  });

  it('tells every corpus config apart (nginx vs Apache) by name and content', () => {
    const wrong: string[] = [];
    for (const f of walk(CORPUS)) {
      const rel = path.relative(CORPUS, f);
      if (!rel.includes(path.sep)) continue; // README / licences
      const want = rel.startsWith('nginx') ? 'nginx' : 'apache';
      const got = detectDialect(f, fs.readFileSync(f, 'utf8'));
      if (got !== undefined && got !== want) wrong.push(`${rel}: ${got}`);
    }
    assert.deepStrictEqual(wrong, []);
  });

  it('recognises config file names for folder scans', () => {
    for (const f of ['/a/b.conf', '/etc/nginx/sites-enabled/default', '/x/site.vhost', '/x/.htaccess']) assert.ok(isLikelyConfigFile(f), f);
    for (const f of ['/a/b.pem', '/a/README.md', '/etc/nginx/sites-enabled/x.bak']) assert.ok(!isLikelyConfigFile(f), f);
  });
});
