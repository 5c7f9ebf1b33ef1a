// Bad input never throws, findings stay inside the text, and the CLI covers Caddy and HAProxy configs.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { lintText } from '../../../src/core/lint';
import { computeCaddyFixes } from '../../../src/core/lint/caddy/fixes';
import { computeHaproxyFixes } from '../../../src/core/lint/haproxy/fixes';
import { main } from '../../../src/cli/main';
import { CliIO } from '../../../src/cli/io';

/** A small deterministic generator (the same inputs on every run). */
function rng(seed: number): () => number {
  let x = seed;
  return () => { x = (x * 1103515245 + 12345) & 0x7fffffff; return x / 0x80000000; };
}

const CADDY_PIECES = ['{', '}', '\n', ' ', '\t', '"', '`', '#', 'tls', 'client_auth', 'mode', 'require', 'trusted_ca_cert_file', 'import', '(s)', 'example.com,', 'https://a:443', '{$X}', '\\', 'x.pem'];
const HAPROXY_PIECES = ['frontend fe', 'listen l', 'defaults', '\n', ' ', '\t', '"', "'", '#', '\\', 'bind', ':443', 'ssl', 'crt', 'crt-list', 'ca-file', 'verify', 'optional', 'required', 'crt-ignore-err', 'all', 'http-request deny', 'if', 'unless', '{', '}', '!', '||', 'ssl_c_used', 'ssl_c_verify 0', 'acl a', 'mode http'];

function garbage(pieces: string[], seed: number, n: number): string {
  const r = rng(seed);
  let s = '';
  for (let i = 0; i < n; i++) s += pieces[Math.floor(r() * pieces.length)];
  return s;
}

describe('Caddy and HAProxy linters on bad input', () => {
  for (const [dialect, pieces, file] of [['caddy', CADDY_PIECES, '/nonexistent/Caddyfile'], ['haproxy', HAPROXY_PIECES, '/nonexistent/haproxy.cfg']] as const) {
    it(`${dialect}: 300 random texts lint and fix without throwing, findings inside the text`, () => {
      for (let seed = 1; seed <= 300; seed++) {
        const text = garbage(pieces, seed, 5 + (seed % 60));
        const lines = text.split(/\r\n|\n|\r/);
        const findings = lintText(text, { file, dialect, settings: { checkCaFiles: false } });
        for (const f of findings) {
          assert.ok(f.line >= 1 && f.endLine <= lines.length && (f.line < f.endLine || f.column <= f.endColumn), `${JSON.stringify(f)} in ${JSON.stringify(text)}`);
          if (f.file === file) (dialect === 'caddy' ? computeCaddyFixes : computeHaproxyFixes)(text, f, { cas: [{ path: '/etc/ca.pem', label: 'ca', kind: 'typed' }] });
        }
      }
    });
  }

  it('caddy: a snippet that imports itself ends', () => {
    const text = '(a) {\n\timport a\n\timport a\n}\nexample.com {\n\timport a\n}\n';
    assert.deepStrictEqual(lintText(text, { file: '/nonexistent/Caddyfile' }).map(f => f.code), ['leg2-no-client-auth']);
  });
});

describe('mtls lint on Caddy and HAProxy configs', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-lint-proxies-cli-'));
    fs.mkdirSync(path.join(dir, 'caddy'));
    fs.mkdirSync(path.join(dir, 'haproxy'));
    fs.writeFileSync(path.join(dir, 'caddy', 'Caddyfile'), 'example.com {\n\ttls {\n\t\tclient_auth {\n\t\t\tmode required\n\t\t}\n\t}\n}\n');
    fs.writeFileSync(path.join(dir, 'haproxy', 'haproxy.cfg'), 'frontend fe\n\tbind :443 ssl crt /etc/haproxy/site.pem\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a folder scan reports both, as JSON, and exits 1 on the error', async () => {
    let out = '';
    const io: CliIO = { stdout: t => { out += t; }, stderr: () => undefined, env: {}, cwd: dir };
    const code = await main(['lint', '.', '--format', 'json'], io);
    assert.strictEqual(code, 1);
    const arr = JSON.parse(out) as { file: string; line: number; code: string }[];
    assert.deepStrictEqual(arr.map(f => `${f.file}:${f.line} ${f.code}`), [
      `${path.join('caddy', 'Caddyfile')}:4 leg2-invalid-value`,
      `${path.join('haproxy', 'haproxy.cfg')}:1 leg2-no-client-auth`,
    ]);
  });
});
