// `mtls lint --fix`, `--diff` and `--format sarif` on an open Caddyfile and an open haproxy.cfg, end to end: the
// CLI entry point on a folder, the fixed files pass `caddy validate` / `haproxy -c`, and the started servers
// refuse a client without a certificate or with a foreign one and serve the right one.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import { CliIO } from '../../../src/cli/io';
import { makeTestPki, TestPki } from '../../support/openssl';
import { CADDY, caddyConfigTest, HAPROXY, haproxyConfigTest, startCaddy, startHaproxy } from '../../support/servers';
import { admitted, CLOSED } from './helpers';

const HAVE_SERVERS = fs.existsSync(CADDY) && fs.existsSync(HAPROXY);

function io(cwd: string) {
  let stdout = '';
  let stderr = '';
  const value: CliIO = { stdout: t => { stdout += t; }, stderr: t => { stderr += t; }, env: {}, cwd };
  return { value, out: () => stdout, err: () => stderr };
}

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: string;
  locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number; endLine: number; endColumn: number } } }[];
}

describe('lint: mtls lint --fix / --diff / --format sarif on Caddy and HAProxy', function () {
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
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-lint-fix-proxies-'));
    const bundle = path.join(pki.dir, 'server.bundle.pem');
    fs.writeFileSync(bundle, fs.readFileSync(pki.serverCert, 'utf8') + fs.readFileSync(pki.serverKey, 'utf8'));
    files['caddy/Caddyfile'] = `https://localhost:__PORT__ {\n\tbind 127.0.0.1\n\ttls ${pki.serverCert} ${pki.serverKey}\n\trespond "origin ok"\n}\n`;
    files['haproxy/haproxy.cfg'] = `frontend fe\n\tmode http\n\tbind 127.0.0.1:__PORT__ ssl crt ${bundle}\n\thttp-request return status 200 content-type text/plain string "origin ok"\n`;
    write();
  });
  after(() => { pki?.remove(); fs.rmSync(dir, { recursive: true, force: true }); });

  it('--diff shows the Caddy and HAProxy fixes with the server-side CA paths and writes nothing', async () => {
    const t = io(dir);
    assert.strictEqual(await main(['lint', '.', '--diff'], t.value), 0, t.err());
    const out = t.out();
    assert.match(out, /^--- a\/caddy\/Caddyfile\n\+\+\+ b\/caddy\/Caddyfile\n/m);
    assert.match(out, /^--- a\/haproxy\/haproxy\.cfg\n\+\+\+ b\/haproxy\/haproxy\.cfg\n/m);
    assert.ok(out.includes('+\t\t\ttrusted_ca_cert_file /etc/caddy/cloudflare/origin-pull-ca.pem\n'), out);
    assert.ok(out.includes(' ca-file /etc/haproxy/cloudflare/origin-pull-ca.pem verify required\n'), out);
    assert.match(t.err(), /would apply \d+ fix\(es\) in 2 file\(s\) \(nothing written\)/);
    for (const [rel, text] of Object.entries(files)) assert.strictEqual(read(rel), text, `${rel} unchanged`);
  });

  it('--format sarif has the Caddy and HAProxy results with their locations', async () => {
    const t = io(dir);
    await main(['lint', '.', '--format', 'sarif'], t.value);
    const run = JSON.parse(t.out()).runs[0];
    const rules = run.tool.driver.rules as { id: string }[];
    const results = run.results as SarifResult[];
    const of = (uri: string) => results.filter(r => r.locations[0].physicalLocation.artifactLocation.uri === uri);
    for (const uri of ['caddy/Caddyfile', 'haproxy/haproxy.cfg']) {
      const mine = of(uri);
      assert.deepStrictEqual(mine.map(r => r.ruleId), ['leg2-no-client-auth'], `${uri}: ${JSON.stringify(mine)}`);
      assert.strictEqual(rules[mine[0].ruleIndex].id, 'leg2-no-client-auth');
      assert.strictEqual(mine[0].level, 'warning');
    }
    // the Caddy finding sits on the site's address, the HAProxy one starts at its section
    assert.strictEqual(of('caddy/Caddyfile')[0].locations[0].physicalLocation.region.startLine, 1);
    const h = of('haproxy/haproxy.cfg')[0].locations[0].physicalLocation.region;
    assert.ok(h.startLine >= 1 && h.endLine <= 3 && h.endLine >= h.startLine, JSON.stringify(h));
  });

  it('--fix writes configs that caddy validate / haproxy -c accept and that refuse a client without a certificate', async function () {
    const t = io(dir);
    assert.strictEqual(await main(['lint', '.', '--fix', '--ca-file', pki.caCert], t.value), 0, t.out() + t.err());
    assert.match(t.err(), /fixed caddy\/Caddyfile:1: leg2-no-client-auth: /);
    assert.match(t.err(), /fixed haproxy\/haproxy\.cfg:\d+: leg2-no-client-auth: /);
    assert.doesNotMatch(t.out(), /leg2-/);
    const caddy = read('caddy/Caddyfile');
    const haproxy = read('haproxy/haproxy.cfg');
    assert.ok(caddy.includes(`client_auth {\n\t\t\tmode require_and_verify\n\t\t\ttrusted_ca_cert_file ${pki.caCert}\n\t\t}`), caddy);
    assert.ok(haproxy.includes(` ca-file ${pki.caCert} verify required\n`), haproxy);
    for (const rel of Object.keys(files)) assert.strictEqual(fs.statSync(path.join(dir, rel)).mode & 0o777, 0o640, `${rel} keeps its mode`);
    if (!HAVE_SERVERS) this.skip();
    const cv = await caddyConfigTest(caddy);
    assert.ok(cv.ok, `caddy validate:\n${cv.output.slice(-800)}\n${caddy}`);
    const hc = await haproxyConfigTest(haproxy);
    assert.ok(hc.ok, `haproxy -c:\n${hc.output.slice(-800)}\n${haproxy}`);
    for (const [name, start, text] of [['caddy', startCaddy, caddy], ['haproxy', startHaproxy, haproxy]] as const) {
      const server = await start(text);
      try {
        assert.deepStrictEqual(await admitted(server, pki), CLOSED, `${name}: ${server.errorLog().slice(-1500)}`);
      } finally {
        await server.stop();
      }
    }
    const again = io(dir);
    await main(['lint', '.', '--fix', '--ca-file', pki.caCert], again.value);
    assert.match(again.err(), /nothing to fix automatically/);
  });
});
