// The editor lints in a worker thread: Caddyfiles and haproxy.cfg files get there the findings lintText gives,
// and the files they import (a Caddy snippet file, an HAProxy crt-list) are read from the unsaved editor texts
// before the disk.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { lintText } from '../../../src/core/lint';
import { LintWorker } from '../../../src/core/lint/offThread';

const SCRIPT = path.join(__dirname, '../../../src/core/lint/worker.js');

describe('Caddy and HAProxy: lint in the worker thread', function () {
  this.timeout(60000);
  let dir: string;
  let w: LintWorker;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-lint-worker-proxies-'));
    fs.writeFileSync(path.join(dir, 'tls.caddy'), '(origin_tls) {\n\ttls /etc/caddy/site.pem /etc/caddy/site.key\n}\n');
    fs.writeFileSync(path.join(dir, 'certs.list'), '/etc/haproxy/site.pem [verify required ca-file /etc/haproxy/ca.pem] example.com\n');
    w = new LintWorker(SCRIPT);
  });
  after(() => { w.dispose(); fs.rmSync(dir, { recursive: true, force: true }); });

  const plain = (x: unknown) => JSON.parse(JSON.stringify(x));

  it('a Caddyfile: the same findings as lintText, an imported snippet file read from its unsaved text', async () => {
    const file = path.join(dir, 'Caddyfile');
    const text = `import ${dir}/tls.caddy\nexample.com {\n\timport origin_tls\n\trespond "ok"\n}\n`;
    const got = await w.lint(text, { file, dialect: 'caddy', settings: { checkCaFiles: false } });
    assert.deepStrictEqual(got, plain(lintText(text, { file, dialect: 'caddy', settings: { checkCaFiles: false } })));
    assert.deepStrictEqual(got.map(f => f.code), ['leg2-no-client-auth']);
    const fixedSnippet = '(origin_tls) {\n\ttls /etc/caddy/site.pem /etc/caddy/site.key {\n\t\tclient_auth {\n\t\t\tmode require_and_verify\n\t\t\ttrusted_ca_cert_file /etc/caddy/ca.pem\n\t\t}\n\t}\n}\n';
    const edited = await w.lint(text, { file, dialect: 'caddy', settings: { checkCaFiles: false } }, new Map([[path.join(dir, 'tls.caddy'), fixedSnippet]]));
    assert.deepStrictEqual(edited.map(f => f.code), []);
  });

  it('a haproxy.cfg: the same findings as lintText, a crt-list read from its unsaved text', async () => {
    const file = path.join(dir, 'haproxy.cfg');
    const text = `frontend fe\n\tmode http\n\tbind :443 ssl crt-list ${dir}/certs.list\n`;
    const settings = { checkCaFiles: false };
    const got = await w.lint(text, { file, dialect: 'haproxy', settings });
    assert.deepStrictEqual(got, plain(lintText(text, { file, dialect: 'haproxy', settings })));
    assert.deepStrictEqual(got.map(f => f.code), []);
    const open = new Map([[path.join(dir, 'certs.list'), '/etc/haproxy/site.pem example.com\n']]);
    const edited = await w.lint(text, { file, dialect: 'haproxy', settings }, open);
    assert.deepStrictEqual(edited.map(f => f.code), ['leg2-no-client-auth']);
  });
});
