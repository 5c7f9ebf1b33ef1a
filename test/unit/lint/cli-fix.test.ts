// `mtls lint --fix`, `--diff` and `--format sarif` end to end: the CLI entry point on a folder of broken
// nginx and Apache configs; the fixed files keep their mode, pass the real config test, and the started
// servers refuse a client without a certificate or with a foreign one and serve the right one.
import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import { CliIO } from '../../../src/cli/io';
import { RULES } from '../../../src/core/lint';
import { unifiedDiff } from '../../../src/core/lint/apply';
import { makeTestPki, TestPki } from '../../support/openssl';
import { apacheConfigTest, curl, nginxConfigTest, RunningServer, startApache, startNginx } from '../../support/servers';

const ROOT = path.join(__dirname, '../../../..');
const HAVE_SERVERS = fs.existsSync('/usr/sbin/nginx') && fs.existsSync('/usr/sbin/apache2');

function io(cwd: string) {
  let stdout = '';
  let stderr = '';
  const value: CliIO = { stdout: t => { stdout += t; }, stderr: t => { stderr += t; }, env: {}, cwd };
  return { value, out: () => stdout, err: () => stderr };
}

const refused = (s: number) => s === 0 || s === 400 || s === 403;

async function assertEnforces(server: RunningServer, pki: TestPki, what: string): Promise<void> {
  const without = await curl(server.port, { cacert: pki.caCert, path: '/index.html' });
  assert.ok(refused(without.status), `${what}: without a certificate: ${without.status}`);
  const foreign = await curl(server.port, { cacert: pki.caCert, cert: pki.otherClientCert, key: pki.otherClientKey, path: '/index.html' });
  assert.ok(refused(foreign.status), `${what}: with a foreign certificate: ${foreign.status}`);
  const good = await curl(server.port, { cacert: pki.caCert, cert: pki.clientCert, key: pki.clientKey, path: '/index.html' });
  assert.strictEqual(good.status, 200, `${what}: with the right certificate: ${good.status} ${good.stderr}\n${server.errorLog().slice(-800)}`);
}

describe('lint: mtls lint --fix / --diff / --format sarif', function () {
  this.timeout(120000);
  let pki: TestPki;
  let dir: string;
  const files: Record<string, string> = {};
  const write = () => {
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), text);
      fs.chmodSync(path.join(dir, rel), 0o640);
    }
  };
  const read = (rel: string) => fs.readFileSync(path.join(dir, rel), 'utf8');

  before(() => {
    pki = makeTestPki();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-lint-fix-'));
    const tls = `    ssl_certificate ${pki.serverCert};\n    ssl_certificate_key ${pki.serverKey};\n`;
    files['nginx/sites-enabled/open.conf'] = `server {\n    listen 127.0.0.1:__PORT__ ssl;\n    server_name localhost;\n${tls}    root __DIR__/htdocs;\n}\n`;
    files['nginx/sites-enabled/in-location.conf'] = `server {\n    listen 127.0.0.1:__PORT__ ssl;\n    server_name localhost;\n${tls}    ssl_client_certificate ${pki.caCert};\n    root __DIR__/htdocs;\n    location / {\n        ssl_verify_client on;\n    }\n}\n`;
    files['apache2/sites-enabled/open.conf'] = `<VirtualHost 127.0.0.1:__PORT__>\n    ServerName localhost\n    SSLEngine on\n    SSLCertificateFile ${pki.serverCert}\n    SSLCertificateKeyFile ${pki.serverKey}\n</VirtualHost>\n`;
    write();
  });
  after(() => { pki?.remove(); fs.rmSync(dir, { recursive: true, force: true }); });

  it('--diff prints a unified diff of the preferred fixes and writes nothing', async () => {
    const t = io(dir);
    const code = await main(['lint', '.', '--diff', '--ca-file', pki.caCert], t.value);
    assert.strictEqual(code, 0, t.err());
    const out = t.out();
    assert.match(out, /^--- a\/apache2\/sites-enabled\/open\.conf\n\+\+\+ b\/apache2\/sites-enabled\/open\.conf\n@@ -3,4 \+3,7 @@\n/m);
    assert.ok(out.includes(`+    SSLCACertificateFile ${pki.caCert}\n`), out);
    assert.ok(out.includes(`+    ssl_client_certificate ${pki.caCert};\n+    ssl_verify_client on;\n+    ssl_verify_depth 1;\n`), out);
    assert.ok(out.includes('-        ssl_verify_client on;\n'), out);
    assert.match(t.err(), /would apply \d+ fix\(es\) in 3 file\(s\) \(nothing written\)/);
    for (const [rel, text] of Object.entries(files)) assert.strictEqual(read(rel), text, `${rel} unchanged`);
  });

  it('--fix without --ca-file writes the conventional server path, never a path of this machine', async () => {
    const t = io(dir);
    await main(['lint', 'nginx/sites-enabled/open.conf', '--diff'], t.value);
    assert.ok(t.out().includes('+    ssl_client_certificate /etc/nginx/cloudflare/origin-pull-ca.pem;\n'), t.out());
    const a = io(dir);
    await main(['lint', 'apache2', '--diff'], a.value);
    assert.ok(a.out().includes('+    SSLCACertificateFile /etc/apache2/cloudflare/origin-pull-ca.pem\n'), a.out());
    const bad = io(dir);
    assert.strictEqual(await main(['lint', '.', '--fix', '--ca-file', 'relative/ca.pem'], bad.value), 2);
  });

  it('--fix applies them in place (mode kept), re-lints, and the fixed configs pass the config test and enforce', async function () {
    const t = io(dir);
    const code = await main(['lint', '.', '--fix', '--ca-file', pki.caCert], t.value);
    assert.strictEqual(code, 0, t.out() + t.err());
    assert.match(t.err(), /fixed nginx\/sites-enabled\/open\.conf:2: leg2-no-client-auth: /);
    assert.match(t.err(), /fixed nginx\/sites-enabled\/in-location\.conf:\d+: leg2-invalid-value: Move client verification to the server block/);
    assert.match(t.err(), /fixed apache2\/sites-enabled\/open\.conf:\d+: leg2-no-client-auth: /);
    for (const rel of Object.keys(files)) {
      assert.notStrictEqual(read(rel), files[rel], `${rel} changed`);
      assert.strictEqual(fs.statSync(path.join(dir, rel)).mode & 0o777, 0o640, `${rel} keeps its mode`);
    }
    assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'nginx/sites-enabled')).sort(), ['in-location.conf', 'open.conf'], 'no temporary files left');
    // the re-lint printed what is left: no Leg 2 warning any more
    assert.doesNotMatch(t.out(), /leg2-no-client-auth|leg2-invalid-value/);
    if (!HAVE_SERVERS) this.skip();
    for (const rel of ['nginx/sites-enabled/open.conf', 'nginx/sites-enabled/in-location.conf']) {
      const text = read(rel);
      const ct = await nginxConfigTest(text);
      assert.ok(ct.ok, `${rel}:\n${text}\n${ct.output}`);
      const s = await startNginx(text);
      try { await assertEnforces(s, pki, rel); } finally { await s.stop(); }
    }
    const apache = read('apache2/sites-enabled/open.conf');
    assert.ok((await apacheConfigTest(apache)).ok, apache);
    const s = await startApache(apache);
    try { await assertEnforces(s, pki, 'apache2/sites-enabled/open.conf'); } finally { await s.stop(); }
    // a second --fix finds nothing more to do
    const again = io(dir);
    await main(['lint', '.', '--fix', '--ca-file', pki.caCert], again.value);
    assert.match(again.err(), /nothing to fix automatically/);
  });

  it('--format sarif: SARIF 2.1.0 with every rule and its help, results with physical locations', async () => {
    write();
    const t = io(dir);
    const code = await main(['lint', '.', '--format', 'sarif'], t.value);
    assert.strictEqual(code, 1); // ssl_verify_client in a location is an error
    const sarif = JSON.parse(t.out());
    assert.strictEqual(sarif.version, '2.1.0');
    assert.match(sarif.$schema, /sarif-2\.1\.0/);
    const run = sarif.runs[0];
    const rules = run.tool.driver.rules as { id: string; help: { text: string }; helpUri: string; shortDescription: { text: string }; defaultConfiguration: { level: string } }[];
    assert.deepStrictEqual(rules.map(r => r.id).sort(), Object.keys(RULES).sort());
    for (const r of rules) {
      assert.ok(r.help.text.length > 40 && r.shortDescription.text && /^https:\/\//.test(r.helpUri), r.id);
      assert.ok(['error', 'warning', 'note'].includes(r.defaultConfiguration.level));
    }
    assert.ok(run.results.length >= 3);
    for (const res of run.results) {
      assert.strictEqual(rules[res.ruleIndex].id, res.ruleId);
      assert.ok(['error', 'warning', 'note'].includes(res.level));
      const loc = res.locations[0].physicalLocation;
      assert.strictEqual(loc.artifactLocation.uriBaseId, '%SRCROOT%');
      assert.ok(fs.existsSync(path.join(dir, decodeURIComponent(loc.artifactLocation.uri))), loc.artifactLocation.uri);
      assert.ok(loc.region.startLine >= 1 && loc.region.startColumn >= 1 && loc.region.endLine >= loc.region.startLine);
    }
    const open = run.results.find((r: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }) => r.ruleId === 'leg2-no-client-auth' && r.locations[0].physicalLocation.artifactLocation.uri === 'nginx/sites-enabled/open.conf');
    assert.deepStrictEqual(open.locations[0].physicalLocation.region, { startLine: 2, startColumn: 5, endLine: 2, endColumn: 35 });
    assert.match(run.originalUriBaseIds['%SRCROOT%'].uri, /^file:\/\/\/.*\/$/);
  });

  it('the built CLI (node dist/cli.js lint --diff) runs the same code', async function () {
    const cli = path.join(ROOT, 'dist/cli.js');
    if (!fs.existsSync(cli)) this.skip();
    const r = await new Promise<{ code: number; stdout: string }>(resolve => execFile(process.execPath, [cli, 'lint', 'nginx/sites-enabled/open.conf', '--diff'], { cwd: dir }, (err, stdout) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout })));
    assert.strictEqual(r.code, 0);
    assert.match(r.stdout, /^\+ {4}ssl_verify_client on;$/m);
  });

  it('unifiedDiff: hunks with three lines of context, separate when far apart', () => {
    const a = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
    const b = a.replace('line 2\n', 'line 2\nnew A\n').replace('line 18\n', 'line 18 changed\n');
    assert.strictEqual(unifiedDiff('f.conf', a, b), [
      '--- a/f.conf', '+++ b/f.conf',
      '@@ -1,5 +1,6 @@', ' line 1', ' line 2', '+new A', ' line 3', ' line 4', ' line 5',
      '@@ -15,6 +16,6 @@', ' line 15', ' line 16', ' line 17', '-line 18', '+line 18 changed', ' line 19', ' line 20', '',
    ].join('\n'));
  });
});
