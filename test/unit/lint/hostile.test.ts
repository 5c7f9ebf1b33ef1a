// Hostile inputs: the linter never hangs, never crashes and never reads what is not a regular file.
// - a folder of files that include each other by glob is expanded once per context (linear, not exponential);
// - FIFOs, devices and links to /dev/zero give `unreadable` findings (CLI and the editor's overlay fs alike);
// - 150,000 unmatched closers and 10,000 nested blocks give findings, never a stack overflow.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Finding, LintFs, lintFiles, lintText } from '../../../src/core/lint';
import { MAX_FILE_BYTES, nodeLintFs, overlayLintFs, readRegularFile } from '../../../src/core/lint/fs';
import { computeFixes } from '../../../src/core/lint/fixes';
import { memFs } from './helpers';

/** memFs that counts reads per path. */
function countingFs(files: Record<string, string>): { fs: LintFs; reads: Map<string, number> } {
  const base = memFs(files);
  const reads = new Map<string, number>();
  return {
    reads,
    fs: { ...base, readFile: p => { reads.set(p, (reads.get(p) ?? 0) + 1); return base.readFile(p); } },
  };
}

function codes(fs: Finding[]): string[] {
  return [...new Set(fs.map(f => f.code))].sort();
}

describe('lint: hostile inputs', function () {
  this.timeout(60000);

  describe('includes that include each other by glob', () => {
    const N = 40;

    it('nginx: 40 files each including the whole folder are read once and each server is linted once', () => {
      const files: Record<string, string> = {};
      for (let i = 0; i < N; i++) {
        files[`/etc/nginx/conf.d/site${String(i).padStart(2, '0')}.conf`] =
          `include /etc/nginx/conf.d/*.conf;\nserver {\n    listen 443 ssl;\n    server_name s${i}.example;\n    ssl_certificate /x.pem;\n    ssl_certificate_key /x.key;\n}\n`;
      }
      const main = 'events {}\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n}\n';
      const { fs: mfs, reads } = countingFs({ ...files, '/etc/nginx/nginx.conf': main });
      const findings = lintText(main, { file: '/etc/nginx/nginx.conf', fs: mfs });
      for (const [p, n] of reads) assert.ok(n <= 1, `${p} read ${n} times`);
      const open = findings.filter(f => f.code === 'leg2-no-client-auth');
      assert.strictEqual(open.length, N, findings.map(f => `${f.file}:${f.line} ${f.code}`).join('\n'));
    });

    it('Apache: 40 files each including the whole folder are evaluated once and each vhost is linted once', () => {
      const files: Record<string, string> = {};
      for (let i = 0; i < N; i++) {
        files[`/etc/apache2/sites-enabled/site${String(i).padStart(2, '0')}.conf`] =
          `Include /etc/apache2/sites-enabled/*.conf\n<VirtualHost *:443>\n    ServerName s${i}.example\n    SSLEngine on\n    SSLCertificateFile /x.pem\n    SSLCertificateKeyFile /x.key\n</VirtualHost>\n`;
      }
      const main = 'ServerRoot /etc/apache2\nIncludeOptional /etc/apache2/sites-enabled/*.conf\n';
      const { fs: mfs, reads } = countingFs({ ...files, '/etc/apache2/apache2.conf': main });
      const findings = lintText(main, { file: '/etc/apache2/apache2.conf', fs: mfs });
      for (const [p, n] of reads) assert.ok(n <= 1, `${p} read ${n} times`);
      assert.strictEqual(findings.filter(f => f.code === 'leg2-no-client-auth').length, N);
    });

    it('on disk, nginx and Apache alike, through lintFiles on the folder', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-lint-web-'));
      try {
        fs.mkdirSync(path.join(dir, 'nginx/conf.d'), { recursive: true });
        fs.mkdirSync(path.join(dir, 'apache2/sites-enabled'), { recursive: true });
        for (let i = 0; i < N; i++) {
          fs.writeFileSync(path.join(dir, `nginx/conf.d/s${i}.conf`), `include ${dir}/nginx/conf.d/*.conf;\nserver { listen 443 ssl; server_name n${i}; ssl_certificate /x; ssl_certificate_key /y; }\n`);
          fs.writeFileSync(path.join(dir, `apache2/sites-enabled/s${i}.conf`), `Include ${dir}/apache2/sites-enabled/*.conf\n<VirtualHost *:443>\nServerName a${i}\nSSLEngine on\nSSLCertificateFile /x\nSSLCertificateKeyFile /y\n</VirtualHost>\n`);
        }
        fs.writeFileSync(path.join(dir, 'nginx/nginx.conf'), `events {}\nhttp { include ${dir}/nginx/conf.d/*.conf; }\n`);
        fs.writeFileSync(path.join(dir, 'apache2/apache2.conf'), `Include ${dir}/apache2/sites-enabled/*.conf\n`);
        const findings = await lintFiles([dir]);
        const open = findings.filter(f => f.code === 'leg2-no-client-auth');
        assert.strictEqual(open.filter(f => f.file.includes('/nginx/')).length, N);
        assert.strictEqual(open.filter(f => f.file.includes('/apache2/')).length, N);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('only regular files are read, with a size cap', () => {
    let dir: string;
    before(function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-lint-special-'));
      try { execFileSync('mkfifo', [path.join(dir, 'conf.d-pipe.conf')]); } catch { this.skip(); }
      fs.mkdirSync(path.join(dir, 'conf.d'));
      execFileSync('mkfifo', [path.join(dir, 'conf.d/pipe.conf')]);
      fs.symlinkSync('/dev/zero', path.join(dir, 'conf.d/zero.conf'));
      fs.writeFileSync(path.join(dir, 'conf.d/site.conf'), 'server { listen 443 ssl; ssl_certificate /x; ssl_certificate_key /y; }\n');
      fs.writeFileSync(path.join(dir, 'nginx.conf'), `events {}\nhttp {\n    include ${dir}/conf.d/*.conf;\n    include ${dir}/conf.d-pipe.conf;\n}\n`);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('readRegularFile refuses a FIFO, a device and a link to /dev/zero without blocking, and caps the size', () => {
      assert.match(readRegularFile(path.join(dir, 'conf.d/pipe.conf')).error ?? '', /named pipe/);
      assert.match(readRegularFile(path.join(dir, 'conf.d/zero.conf')).error ?? '', /device/);
      assert.match(readRegularFile('/dev/null').error ?? '', /device/);
      assert.match(readRegularFile(dir).error ?? '', /folder/);
      const big = path.join(dir, 'big.bin');
      fs.writeFileSync(big, Buffer.alloc(1024, 0x61));
      assert.match(readRegularFile(big, 100).error ?? '', /limit/);
      assert.strictEqual(readRegularFile(big).bytes?.length, 1024);
      assert.ok(MAX_FILE_BYTES >= 1024 * 1024);
    });

    it('an include glob that matches a FIFO and a link to /dev/zero gives unreadable findings and lints the rest', () => {
      const file = path.join(dir, 'nginx.conf');
      const findings = lintText(fs.readFileSync(file, 'utf8'), { file });
      const unreadable = findings.filter(f => f.code === 'unreadable');
      assert.strictEqual(unreadable.length, 3, findings.map(f => f.message).join('\n'));
      assert.ok(unreadable.some(f => /pipe\.conf.*named pipe/.test(f.message)));
      assert.ok(unreadable.some(f => /zero\.conf.*device/.test(f.message)));
      assert.ok(unreadable.every(f => f.file === file && f.line >= 3));
      assert.ok(findings.some(f => f.code === 'leg2-no-client-auth' && f.file.endsWith('site.conf')));
    });

    it('lintFiles on the folder and on the FIFO itself: findings, no hang', async () => {
      const all = await lintFiles([dir]);
      assert.ok(all.some(f => f.code === 'unreadable' && /named pipe/.test(f.message)));
      const direct = await lintFiles([path.join(dir, 'conf.d/pipe.conf'), path.join(dir, 'conf.d/zero.conf')]);
      assert.deepStrictEqual(codes(direct), ['unreadable']);
      assert.strictEqual(direct.length, 2);
    });

    it('the editor overlay fs (unsaved texts first, then the disk) reads the same way', () => {
      const pipe = path.join(dir, 'conf.d/pipe.conf');
      const o = overlayLintFs(new Map([[path.join(dir, 'conf.d/site.conf'), 'server { listen 80; }\n']]));
      assert.strictEqual(o.readFile(pipe), undefined);
      assert.match(o.problem!(pipe) ?? '', /named pipe/);
      assert.strictEqual(o.readFile(path.join(dir, 'conf.d/zero.conf')), undefined);
      assert.strictEqual(o.readFile(path.join(dir, 'conf.d/site.conf')), 'server { listen 80; }\n');
      const file = path.join(dir, 'nginx.conf');
      const findings = lintText(fs.readFileSync(file, 'utf8'), { file, fs: o });
      assert.strictEqual(findings.filter(f => f.code === 'unreadable').length, 3);
      assert.strictEqual(nodeLintFs.readFile(pipe), undefined);
    });
  });

  describe('pathological structure', () => {
    it('nginx: 150,000 unmatched "}" give a capped list of parse errors', () => {
      const text = 'server { listen 443 ssl; }\n' + '}\n'.repeat(150000);
      const findings = lintText(text, { file: '/x/nginx.conf', dialect: 'nginx', fs: memFs({}) });
      const pe = findings.filter(f => f.code === 'parse-error');
      assert.ok(pe.length > 10 && pe.length <= 101, `${pe.length}`);
      assert.ok(pe.some(f => /more syntax errors/.test(f.message)));
    });

    it('Apache: 150,000 unmatched closing tags give a capped list of parse errors', () => {
      const text = '<VirtualHost *:443>\nSSLEngine on\n</VirtualHost>\n' + '</VirtualHost>\n'.repeat(150000);
      const findings = lintText(text, { file: '/x/httpd.conf', dialect: 'apache', fs: memFs({}) });
      assert.ok(findings.filter(f => f.code === 'parse-error').length <= 101);
      assert.ok(findings.some(f => f.code === 'tls-no-certificate'));
    });

    it('nginx: 10,000 nested blocks, closed or not, are read without recursion and the server is still checked', () => {
      const nested = '    location / {\n'.repeat(10000) + '    }\n'.repeat(10000);
      const text = `http {\nserver {\n    listen 443 ssl;\n    ssl_certificate /x;\n    ssl_certificate_key /y;\n${nested}}\n}\n`;
      const findings = lintText(text, { file: '/x/nginx.conf', dialect: 'nginx', fs: memFs({}) });
      assert.ok(findings.some(f => f.code === 'parse-error' && /nested more than/.test(f.message)));
      assert.ok(findings.some(f => f.code === 'leg2-no-client-auth'));
      const unclosed = lintText('server {\n' + 'location / {\n'.repeat(10000), { file: '/x/nginx.conf', dialect: 'nginx', fs: memFs({}) });
      assert.ok(unclosed.filter(f => f.code === 'parse-error').length <= 101);
    });

    it('Apache: 10,000 nested sections are read without recursion', () => {
      const text = '<VirtualHost *:443>\nSSLEngine on\nSSLCertificateFile /x\nSSLCertificateKeyFile /y\n' + '<IfModule ssl_module>\n'.repeat(10000) + '</IfModule>\n'.repeat(10000) + '</VirtualHost>\n'
        + '<If "true">\n'.repeat(10000);
      const findings = lintText(text, { file: '/x/httpd.conf', dialect: 'apache', fs: memFs({}) });
      assert.ok(findings.some(f => f.code === 'parse-error' && /nested more than/.test(f.message)));
      assert.ok(findings.some(f => f.code === 'leg2-no-client-auth'));
    });

    it('quick-fixes on a 10,000-deep file do not overflow either', () => {
      const text = 'server {\n    listen 443 ssl;\n' + 'location / {\n'.repeat(10000) + '}\n'.repeat(10000) + '}\n';
      const findings = lintText(text, { file: '/x/site', dialect: 'nginx', fs: memFs({}) });
      const f = findings.find(x => x.code === 'leg2-no-client-auth');
      assert.ok(f);
      const fixes = computeFixes(text, f!, { cas: [{ path: '/etc/nginx/cloudflare/origin-pull-ca.pem', label: 'origin-pull CA', kind: 'origin-pull' }] });
      assert.ok(fixes.length >= 1);
    });
  });
});
