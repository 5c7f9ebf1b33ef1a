// The real-world corpus (test/fixtures/corpus, configs nobody on this project wrote): every file parses
// without throwing in bounded time, every finding points at real text of an existing file, and the only
// Error-level findings are ones the real server would also refuse.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Dialect, Finding, lintText, lintTextDetailed } from '../../../src/core/lint';
import { apacheConfigTest, nginxTestFile } from '../../support/servers';

const CORPUS = path.join(__dirname, '../../../../test/fixtures/corpus');
const NOT_CONFIG = /(^|\/)(README\.md|LICENSE[^/]*|NEEDED\.txt|apache-conf-test[^/]*|README\.modules|magic|envvars|version|config_file|[^/]*\.py)$/;

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

const rel = (p: string) => path.relative(CORPUS, p);
const lineCache = new Map<string, string[]>();
function linesOf(file: string): string[] {
  let l = lineCache.get(file);
  if (!l) { l = fs.readFileSync(file, 'utf8').split('\n').map(x => x.replace(/\r$/, '')); lineCache.set(file, l); }
  return l;
}

function textOf(file: string, r: { line: number; column: number; endLine: number; endColumn: number }): string {
  const lines = linesOf(file);
  if (r.line === r.endLine) return lines[r.line - 1].slice(r.column - 1, r.endColumn - 1);
  return [lines[r.line - 1].slice(r.column - 1), ...lines.slice(r.line, r.endLine - 1), lines[r.endLine - 1].slice(0, r.endColumn - 1)].join('\n');
}

/** A finding's range is real text of an existing file and, for rule findings, lies on its directive. */
function checkPosition(f: Finding): void {
  const where = `${rel(f.file)}:${f.line}:${f.column} ${f.code}`;
  assert.ok(fs.existsSync(f.file), `${where}: file exists`);
  const lines = linesOf(f.file);
  assert.ok(f.line >= 1 && f.line <= lines.length && f.endLine >= f.line && f.endLine <= lines.length, `${where}: lines in range`);
  assert.ok(f.column >= 1 && f.column <= lines[f.line - 1].length + 1, `${where}: column in range`);
  assert.ok(f.endColumn >= 1 && f.endColumn <= lines[f.endLine - 1].length + 1, `${where}: end column in range`);
  assert.ok(f.endLine > f.line || f.endColumn > f.column, `${where}: not empty`);
  const text = textOf(f.file, f);
  assert.ok(text.trim().length > 0, `${where}: covers text`);
  const d = f.data?.directive;
  if (f.code !== 'parse-error') {
    assert.ok(d, `${where}: names its directive`);
    assert.strictEqual(d!.file, f.file, `${where}: directive in the same file`);
    const dText = textOf(d!.file, d!);
    assert.ok(dText.replace(/^</, '').toLowerCase().startsWith(d!.name.toLowerCase()), `${where}: directive range starts with its name (${dText.slice(0, 40)})`);
    const inside = (f.line > d!.line || (f.line === d!.line && f.column >= d!.column)) && (f.endLine < d!.endLine || (f.endLine === d!.endLine && f.endColumn <= d!.endColumn));
    assert.ok(inside, `${where}: finding inside its directive`);
  }
}

interface Run { file: string; dialect: Dialect; findings: Finding[]; ms: number }

function lintFile(file: string, dialect: Dialect): Run {
  const t0 = Date.now();
  const findings = lintText(fs.readFileSync(file, 'utf8'), { file, dialect, settings: { workspaceRoot: CORPUS } });
  return { file, dialect, findings, ms: Date.now() - t0 };
}

/**
 * Every Error-level finding on the corpus, with why the real server refuses the same thing. Any new error
 * fails the test until it is checked and listed here.
 */
const EXPECTED_ERRORS: Record<string, string> = {
  // nginx: syntax errors; each is confirmed below with `nginx -t` on the file ("unexpected ...")
  'nginx/crossplane/includes-globbed/servers/locations/not-included.conf:2:1 parse-error': 'nginx -t',
  'nginx/crossplane/includes-regular/conf.d/bar.conf:2:1 parse-error': 'nginx -t',
  'nginx/crossplane/includes-regular/conf.d/foo.conf:2:1 parse-error': 'nginx -t',
  'nginx/crossplane/missing-semicolon/broken-above.conf:4:24 parse-error': 'nginx -t',
  'nginx/crossplane/missing-semicolon/broken-below.conf:7:24 parse-error': 'nginx -t',
  'nginx/crossplane/quote-behavior/nginx.conf:1:21 parse-error': 'nginx -t',
  'nginx/crossplane/quote-behavior/nginx.conf:2:6 parse-error': 'nginx -t',
  // Apache: an unclosed <VirtualHost>; confirmed below with apache2 -t ("<VirtualHost> was not closed")
  'apache/certbot-trees/debian_apache_2_4/augeas_vhosts/apache2/conf-available/bad_conf_file.conf:1:1 parse-error': 'apache2 -t',
  'apache/certbot-trees/debian_apache_2_4/multiple_vhosts/apache2/conf-available/bad_conf_file.conf:1:1 parse-error': 'apache2 -t',
  // Apache: SSLEngine on with no SSLCertificateFile (the certbot fixtures commented it out). httpd 2.4
  // passes -t but refuses to start: AH02572 "Failed to configure at least one certificate and key"
  // (the same configuration is started for real in agreement.test.ts).
  'apache/certbot-conf-files/passing/section-empty-continuations-2731.conf:119:9 tls-no-certificate': 'AH02572 at start',
  'apache/certbot-conf-files/passing/section-empty-continuations-2731.conf:155:9 tls-no-certificate': 'AH02572 at start',
  'apache/certbot-conf-files/passing/section-empty-continuations-2731.conf:228:9 tls-no-certificate': 'AH02572 at start',
  'apache/certbot-trees/centos7_apache/apache/httpd/conf.d/ssl.conf:70:1 tls-no-certificate': 'AH02572 at start',
};

describe('lint: corpus of real-world configs', function () {
  this.timeout(300000);
  const files = walk(CORPUS).filter(f => !NOT_CONFIG.test(rel(f)) && !rel(f).startsWith('LICENSE'));
  const runs: Run[] = [];

  before(() => {
    for (const f of files) runs.push(lintFile(f, rel(f).startsWith('apache/') ? 'apache' : 'nginx'));
    // Trees through their main files, with includes.
    for (const f of files.filter(x => /(^|\/)(nginx\.conf|apache2\.conf|httpd\.conf)$/.test(x))) runs.push(lintFile(f, rel(f).startsWith('apache/') ? 'apache' : 'nginx'));
  });

  it('has the corpus (nginx and Apache, hundreds of files)', () => {
    assert.ok(files.filter(f => rel(f).startsWith('nginx/')).length > 150, 'nginx files');
    assert.ok(files.filter(f => rel(f).startsWith('apache/')).length > 100, 'apache files');
  });

  it('parses and lints every file without throwing, each in bounded time', () => {
    const slow = runs.filter(r => r.ms > 3000).map(r => `${rel(r.file)} ${r.ms} ms`);
    assert.deepStrictEqual(slow, []);
  });

  it('follows includes in the trees (main files reach their included files)', () => {
    const main = path.join(CORPUS, 'apache/certbot-trees/debian_apache_2_4/multiple_vhosts/apache2/apache2.conf');
    const r = lintTextDetailed(fs.readFileSync(main, 'utf8'), { file: main, dialect: 'apache' });
    const reached = r.files.map(f => rel(f.file));
    assert.ok(reached.some(f => f.endsWith('ports.conf')), 'ports.conf');
    assert.ok(reached.some(f => /sites-enabled\//.test(f)), 'sites-enabled/*');
    assert.ok(reached.some(f => /mods-enabled\/.*\.load$/.test(f)), 'mods-enabled/*.load');
    const ng = path.join(CORPUS, 'nginx/crossplane/includes-globbed/nginx.conf');
    const n = lintTextDetailed(fs.readFileSync(ng, 'utf8'), { file: ng, dialect: 'nginx' });
    // relative to the prefix (the main file's folder), so servers/locations/not-included.conf is not reached
    assert.deepStrictEqual(n.files.map(f => rel(f.file)).sort(), [
      'nginx/crossplane/includes-globbed/http.conf',
      'nginx/crossplane/includes-globbed/locations/location1.conf',
      'nginx/crossplane/includes-globbed/locations/location2.conf',
      'nginx/crossplane/includes-globbed/nginx.conf',
      'nginx/crossplane/includes-globbed/servers/server1.conf',
      'nginx/crossplane/includes-globbed/servers/server2.conf',
    ]);
  });

  it('every finding points at real text of an existing file, on its directive', () => {
    let n = 0;
    for (const r of runs) for (const f of r.findings) { checkPosition(f); n++; }
    assert.ok(n > 30, `checked ${n} findings`);
  });

  it('plain-HTTP sites get no Leg 2 findings, and TLS sites get warnings, not errors, for missing client auth', () => {
    for (const r of runs) {
      for (const f of r.findings) {
        if (f.code === 'leg2-no-client-auth') assert.strictEqual(f.severity, 'warning');
        if (f.code.startsWith('leg2-')) {
          const d = f.data!;
          const tls = d.block ? true : false;
          assert.ok(tls || f.code === 'leg2-invalid-value' || f.code === 'leg2-ca-file', `${rel(f.file)}:${f.line} ${f.code} outside a TLS site`);
        }
      }
    }
  });

  it('the only Error-level findings are the listed ones, where the real server refuses too', () => {
    const errors = new Set<string>();
    for (const r of runs) for (const f of r.findings) if (f.severity === 'error') errors.add(`${rel(f.file)}:${f.line}:${f.column} ${f.code}`);
    const failingDir = [...errors].filter(e => e.startsWith('apache/certbot-conf-files/failing/'));
    const others = [...errors].filter(e => !e.startsWith('apache/certbot-conf-files/failing/')).sort();
    assert.deepStrictEqual(others, Object.keys(EXPECTED_ERRORS).sort());
    void failingDir; // files Apache itself rejects: errors there are expected
  });

  it('mangled corpus files (random cuts, braces, quotes, tags, backslashes) never crash the linter', () => {
    let seed = 12345;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    const junk = ['{', '}', ';', '"', "'", '\\', '\n', '#', '<VirtualHost *:443>', '</VirtualHost>', '<If "x">', '${', 'include *;', 'Include /nope/*.conf\n', '\\\n', '\r\n', 'ssl_verify_client', ' ssl ', 'SSLEngine on\n'];
    const sample = files.filter((_, i) => i % 7 === 0);
    for (let round = 0; round < 300; round++) {
      const file = sample[rnd(sample.length)];
      let text = fs.readFileSync(file, 'utf8');
      for (let k = 0; k < 1 + rnd(6); k++) {
        const at = rnd(text.length + 1);
        text = rnd(2) ? text.slice(0, at) + junk[rnd(junk.length)] + text.slice(at) : text.slice(0, at) + text.slice(at + rnd(40));
      }
      const dialect: Dialect = rel(file).startsWith('apache/') ? 'apache' : 'nginx';
      const findings = lintText(text, { file, dialect, followIncludes: false, timeBudgetMs: 2000 });
      const lineCount = text.split('\n').length;
      for (const f of findings) {
        assert.ok(!/^Internal error/.test(f.message), `${rel(file)} round ${round}: ${f.message}`);
        if (f.file === file) assert.ok(f.line >= 1 && f.endLine <= lineCount && f.column >= 1, `${rel(file)} round ${round}: ${f.line}:${f.column}`);
      }
    }
  });

  it('nginx -t refuses each nginx file with an Error-level finding', async function () {
    if (!fs.existsSync('/usr/sbin/nginx')) this.skip();
    for (const [key, how] of Object.entries(EXPECTED_ERRORS)) {
      if (how !== 'nginx -t') continue;
      const file = path.join(CORPUS, key.split(':')[0]);
      const r = await nginxTestFile(file);
      assert.strictEqual(r.ok, false, `${key}: nginx -t accepted it`);
      assert.match(r.output, /unexpected/, `${key}: ${r.output}`);
    }
  });

  it('apache2 -t refuses the unclosed <VirtualHost> files', async function () {
    if (!fs.existsSync('/usr/sbin/apache2')) this.skip();
    for (const [key, how] of Object.entries(EXPECTED_ERRORS)) {
      if (how !== 'apache2 -t') continue;
      const file = path.join(CORPUS, key.split(':')[0]);
      const r = await apacheConfigTest(`Include ${file}\n`);
      assert.strictEqual(r.ok, false, `${key}: apache2 -t accepted it`);
      assert.match(r.output, /<VirtualHost> was not closed/, `${key}: ${r.output}`);
    }
  });
});
