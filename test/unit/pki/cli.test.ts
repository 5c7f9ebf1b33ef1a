import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import { CliIO } from '../../../src/cli/io';
import { readPkcs12 } from '../../../src/core/pki';
import { cliPath, openssl, opensslOk, run, snapshot, tmpDir, write } from './helpers';

interface FakeIO extends CliIO { out: string; err: string; prompts: string[] }

function fakeIO(cwd: string, env: NodeJS.ProcessEnv = {}, answers?: string[]): FakeIO {
  const io: FakeIO = {
    out: '', err: '', prompts: [], cwd, env,
    stdout: t => { io.out += t; },
    stderr: t => { io.err += t; },
  };
  if (answers) io.promptSecret = async q => { io.prompts.push(q); return answers.shift() ?? ''; };
  return io;
}

async function mtls(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}, answers?: string[]) {
  const io = fakeIO(cwd, env, answers);
  const code = await main(args, io);
  return { code, out: io.out, err: io.err, prompts: io.prompts };
}

describe('pki: CLI (mtls ca / mtls cert)', function () {
  this.timeout(120000);
  let ws: string;
  beforeEach(() => { ws = tmpDir('mtls-cli-'); });
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('ca create and cert issue print one JSON object with absolute cert and key paths', async () => {
    const ca = await mtls(ws, ['ca', 'create', '--name', 'acme', '--cn', 'Acme Root', '--org', 'Acme', '--key', 'ec-p256', '--days', '30', '--json']);
    assert.strictEqual(ca.code, 0, ca.err);
    // no MTLS_CA_PASSWORD and no terminal: a plaintext key, said on stderr and in the JSON
    assert.match(ca.err, /notice: the CA key .*ca\.key is NOT encrypted/);
    const caJson = JSON.parse(ca.out);
    assert.strictEqual(caJson.keyEncrypted, false);
    assert.strictEqual(caJson.cert, path.join(ws, '.mtls/acme/ca.pem'));
    assert.strictEqual(caJson.key, path.join(ws, '.mtls/acme/ca.key'));
    assert.strictEqual(caJson.name, 'acme');
    assert.match(caJson.serial, /^[0-9A-F]{32}$/);
    assert.match(caJson.fingerprintSha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.match(caJson.sha256, /^[0-9a-f]{64}$/);
    assert.strictEqual(caJson.subject, 'O=Acme, CN=Acme Root');
    assert.ok(new Date(caJson.notAfter).getTime() > Date.now() + 29 * 86400000);

    const leaf = await mtls(ws, ['cert', 'issue', '--ca', 'acme', '--cn', 'Alice', '--name', 'alice-laptop', '--key', 'ec-p256', '--san', 'alice@example.com', '--san', 'DNS:alice.example.com', '--json']);
    assert.strictEqual(leaf.code, 0, leaf.err);
    const j = JSON.parse(leaf.out);
    assert.strictEqual(j.cert, path.join(ws, '.mtls/acme/certs/alice-laptop.pem'));
    assert.strictEqual(j.key, path.join(ws, '.mtls/acme/certs/alice-laptop.key'));
    assert.strictEqual(j.profile, 'client');
    assert.deepStrictEqual(j.sans, ['email:alice@example.com', 'dns:alice.example.com']);
    assert.strictEqual(fs.statSync(j.key).mode & 0o777, 0o600);
    assert.match(opensslOk(['verify', '-CAfile', caJson.cert, j.cert]), /OK/);

    const op = await mtls(ws, ['cert', 'issue', '--ca', 'acme', '--cn', 'cf-origin-pull', '--profile', 'origin-pull', '--key', 'ec-p256', '--json']);
    assert.strictEqual(JSON.parse(op.out).profile, 'origin-pull');
    const srv = await mtls(ws, ['cert', 'issue', '--ca', 'acme', '--cn', 'localhost', '--profile', 'server', '--key', 'ec-p256', '--san', '127.0.0.1', '--json']);
    assert.deepStrictEqual(JSON.parse(srv.out).sans, ['ip:127.0.0.1']);

    // a custom store, relative to the working directory
    const other = await mtls(ws, ['ca', 'create', '--name', 'x', '--cn', 'X', '--key', 'ec-p256', '--store', 'pki', '--json']);
    assert.strictEqual(JSON.parse(other.out).cert, path.join(ws, 'pki/x/ca.pem'));
  });

  it('prints readable text without --json', async () => {
    const ca = await mtls(ws, ['ca', 'create', '--name', 'acme', '--cn', 'Acme Root', '--key', 'ec-p256']);
    assert.match(ca.out, /Created CA "acme": CN=Acme Root \(EC P-256, valid until \d{4}-\d\d-\d\d\)/);
    assert.match(ca.out, /key: +\/.*ca\.key \(private, mode 0600/);
    await mtls(ws, ['cert', 'issue', '--ca', 'acme', '--cn', 'alice', '--key', 'ec-p256']);
    const tree = JSON.parse((await mtls(ws, ['cert', 'list', '--json'])).out);
    assert.strictEqual(tree.cas[0].certs[0].issuer, 'CN=Acme Root', 'issuer: the name');
    assert.strictEqual(tree.cas[0].certs[0].issuerCert, path.join(ws, '.mtls/acme/ca.pem'), 'issuerCert: the CA file that signed it');
    const list = await mtls(ws, ['cert', 'list']);
    assert.match(list.out, /^CA acme {2}Acme Root {2}\[ca, EC P-256, \d+d left, key NOT encrypted\] {2}acme\/ca\.pem\n {2}alice {2}alice {2}\[client, EC P-256, 364d left\] {2}acme\/certs\/alice\.pem\n$/);
    const inspect = await mtls(ws, ['cert', 'inspect', '.mtls/acme/certs/alice.pem']);
    assert.match(inspect.out, /Extended key usage: clientAuth/);
    assert.match(inspect.out, /Cloudflare SHA-256: [0-9a-f]{64}/);
    const json = JSON.parse((await mtls(ws, ['cert', 'inspect', '.mtls/acme/certs/alice.pem', '--json'])).out);
    assert.deepStrictEqual(json.extKeyUsage, ['clientAuth']);
    assert.strictEqual(json.pem, undefined);
    const verify = await mtls(ws, ['cert', 'verify', '.mtls/acme/certs/alice.pem', '--ca', '.mtls/acme/ca.pem']);
    assert.strictEqual(verify.code, 0);
    assert.match(verify.out, /OK/);
  });

  it('exports PKCS#12 with the password from MTLS_P12_PASSWORD or the terminal, never printing it', async () => {
    await mtls(ws, ['ca', 'create', '--name', 'acme', '--cn', 'Acme', '--key', 'ec-p256']);
    await mtls(ws, ['cert', 'issue', '--ca', 'acme', '--cn', 'alice', '--key', 'ec-p256']);
    const cert = '.mtls/acme/certs/alice.pem';
    const key = '.mtls/acme/certs/alice.key';
    const secret = 's3cret-Passw0rd';
    const a = await mtls(ws, ['cert', 'export-p12', '--cert', cert, '--key', key, '--ca', '.mtls/acme/ca.pem', '--out', 'alice.p12'], { MTLS_P12_PASSWORD: secret });
    assert.strictEqual(a.code, 0, a.err);
    assert.match(a.out, /modern PKCS#12.*1 CA certificate included/);
    assert.ok(!(a.out + a.err).includes(secret));
    assert.strictEqual(fs.statSync(path.join(ws, 'alice.p12')).mode & 0o777, 0o600);
    const info = openssl(['pkcs12', '-info', '-nokeys', '-in', path.join(ws, 'alice.p12'), '-passin', 'env:PW'], { env: { PW: secret } });
    assert.strictEqual(info.status, 0, info.stderr);
    // legacy, key found beside the certificate, CA found by signature, password typed twice on a terminal
    const b = await mtls(ws, ['cert', 'export-p12', '--cert', cert, '--out', 'alice-legacy.p12', '--legacy'], {}, ['typed', 'typed']);
    assert.strictEqual(b.code, 0, b.err);
    assert.deepStrictEqual(b.prompts, ['Password for the PKCS#12 file: ', 'Repeat the password: ']);
    assert.strictEqual(readPkcs12(fs.readFileSync(path.join(ws, 'alice-legacy.p12')), 'typed').chainPems.length, 1);
    assert.notStrictEqual(openssl(['pkcs12', '-info', '-nokeys', '-in', path.join(ws, 'alice-legacy.p12'), '-passin', 'pass:typed']).status, 0);
    assert.strictEqual(openssl(['pkcs12', '-legacy', '-info', '-nokeys', '-in', path.join(ws, 'alice-legacy.p12'), '-passin', 'pass:typed']).status, 0);
    // inspect a bundle
    const ins = await mtls(ws, ['cert', 'inspect', 'alice.p12', '--json'], { MTLS_P12_PASSWORD: secret });
    assert.strictEqual(ins.code, 0, ins.err);
    assert.deepStrictEqual([JSON.parse(ins.out).subjectCn, JSON.parse(ins.out).chain], ['alice', ['CN=Acme']]);
    const wrong = await mtls(ws, ['cert', 'inspect', 'alice.p12'], { MTLS_P12_PASSWORD: 'not it' });
    assert.strictEqual(wrong.code, 1);
    assert.match(wrong.err, /password is wrong/);
    // no terminal, no variable
    const c = await mtls(ws, ['cert', 'export-p12', '--cert', cert, '--out', 'c.p12']);
    assert.strictEqual(c.code, 1);
    assert.match(c.err, /set MTLS_P12_PASSWORD, or run on a terminal/);
    // the two typed passwords differ
    const d = await mtls(ws, ['cert', 'export-p12', '--cert', cert, '--out', 'd.p12'], {}, ['one', 'two']);
    assert.strictEqual(d.code, 1);
    assert.match(d.err, /passwords differ/);
    assert.ok(!fs.existsSync(path.join(ws, 'c.p12')) && !fs.existsSync(path.join(ws, 'd.p12')));
    // never overwrite an existing bundle
    const before = fs.readFileSync(path.join(ws, 'alice.p12'));
    const e = await mtls(ws, ['cert', 'export-p12', '--cert', cert, '--out', 'alice.p12'], { MTLS_P12_PASSWORD: 'x' });
    assert.strictEqual(e.code, 1);
    assert.match(e.err, /already exists/);
    assert.deepStrictEqual(fs.readFileSync(path.join(ws, 'alice.p12')), before);
  });

  it('fails clearly, with a non-zero exit and files left as they were', async () => {
    await mtls(ws, ['ca', 'create', '--name', 'acme', '--cn', 'Acme', '--key', 'ec-p256']);
    await mtls(ws, ['cert', 'issue', '--ca', 'acme', '--cn', 'alice', '--key', 'ec-p256']);
    const before = snapshot(ws);
    const cases: [string[], number, RegExp][] = [
      [['ca', 'create', '--name', 'acme', '--cn', 'Again', '--key', 'ec-p256'], 1, /A CA named "acme" already exists/],
      [['cert', 'issue', '--ca', 'acme', '--cn', 'alice', '--key', 'ec-p256'], 1, /"alice" already exists/],
      [['cert', 'issue', '--ca', 'nope', '--cn', 'x'], 1, /no CA named "nope".*Known CAs: acme/],
      [['ca', 'create', '--name', 'b', '--cn', 'B', '--key', 'rsa1024'], 2, /--key must be one of/],
      [['ca', 'create', '--cn', 'B'], 2, /Missing required option --name/],
      [['cert', 'issue', '--ca', 'acme', '--cn', 'x', '--days', 'ten'], 2, /--days must be a whole number/],
      [['cert', 'issue', '--ca', 'acme', '--cn', 'x', '--bogus'], 2, /bogus/],
      [['cert', 'frobnicate'], 2, /Unknown subcommand "frobnicate"/],
      [['cert', 'export-p12', '--cert', '.mtls/acme/certs/alice.pem', '--key', '.mtls/acme/ca.key', '--out', 'x.p12'], 1, /does not match the certificate/],
      [['cert', 'inspect', '.mtls/.gitignore'], 1, /\.gitignore holds no PEM certificate/],
      [['cert', 'inspect', 'missing.pem'], 1, /Cannot read .*missing\.pem: it does not exist/],
      [['cert', 'delete', '.mtls/acme/certs/alice.pem'], 2, /add --yes/],
    ];
    for (const [args, code, re] of cases) {
      const r = await mtls(ws, args, { MTLS_P12_PASSWORD: 'x' });
      assert.strictEqual(r.code, code, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, re, args.join(' '));
      assert.strictEqual(r.out, '', args.join(' '));
    }
    assert.deepStrictEqual(snapshot(ws), before);
  });

  it('signs a CSR, renews, revokes and deletes', async () => {
    await mtls(ws, ['ca', 'create', '--name', 'acme', '--cn', 'Acme', '--key', 'ec-p256']);
    opensslOk(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(ws, 'dev.key'), '-out', path.join(ws, 'dev.csr'), '-subj', '/CN=device-7']);
    const signed = await mtls(ws, ['cert', 'sign-csr', '--ca', 'acme', '--csr', 'dev.csr', '--json']);
    assert.strictEqual(signed.code, 0, signed.err);
    assert.strictEqual(JSON.parse(signed.out).cert, path.join(ws, '.mtls/acme/certs/device-7.pem'));
    const csrInfo = await mtls(ws, ['cert', 'inspect', 'dev.csr']);
    assert.match(csrInfo.out, /Signature: valid/);
    await mtls(ws, ['cert', 'issue', '--ca', 'acme', '--cn', 'bob', '--key', 'ec-p256']);
    const renewed = await mtls(ws, ['cert', 'renew', '.mtls/acme/certs/bob.pem', '--json']);
    assert.strictEqual(renewed.code, 0, renewed.err);
    assert.strictEqual(JSON.parse(renewed.out).archived.length, 2);
    const revoked = await mtls(ws, ['cert', 'revoke', '.mtls/acme/certs/bob.pem', '--reason', 'lost laptop']);
    assert.strictEqual(revoked.code, 0, revoked.err);
    assert.match(revoked.out, /cf\.tls_client_auth\.cert_fingerprint_sha256 in \{"[0-9a-f]{64}"\}/);
    assert.match(revoked.out, /^Revoked CN=bob/);
    const twice = await mtls(ws, ['cert', 'revoke', '.mtls/acme/certs/bob.pem', '--reason', 'found it']);
    assert.strictEqual(twice.code, 0, twice.err);
    assert.match(twice.out, /^CN=bob \(serial [0-9A-F]+\) was already revoked on \d{4}-\d\d-\d\dT[\d:.]+Z \(lost laptop\); .*revoked\.json is unchanged\./);
    const expr = await mtls(ws, ['ca', 'revoked', '--name', 'acme']);
    assert.match(expr.out, /^cf\.tls_client_auth\.cert_fingerprint_sha256 in \{"[0-9a-f]{64}"\}\n$/);
    // The CA's own file: the refusal without --yes says it is the CA and what deleting it means.
    const caDel = await mtls(ws, ['cert', 'delete', '.mtls/acme/ca.pem']);
    assert.strictEqual(caDel.code, 2);
    assert.match(caDel.err, /ca\.pem is the CA "acme" with its key; the \d+ certificate\(s\) it issued stay, but can no longer be renewed or revoked here/);
    assert.ok(fs.existsSync(path.join(ws, '.mtls/acme/ca.key')), 'nothing deleted without --yes');
    const del = await mtls(ws, ['cert', 'delete', '.mtls/acme/certs/bob.pem', '--yes']);
    assert.strictEqual(del.code, 0, del.err);
    assert.ok(!fs.existsSync(path.join(ws, '.mtls/acme/certs/bob.pem')));
    const cas = JSON.parse((await mtls(ws, ['ca', 'list', '--json'])).out);
    assert.deepStrictEqual(cas.map((c: { name: string; issued: number; revoked: number }) => [c.name, c.issued, c.revoked]), [['acme', 2, 1]], 'device-7 and the archived bob');
    const caGone = await mtls(ws, ['cert', 'delete', '.mtls/acme/ca.pem', '--yes']);
    assert.strictEqual(caGone.code, 0, caGone.err);
    assert.match(caGone.out, /^Deleted the CA "acme": \S*ca\.pem, \S*ca\.key\n$/);
    assert.match(caGone.err, /note: the 2 certificate\(s\) it issued stay in the store as orphans/);
  });

  it('imports a CA from files made by openssl', async () => {
    opensslOk(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(ws, 'root.key'), '-out', path.join(ws, 'root.crt'), '-subj', '/CN=Openssl Root', '-days', '30']);
    opensslOk(['x509', '-in', path.join(ws, 'root.crt'), '-outform', 'DER', '-out', path.join(ws, 'root.der')]);
    const r = await mtls(ws, ['ca', 'import', 'root.der', '--key', 'root.key', '--name', 'legacy-root', '--json']);
    assert.strictEqual(r.code, 0, r.err);
    assert.strictEqual(JSON.parse(r.out).cert, path.join(ws, '.mtls/legacy-root/ca.pem'));
    const issued = await mtls(ws, ['cert', 'issue', '--ca', 'legacy-root', '--cn', 'x', '--key', 'ec-p256', '--json']);
    assert.strictEqual(openssl(['verify', '-CAfile', path.join(ws, 'root.crt'), JSON.parse(issued.out).cert]).status, 0);
    write(path.join(ws, 'other.key'), fs.readFileSync(path.join(ws, '.mtls/legacy-root/certs/x.key')));
    const bad = await mtls(ws, ['ca', 'import', 'root.crt', '--key', 'other.key', '--name', 'again']);
    assert.strictEqual(bad.code, 1);
    assert.match(bad.err, /other\.key does not match/);
  });

  it('works as a spawned `node dist/cli.js` the way scripts use it', () => {
    const cli = cliPath();
    const node = (args: string[], env: NodeJS.ProcessEnv = {}) => run(process.execPath, [cli, ...args], { cwd: ws, env });
    const ca = node(['ca', 'create', '--name', 'acme', '--cn', 'Spawned Root', '--key', 'rsa2048', '--json']);
    assert.strictEqual(ca.status, 0, ca.stderr);
    const caJson = JSON.parse(ca.stdout);
    const leaf = node(['cert', 'issue', '--ca', 'acme', '--cn', 'spawned-client', '--json']);
    assert.strictEqual(leaf.status, 0, leaf.stderr);
    const j = JSON.parse(leaf.stdout);
    assert.ok(path.isAbsolute(j.cert) && path.isAbsolute(j.key));
    assert.match(opensslOk(['verify', '-CAfile', caJson.cert, j.cert]), /OK/);
    const p12 = node(['cert', 'export-p12', '--cert', j.cert, '--key', j.key, '--ca', caJson.cert, '--out', 'client.p12'], { MTLS_P12_PASSWORD: 'spawn-pw' });
    assert.strictEqual(p12.status, 0, p12.stderr);
    assert.strictEqual(openssl(['pkcs12', '-in', path.join(ws, 'client.p12'), '-passin', 'pass:spawn-pw', '-nokeys']).status, 0);
    // no terminal and no variable: a clear error, non-zero exit
    const env = { ...process.env };
    delete env.MTLS_P12_PASSWORD;
    const noPw = run(process.execPath, [cli, 'cert', 'export-p12', '--cert', j.cert, '--key', j.key, '--out', 'x.p12'], { cwd: ws, env: { MTLS_P12_PASSWORD: '' }, input: '' });
    assert.strictEqual(noPw.status, 1);
    assert.match(noPw.stderr, /MTLS_P12_PASSWORD/);
    const dup = node(['ca', 'create', '--name', 'acme', '--cn', 'Again', '--key', 'ec-p256', '--json']);
    assert.strictEqual(dup.status, 1);
    assert.strictEqual(dup.stdout, '');
    assert.match(dup.stderr, /^mtls ca: A CA named "acme" already exists/);
  });

  it('stops quietly when the reader of its output goes away (`mtls cert list --json | head`)', async () => {
    // More JSON than a pipe holds (64 KiB), so the writes meet the closed pipe.
    await mtls(ws, ['ca', 'create', '--name', 'acme', '--cn', 'Pipe Root', '--key', 'ec-p256', '--json']);
    for (let i = 0; i < 50; i++) assert.strictEqual((await mtls(ws, ['cert', 'issue', '--ca', 'acme', '--cn', `pipe-${i}`, '--key', 'ec-p256', '--json'])).code, 0);
    const r = run('bash', ['-c', 'set -o pipefail; node "$0" cert list --json | head -c 100 >/dev/null; echo "exit=$?"', cliPath()], { cwd: ws });
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled/, r.stderr);
    assert.strictEqual(r.stderr, '');
    assert.strictEqual(r.stdout.trim(), 'exit=0');
  });
});
