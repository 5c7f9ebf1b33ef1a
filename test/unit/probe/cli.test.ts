// `mtls probe` and `mtls edge`: the JSON shape, the text report, exit codes (0 only when every check
// passes, 1 on a failed check, 2 on bad usage), PKCS#12 client certificates, and the bundled CLI spawned
// as a user runs it: an edge until Ctrl+C and a probe through it.
import * as assert from 'assert';
import { ChildProcess, execFile, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import { CliIO } from '../../../src/cli/io';
import { RunningEdge, startEdge } from '../../../src/core/edge';
import { CHECK_IDS } from '../../../src/core/probe';
import { freePort, startNginx, RunningServer } from '../../support/servers';
import { HOST, makeProbePki, pem, ProbePki, read } from './helpers';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'dist/cli.js');

async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: t => { stdout += t; }, stderr: t => { stderr += t; }, env, cwd: ROOT };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('mtls probe / mtls edge (CLI)', function () {
  this.timeout(60000);
  let p: ProbePki;
  let origin: RunningServer;
  let open: RunningServer;
  let edge: RunningEdge;
  let edgeCa: string;

  before(async () => {
    p = makeProbePki();
    const site = (verify: string) => `server { listen 127.0.0.1:__PORT__ ssl; server_name ${HOST}; ssl_certificate ${p.serverCert}; ssl_certificate_key ${p.serverKey}; ${verify} location / { return 200 "ok\\n"; } }`;
    origin = await startNginx(site(`ssl_client_certificate ${p.pullCa.cert}; ssl_verify_client on;`));
    open = await startNginx(site(''));
    edge = await startEdge({ listen: '127.0.0.1:0', origin: `127.0.0.1:${origin.port}`, hostname: HOST, clientCa: read(p.caCert), pull: pem(p.pull.cert, p.pull.key), originCa: read(p.caCert) });
    edgeCa = path.join(p.dir, 'edge-ca.pem');
    fs.writeFileSync(edgeCa, edge.serverCaPem!);
  });
  after(async () => {
    await edge?.stop();
    await origin?.stop();
    await open?.stop();
    p?.remove();
  });

  const goodArgs = () => ['probe', '--leg', 'both', '--host', HOST, '--connect', edge.address, '--origin', `127.0.0.1:${origin.port}`,
    '--cert', p.clientCert, '--key', p.clientKey, '--pull-cert', p.pull.cert, '--pull-key', p.pull.key, '--origin-ca', p.caCert, '--edge-ca', edgeCa, '--timeout', '5000'];

  it('--json: one object {ok, legs: [{leg, ok, checks: [{id, status, detail, ms}]}]}, exit 0 when all pass', async () => {
    const r = await run([...goodArgs(), '--json']);
    assert.strictEqual(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout);
    assert.strictEqual(report.ok, true);
    assert.strictEqual(typeof report.ms, 'number');
    assert.deepStrictEqual(report.legs.map((l: { leg: string }) => l.leg), ['leg1', 'leg2']);
    const ids: string[] = [];
    for (const leg of report.legs) {
      assert.strictEqual(leg.ok, true);
      for (const c of leg.checks) {
        ids.push(c.id);
        assert.ok(['pass', 'fail', 'warn', 'skip'].includes(c.status));
        assert.strictEqual(typeof c.detail, 'string');
        assert.strictEqual(typeof c.ms, 'number');
        assert.strictEqual(c.status, 'pass', `${c.id}: ${c.detail}`);
      }
    }
    assert.deepStrictEqual(ids.sort(), [...CHECK_IDS].sort());
  });

  it('text output: ✔/✖ lines, and for a failure its explanation and fix; exit 1', async () => {
    const r = await run(['probe', '--leg', '2', '--host', HOST, '--connect', `127.0.0.1:${open.port}`, '--pull-cert', p.pull.cert, '--pull-key', p.pull.key, '--origin-ca', p.caCert]);
    assert.strictEqual(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^✖ Leg 2: Cloudflare (?:->|→) origin: mtls\.example\.test via 127\.0\.0\.1:\d+/m);
    assert.match(r.stdout, /^ {2}✖ origin-requires-client-cert \([\d.]+ ms\): Without a certificate the origin served the page: HTTP 200 OK\.$/m);
    assert.match(r.stdout, /^ {6}why: Leg 2 is open/m);
    assert.match(r.stdout, /^ {6}fix: .*ssl_verify_client on/m);
    assert.match(r.stdout, /^ {2}✔ origin-accepts-pull-cert/m);
    assert.match(r.stdout, /Some checks failed/);
  });

  it('--json with a failing check: exit 1 and ok false, skipped checks when no certificate is given', async () => {
    const r = await run(['probe', '--leg', '1', '--host', HOST, '--connect', edge.address, '--json']);
    const report = JSON.parse(r.stdout);
    assert.strictEqual(r.code, 0, 'a skipped check does not fail the run');
    assert.strictEqual(report.legs[0].checks.find((c: { id: string }) => c.id === 'edge-allows-with-cert').status, 'skip');
    const bad = await run(['probe', '--leg', '2', '--host', HOST, '--origin', `127.0.0.1:${open.port}`, '--json']);
    assert.strictEqual(bad.code, 1);
    assert.strictEqual(JSON.parse(bad.stdout).ok, false);
  });

  it('--p12 with the password from MTLS_P12_PASSWORD', async () => {
    const p12 = path.join(p.dir, 'client.p12');
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', p.clientKey, '-in', p.clientCert, '-certfile', p.caCert, '-out', p12, '-passout', 'pass:s3cret']);
    const r = await run(['probe', '--leg', '1', '--host', HOST, '--connect', edge.address, '--p12', p12, '--json'], { MTLS_P12_PASSWORD: 's3cret' });
    assert.strictEqual(r.code, 0, r.stdout + r.stderr);
    assert.strictEqual(JSON.parse(r.stdout).legs[0].checks.find((c: { id: string }) => c.id === 'edge-allows-with-cert').status, 'pass');
    const wrong = await run(['probe', '--leg', '1', '--host', HOST, '--connect', edge.address, '--p12', p12], { MTLS_P12_PASSWORD: 'nope' });
    assert.strictEqual(wrong.code, 2, 'an unusable input is exit 2, not a failed check');
    assert.match(wrong.stderr, /password/i);
  });

  it('an encrypted PEM key: passphrase from MTLS_KEY_PASSWORD, else asked on the terminal; without one, exit 2 naming the file', async () => {
    const encrypted = path.join(p.dir, 'client-encrypted.key');
    execFileSync('openssl', ['pkey', '-in', p.clientKey, '-aes256', '-passout', 'pass:k3y-pass', '-out', encrypted]);
    assert.match(fs.readFileSync(encrypted, 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
    const args = ['probe', '--leg', '1', '--host', HOST, '--connect', edge.address, '--cert', p.clientCert, '--key', encrypted, '--edge-ca', edgeCa, '--json'];
    const ok = await run(args, { MTLS_KEY_PASSWORD: 'k3y-pass' });
    assert.strictEqual(ok.code, 0, ok.stdout + ok.stderr);
    assert.strictEqual(JSON.parse(ok.stdout).legs[0].checks.find((c: { id: string }) => c.id === 'edge-allows-with-cert').status, 'pass');
    const none = await run(args);
    assert.strictEqual(none.code, 2, none.stdout + none.stderr);
    assert.match(none.stderr, /The private key client-encrypted\.key is encrypted \(passphrase-protected\)/);
    assert.strictEqual(none.stdout, '', 'no report: the probes did not run');
    const wrong = await run(args, { MTLS_KEY_PASSWORD: 'nope' });
    assert.strictEqual(wrong.code, 2);
    assert.match(wrong.stderr, /Wrong passphrase for the encrypted private key client-encrypted\.key/);
    // On a terminal the passphrase is asked for, naming the file.
    const questions: string[] = [];
    let stdout = '';
    const io: CliIO = { stdout: t => { stdout += t; }, stderr: () => undefined, env: {}, cwd: ROOT, promptSecret: async q => { questions.push(q); return 'k3y-pass'; } };
    assert.strictEqual(await main(args, io), 0, stdout);
    assert.deepStrictEqual(questions, ['Passphrase for the encrypted private key client-encrypted.key: ']);
    // The legacy OpenSSL form (Proc-Type: 4,ENCRYPTED) too.
    const legacy = path.join(p.dir, 'client-legacy.key');
    execFileSync('openssl', ['ec', '-in', p.clientKey, '-aes256', '-passout', 'pass:k3y-pass', '-out', legacy], { stdio: 'ignore' });
    if (/Proc-Type: 4,ENCRYPTED/.test(fs.readFileSync(legacy, 'utf8'))) {
      const r = await run(['probe', '--leg', '1', '--host', HOST, '--connect', edge.address, '--cert', p.clientCert, '--key', legacy, '--edge-ca', edgeCa], {});
      assert.strictEqual(r.code, 2);
      assert.match(r.stderr, /client-legacy\.key is encrypted/);
    }
  });

  it('unreadable or invalid inputs exit 2 (the run never started); a failed check exits 1', async () => {
    const missing = await run(['probe', '--leg', '2', '--host', HOST, '--origin', `127.0.0.1:${open.port}`, '--pull-cert', path.join(p.dir, 'nope.pem'), '--pull-key', p.pull.key]);
    assert.strictEqual(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /nope\.pem/);
    const notPem = await run(['probe', '--leg', '2', '--host', HOST, '--origin', `127.0.0.1:${open.port}`, '--pull-cert', p.pull.key, '--pull-key', p.pull.key]);
    assert.strictEqual(notPem.code, 2, notPem.stderr);
    assert.match(notPem.stderr, /no PEM certificate/);
    const mismatch = await run(['probe', '--leg', '1', '--host', HOST, '--connect', edge.address, '--cert', p.clientCert, '--key', p.pull.key]);
    assert.strictEqual(mismatch.code, 2);
    assert.match(mismatch.stderr, /does not match/);
    const badCa = await run(['probe', '--leg', '2', '--host', HOST, '--origin', `127.0.0.1:${open.port}`, '--pull-ca', p.pull.key]);
    assert.strictEqual(badCa.code, 2, badCa.stdout + badCa.stderr);
    const badAddress = await run(['probe', '--leg', '2', '--host', HOST, '--origin', '127.0.0.1:99999']);
    assert.strictEqual(badAddress.code, 2, badAddress.stdout + badAddress.stderr);
    const failed = await run(['probe', '--leg', '2', '--host', HOST, '--origin', `127.0.0.1:${open.port}`]);
    assert.strictEqual(failed.code, 1);
  });

  it('bad usage exits 2 with the usage text', async () => {
    const noHost = await run(['probe', '--leg', '1']);
    assert.strictEqual(noHost.code, 2);
    assert.match(noHost.stderr, /Missing required option --host/);
    assert.match(noHost.stderr, /Usage: mtls probe/);
    assert.strictEqual((await run(['probe', '--leg', '3', '--host', HOST])).code, 2);
    assert.strictEqual((await run(['probe', '--host', HOST, '--timeout', 'soon'])).code, 2);
    assert.strictEqual((await run(['probe', '--host', HOST, '--cert', p.clientCert, '--p12', 'x.p12'])).code, 2);
    assert.strictEqual((await run(['edge', '--host', HOST, '--ca', p.caCert])).code, 2);
  });

  it('the bundled CLI: `mtls edge` runs until SIGINT and `mtls probe --json` passes through it', async function () {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
    const port = await freePort();
    const child: ChildProcess = spawn(process.execPath, [CLI, 'edge', '--listen', `127.0.0.1:${port}`, '--origin', `127.0.0.1:${origin.port}`, '--host', HOST,
      '--ca', p.caCert, '--pull-cert', p.pull.cert, '--pull-key', p.pull.key, '--origin-ca', p.caCert], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', d => { out += d; });
    child.stderr!.on('data', d => { out += d; });
    const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)));
    try {
      const deadline = Date.now() + 15000;
      while (!/Press Ctrl\+C/.test(out)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`mtls edge did not start:\n${out}`);
        await new Promise(r => setTimeout(r, 50));
      }
      assert.match(out, new RegExp(`Local edge listening on https://127\\.0\\.0\\.1:${port} for ${HOST.replace(/\./g, '\\.')}`));
      const probe = await new Promise<{ code: number; stdout: string }>(resolve => {
        execFile(process.execPath, [CLI, 'probe', '--leg', 'both', '--host', HOST, '--connect', `127.0.0.1:${port}`, '--origin', `127.0.0.1:${origin.port}`,
          '--cert', p.clientCert, '--key', p.clientKey, '--pull-cert', p.pull.cert, '--pull-key', p.pull.key, '--origin-ca', p.caCert, '--json'],
        (err, stdout) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout }));
      });
      assert.strictEqual(probe.code, 0, probe.stdout);
      assert.strictEqual(JSON.parse(probe.stdout).ok, true);
      // The edge logged the probes' requests: blocked ones and the forwarded one.
      assert.match(out, /403 GET mtls\.example\.test\/ cert=none blocked/);
      assert.match(out, /200 GET mtls\.example\.test\/ cert=verified forwarded/);
    } finally {
      child.kill('SIGINT');
    }
    assert.strictEqual(await exited, 0, out);
    assert.match(out, /Local edge stopped/);
  });
});
