// Crash and race safety of the store: a CLI process killed at every named step of `ca create` and
// `cert issue` leaves either nothing or the complete CA/certificate, never a key git would pick up; the
// leftovers are listed and cleaned up, and creating again works. Parallel revocations all land.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { spawn } from 'child_process';
import { MtlsError } from '../../../src/core/errors';
import { createCa, issueToStore, listStore, readRevocations, renewCertificate } from '../../../src/core/pki';
import { cliPath, opensslOk, run, tmpDir } from './helpers';

const CA_CREATE_STEPS = ['write:.gitignore:temp-written', 'ca-create:staging-created', 'ca-create:staged', 'ca-create:renamed'];
const ISSUE_STEPS = ['issue:staging-created', 'issue:staged', 'issue:linked-key', 'issue:linked-pem', 'issue:done'];

function git(cwd: string, ...args: string[]): string {
  const r = run('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Every file `git add -A` would stage in `ws`: none may hold a private key. */
function assertNoKeyStaged(ws: string): void {
  git(ws, 'add', '-A');
  const staged = git(ws, 'ls-files', '-z').split('\0').filter(Boolean);
  for (const f of staged) {
    const text = fs.readFileSync(path.join(ws, f), 'latin1');
    assert.doesNotMatch(text, /PRIVATE KEY/, `${f} holds a private key and git would commit it`);
  }
  git(ws, 'reset', '-q');
}

function mtlsCli(ws: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, [cliPath(), ...args], { cwd: ws, env: { MTLS_CA_PASSWORD: 'pw', ...env } });
}

describe('pki: crash and race safety', function () {
  this.timeout(180000);
  let ws: string;
  beforeEach(() => { ws = tmpDir('mtls-crash-'); git(ws, 'init', '-q'); });
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  for (const step of CA_CREATE_STEPS) {
    it(`ca create killed at ${step}: nothing or the whole CA, no key for git, leftovers listed and cleaned, create again works`, () => {
      const killed = run(process.execPath, [cliPath(), 'ca', 'create', '--name', 'acme', '--cn', 'Acme', '--key', 'ec-p256'], { cwd: ws, env: { MTLS_CA_PASSWORD: 'pw', MTLS_TEST_HOOKS: '1', MTLS_TEST_CRASH_AT: step } });
      assert.strictEqual(killed.status, null, `the process was killed at ${step}: ${killed.stderr}`);
      const caDir = path.join(ws, '.mtls/acme');
      const complete = fs.existsSync(path.join(caDir, 'ca.pem')) && fs.existsSync(path.join(caDir, 'ca.key'));
      assert.ok(complete || !fs.existsSync(caDir), 'either the complete CA or no CA folder');
      assert.strictEqual(complete, step === 'ca-create:renamed');
      assertNoKeyStaged(ws);
      const list = mtlsCli(ws, ['cert', 'list', '--json']);
      const leftovers = list.status === 0 ? JSON.parse(list.stdout).leftovers : [];
      if (step === 'ca-create:staging-created' || step === 'ca-create:staged' || step === 'write:.gitignore:temp-written') {
        assert.ok(leftovers.length > 0, 'the leftover is listed');
        assert.match(mtlsCli(ws, ['ca', 'list']).stdout, /leftover: .*interrupted write/);
      }
      if (!complete) {
        const again = mtlsCli(ws, ['ca', 'create', '--name', 'acme', '--cn', 'Acme', '--key', 'ec-p256', '--json']);
        assert.strictEqual(again.status, 0, again.stderr);
        assert.strictEqual(JSON.parse(again.stdout).keyEncrypted, true);
      }
      const clean = mtlsCli(ws, ['ca', 'cleanup', '--json']);
      assert.strictEqual(clean.status, 0, clean.stderr);
      assert.deepStrictEqual(JSON.parse(mtlsCli(ws, ['cert', 'list', '--json']).stdout).leftovers, []);
      assert.ok(fs.existsSync(path.join(caDir, 'ca.pem')) && fs.existsSync(path.join(caDir, 'ca.key')));
      assert.match(opensslOk(['pkey', '-in', path.join(caDir, 'ca.key'), '-passin', 'pass:pw', '-noout', '-text_pub']), /Public-Key/);
    });
  }

  for (const step of ISSUE_STEPS) {
    it(`cert issue killed at ${step}: nothing or the whole certificate, no key for git, leftovers listed and cleaned, issue again works`, () => {
      assert.strictEqual(mtlsCli(ws, ['ca', 'create', '--name', 'acme', '--cn', 'Acme', '--key', 'ec-p256']).status, 0);
      const killed = run(process.execPath, [cliPath(), 'cert', 'issue', '--ca', 'acme', '--cn', 'alice', '--key', 'ec-p256'], { cwd: ws, env: { MTLS_CA_PASSWORD: 'pw', MTLS_TEST_HOOKS: '1', MTLS_TEST_CRASH_AT: step } });
      assert.strictEqual(killed.status, null, `the process was killed at ${step}: ${killed.stderr}`);
      assertNoKeyStaged(ws);
      const certs = path.join(ws, '.mtls/acme/certs');
      const listed = JSON.parse(mtlsCli(ws, ['cert', 'list', '--json']).stdout);
      const visible = listed.cas[0].certs.filter((c: { name: string }) => c.name === 'alice');
      const done = step === 'issue:linked-pem' || step === 'issue:done';
      if (done) {
        assert.strictEqual(visible.length, 1);
        assert.ok(visible[0].key, 'the complete certificate has its key');
      } else {
        assert.strictEqual(visible.length, 0, 'no half certificate in the tree');
        assert.ok(listed.leftovers.length > 0, 'the interrupted issue is listed as a leftover');
        if (step === 'issue:linked-key') assert.ok(listed.leftovers.some((l: { partial?: string }) => l.partial === path.join(certs, 'alice.key')));
        const again = mtlsCli(ws, ['cert', 'issue', '--ca', 'acme', '--cn', 'alice', '--key', 'ec-p256', '--json']);
        assert.strictEqual(again.status, 0, again.stderr);
      }
      const clean = mtlsCli(ws, ['cert', 'cleanup']);
      assert.strictEqual(clean.status, 0, clean.stderr);
      const after = JSON.parse(mtlsCli(ws, ['cert', 'list', '--json']).stdout);
      assert.deepStrictEqual(after.leftovers, []);
      const alice = after.cas[0].certs.find((c: { name: string }) => c.name === 'alice');
      assert.ok(alice && alice.key);
      assert.match(opensslOk(['verify', '-CAfile', path.join(ws, '.mtls/acme/ca.pem'), alice.cert]), /OK/);
      assert.deepStrictEqual(fs.readdirSync(certs).sort(), ['alice.key', 'alice.pem']);
    });
  }

  it('8 parallel `mtls cert revoke` processes: all 8 revocations are recorded', async () => {
    const store = path.join(ws, '.mtls');
    await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
    const certs: string[] = [];
    for (let i = 0; i < 8; i++) certs.push((await issueToStore(store, 'acme', { cn: `user${i}`, key: 'ec-p256' })).certPath);
    const cli = cliPath();
    const codes = await Promise.all(certs.map(c => new Promise<number | null>(resolve => {
      const p = spawn(process.execPath, [cli, 'cert', 'revoke', c, '--reason', 'keyCompromise'], { cwd: ws, stdio: 'ignore' });
      p.on('exit', code => resolve(code));
    })));
    assert.deepStrictEqual(codes, [0, 0, 0, 0, 0, 0, 0, 0]);
    const records = await readRevocations(path.join(store, 'acme'));
    assert.strictEqual(records.length, 8);
    const expr = JSON.parse(fs.readFileSync(path.join(store, 'acme/revoked.json'), 'utf8')).expression as string;
    assert.strictEqual((expr.match(/"[0-9a-f]{64}"/g) ?? []).length, 8);
    assert.ok(!fs.existsSync(path.join(store, 'acme/.mtls.lock')), 'the lock is released');
  });

  it('a lock left by a killed process is taken over', async () => {
    const store = path.join(ws, '.mtls');
    await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
    const c = await issueToStore(store, 'acme', { cn: 'u', key: 'ec-p256' });
    // a pid that cannot be alive: the owner died without removing its lock
    fs.writeFileSync(path.join(store, 'acme/.mtls.lock'), `999999999\nhost=${require('os').hostname()}\n`);
    const r = mtlsCli(ws, ['cert', 'revoke', c.certPath]);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual((await readRevocations(path.join(store, 'acme'))).length, 1);
  });

  it('two renewals of the same certificate at once: one wins, the other says "renewed concurrently" and changes nothing', async () => {
    const store = path.join(ws, '.mtls');
    await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
    const c = await issueToStore(store, 'acme', { cn: 'u', key: 'ec-p256' });
    const results = await Promise.allSettled([renewCertificate(store, c.certPath), renewCertificate(store, c.certPath)]);
    const ok = results.filter(r => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.strictEqual(ok.length, 1);
    assert.strictEqual(failed.length, 1);
    assert.strictEqual((failed[0].reason as MtlsError).code, 'renewed-concurrently');
    assert.match((failed[0].reason as MtlsError).message, /renewed concurrently/);
    const tree = await listStore(store);
    assert.strictEqual(tree.cas[0].certs.filter(x => !x.archived).length, 1);
    assert.strictEqual(tree.cas[0].certs.filter(x => x.archived).length, 1);
    assert.deepStrictEqual(tree.leftovers, []);
  });
});
