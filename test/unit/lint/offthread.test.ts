// Linting off the main thread: the worker gives the same findings as lintText (unsaved texts of open
// documents first, then the disk), and a lint past its budget ends the worker with a finding instead of
// blocking; the next lint starts a fresh worker.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { lintText } from '../../../src/core/lint';
import { LintWorker } from '../../../src/core/lint/offThread';

const SCRIPT = path.join(__dirname, '../../../src/core/lint/worker.js');

describe('lint: off the main thread', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-lint-worker-'));
    fs.writeFileSync(path.join(dir, 'tls.conf'), 'ssl_certificate /x.pem;\nssl_certificate_key /x.key;\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives the findings lintText gives, reading unsaved open texts before the disk', async () => {
    const w = new LintWorker(SCRIPT);
    try {
      const file = path.join(dir, 'site.conf');
      const text = `server {\n    listen 443 ssl;\n    include ${dir}/tls.conf;\n}\n`;
      const got = await w.lint(text, { file, dialect: 'nginx' });
      assert.deepStrictEqual(got, JSON.parse(JSON.stringify(lintText(text, { file, dialect: 'nginx' }))));
      assert.deepStrictEqual(got.map(f => f.code), ['leg2-no-client-auth']);
      // the included file as edited in the editor (unsaved): its certificate is gone
      const open = new Map([[path.join(dir, 'tls.conf'), '# nothing here yet\n']]);
      const edited = await w.lint(text, { file, dialect: 'nginx' }, open);
      assert.deepStrictEqual(edited.map(f => f.code), ['tls-no-certificate', 'leg2-no-client-auth']);
    } finally {
      w.dispose();
    }
  });

  it('a lint past the budget ends the worker with a finding; the next one runs in a new worker', async () => {
    const w = new LintWorker(SCRIPT, 1);
    try {
      const huge = 'server {\n' + '    location / { return 200; }\n'.repeat(200000) + '}\n';
      const out = await w.lint(huge, { file: '/x/huge.conf', dialect: 'nginx', settings: {} });
      assert.strictEqual(out.length, 1);
      assert.match(out[0].message, /Checking stopped after 1 ms/);
    } finally {
      w.dispose();
    }
    const w2 = new LintWorker(SCRIPT, 20000);
    try {
      assert.deepStrictEqual(await w2.lint('server { listen 80; }\n', { file: '/x/a.conf', dialect: 'nginx' }), []);
    } finally {
      w2.dispose();
    }
  });
});
