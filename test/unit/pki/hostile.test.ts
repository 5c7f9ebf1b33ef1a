// Hostile files and folders, and the signing policy: only regular files are read (with a size cap), PEM
// reading is linear, symlinked store folders are refused for every write and delete, and sign-csr grants
// only what it shows, for keys every TLS stack accepts.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import { CliIO } from '../../../src/cli/io';
import { MtlsError } from '../../../src/core/errors';
import { readRegularFile } from '../../../src/core/fsutil';
import { caPaths, createCa, deleteCertificate, importToStore, issueToStore, listStore, parseCertificates, parseSan, renewCertificate, revokeCertificate, signCsrToStore, splitPem } from '../../../src/core/pki';
import { mode, opensslOk, run, snapshot, tmpDir } from './helpers';

async function mtls(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const io: CliIO & { out: string; err: string } = { out: '', err: '', cwd, env, stdout: t => { io.out += t; }, stderr: t => { io.err += t; } };
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

describe('pki: hostile files and folders', function () {
  this.timeout(120000);
  let ws: string;
  let store: string;
  beforeEach(() => { ws = tmpDir('mtls-hostile-'); store = path.join(ws, '.mtls'); });
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('splits PEM in linear time: 1 MB of BEGIN lines without END is refused at once', function () {
    this.timeout(5000); // the former lazy regex took half a minute on this input
    const text = '-----BEGIN CERTIFICATE-----\n'.repeat(40000);
    const split = splitPem(text);
    assert.strictEqual(split.blocks.length, 0);
    assert.strictEqual(split.unmatched, 40000);
    assert.throws(() => parseCertificates(text, 'evil.pem'), /no matching "-----END" line/);
    const mixed = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END KEY-----\n'.repeat(20000) + '-----END CERTIFICATE-----\n';
    assert.strictEqual(splitPem(mixed).blocks.length, 0);
  });

  it('reads only regular files, with a size cap: /dev/zero, a FIFO and a 5 MB file are refused with a clear message', async () => {
    await assert.rejects(readRegularFile('/dev/zero'), (e: MtlsError) => e.code === 'not-regular' && /not a regular file/.test(e.message));
    const fifo = path.join(ws, 'pipe.pem');
    assert.strictEqual(run('mkfifo', [fifo]).status, 0);
    await assert.rejects(readRegularFile(fifo), (e: MtlsError) => e.code === 'not-regular');
    const big = path.join(ws, 'big.pem');
    fs.writeFileSync(big, Buffer.alloc(5 * 1024 * 1024, 0x41));
    await assert.rejects(readRegularFile(big), (e: MtlsError) => e.code === 'too-large' && /more than/.test(e.message));
    for (const f of ['/dev/zero', fifo]) {
      const r = await mtls(ws, ['cert', 'inspect', f]);
      assert.strictEqual(r.code, 1);
      assert.match(r.err, /not a regular file/);
      const i = await mtls(ws, ['cert', 'import', f]);
      assert.match(i.err, /not a regular file/);
    }
    assert.match((await mtls(ws, ['cert', 'inspect', big])).err, /more than the \d+ a certificate/);
  });

  it('the store scan skips FIFOs and links and reports an oversized file as a problem', async () => {
    await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
    const certs = path.join(store, 'acme/certs');
    fs.mkdirSync(certs, { recursive: true });
    run('mkfifo', [path.join(certs, 'fifo.pem')]);
    fs.symlinkSync('/dev/zero', path.join(certs, 'zero.pem'));
    fs.writeFileSync(path.join(certs, 'huge.pem'), Buffer.alloc(5 * 1024 * 1024, 0x41));
    const tree = await listStore(store);
    assert.strictEqual(tree.cas.length, 1);
    assert.deepStrictEqual(tree.problems.map(p => path.basename(p.path)), ['huge.pem']);
  });

  it('--store that is not a folder says "not a folder"', async () => {
    const file = path.join(ws, 'store.txt');
    fs.writeFileSync(file, 'x');
    for (const args of [['cert', 'list'], ['ca', 'list'], ['ca', 'create', '--name', 'a', '--cn', 'A']]) {
      const r = await mtls(ws, [...args, '--store', file]);
      assert.strictEqual(r.code, 1);
      assert.match(r.err, /is not a folder/);
    }
  });

  it('refuses to write into or delete from a store folder that is a symlink, or one leading outside the store', async () => {
    await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
    const outside = path.join(ws, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'victim.pem'), 'keep me');
    fs.writeFileSync(path.join(outside, 'victim.key'), 'keep me too');
    fs.symlinkSync(outside, path.join(store, 'acme/certs'));
    const before = snapshot(outside);
    await assert.rejects(issueToStore(store, 'acme', { cn: 'alice', key: 'ec-p256' }), (e: MtlsError) => e.code === 'symlink-folder' && /symbolic link/.test(e.message));
    await assert.rejects(deleteCertificate(store, path.join(store, 'acme/certs/victim.pem')), (e: MtlsError) => e.code === 'symlink-folder');
    const csrKey = path.join(ws, 'r.key');
    const csr = path.join(ws, 'r.csr');
    opensslOk(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', csrKey, '-subj', '/CN=req', '-out', csr]);
    await assert.rejects(signCsrToStore(store, 'acme', fs.readFileSync(csr)), (e: MtlsError) => e.code === 'symlink-folder');
    const cli = await mtls(ws, ['cert', 'delete', path.join(store, 'acme/certs/victim.pem'), '--yes']);
    assert.strictEqual(cli.code, 1);
    assert.match(cli.err, /symbolic link; .*nothing was changed/);
    assert.deepStrictEqual(snapshot(outside), before, 'nothing outside the store changed');

    // a whole CA folder that is a link: not scanned, not written through
    const elsewhere = path.join(ws, 'elsewhere');
    fs.mkdirSync(elsewhere);
    fs.symlinkSync(elsewhere, path.join(store, 'linked'));
    await assert.rejects(createCa(store, 'linked', { cn: 'L', key: 'ec-p256' }), (e: MtlsError) => e.code === 'symlink-folder' || e.code === 'exists');
    assert.deepStrictEqual(fs.readdirSync(elsewhere), []);
    // the store root itself as a link
    const realStore = path.join(ws, 'real-store');
    fs.mkdirSync(realStore);
    fs.symlinkSync(realStore, path.join(ws, 'link-store'));
    await assert.rejects(createCa(path.join(ws, 'link-store'), 'x', { cn: 'X', key: 'ec-p256' }), (e: MtlsError) => e.code === 'symlink-folder');
    assert.deepStrictEqual(fs.readdirSync(realStore), []);
  });

  it('tightens existing store folders to 0700 on write', async () => {
    await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
    await issueToStore(store, 'acme', { cn: 'a', key: 'ec-p256' });
    for (const d of [store, path.join(store, 'acme'), path.join(store, 'acme/certs')]) fs.chmodSync(d, 0o755);
    const b = await issueToStore(store, 'acme', { cn: 'b', key: 'ec-p256' });
    for (const d of [store, path.join(store, 'acme'), path.join(store, 'acme/certs')]) assert.strictEqual(mode(d), 0o700, d);
    await revokeCertificate(store, b.certPath, 'test');
    fs.chmodSync(path.join(store, 'acme'), 0o755);
    await renewCertificate(store, path.join(store, 'acme/certs/a.pem'));
    assert.strictEqual(mode(path.join(store, 'acme/archive')), 0o700);
    assert.strictEqual(mode(path.join(store, 'acme')), 0o700);
  });

  it('import refuses a symlinked target folder too', async () => {
    const ca = await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
    const leaf = await issueToStore(store, 'acme', { cn: 'a', key: 'ec-p256' });
    const pem = fs.readFileSync(leaf.certPath);
    fs.rmSync(path.join(store, 'acme/certs'), { recursive: true });
    const outside = path.join(ws, 'out');
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(store, 'acme/certs'));
    await assert.rejects(importToStore(store, { cert: pem, name: 'again', caName: 'acme' }), (e: MtlsError) => e.code === 'symlink-folder');
    assert.deepStrictEqual(fs.readdirSync(outside), []);
    assert.ok(ca);
  });
});

describe('pki: signing policy for CSRs', function () {
  this.timeout(120000);
  let ws: string;
  let store: string;
  before(async () => {
    ws = tmpDir('mtls-csr-');
    store = path.join(ws, '.mtls');
    await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
  });
  after(() => fs.rmSync(ws, { recursive: true, force: true }));

  function csr(name: string, newkey: string[], subj = `/CN=${name}`, extra: string[] = []): string {
    const out = path.join(ws, `${name}.csr`);
    opensslOk(['req', '-new', ...newkey, '-nodes', '-keyout', path.join(ws, `${name}.key`), '-subj', subj, '-utf8', ...extra, '-out', out]);
    return out;
  }

  const refused: [string, string[]][] = [
    ['p192', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime192v1']],
    ['secp256k1', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1']],
    ['p521', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521']],
    ['ed25519', ['-newkey', 'ed25519']],
    ['rsa1024', ['-newkey', 'rsa:1024']],
  ];
  for (const [name, newkey] of refused) {
    it(`refuses a ${name} key: "unsupported key type", nothing written`, async () => {
      const file = csr(name, newkey);
      const before = snapshot(store);
      const r = await mtls(ws, ['cert', 'sign-csr', '--ca', 'acme', '--csr', file]);
      assert.strictEqual(r.code, 1, r.out);
      assert.match(r.err, /unsupported key type/);
      assert.deepStrictEqual(snapshot(store), before);
    });
  }

  const accepted: [string, string[]][] = [
    ['rsa2048', ['-newkey', 'rsa:2048']],
    ['p256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']],
    ['p384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384']],
  ];
  for (const [name, newkey] of accepted) {
    it(`signs a ${name} key and prints the subject and SANs it grants before signing`, async () => {
      const file = csr(name, newkey, `/O=Acme/CN=${name}`, ['-addext', `subjectAltName=DNS:${name}.example.com,IP:10.0.0.1`]);
      const r = await mtls(ws, ['cert', 'sign-csr', '--ca', 'acme', '--csr', file, '--json']);
      assert.strictEqual(r.code, 0, r.err);
      assert.match(r.err, new RegExp(`subject: O=Acme, CN=${name}`));
      assert.match(r.err, new RegExp(`SANs:    DNS:${name}\\.example\\.com, IP:10\\.0\\.0\\.1 \\(from the CSR\\)`));
      assert.match(opensslOk(['verify', '-CAfile', caPaths(store, 'acme').certPath, JSON.parse(r.out).cert]), /OK/);
    });
  }

  it('refuses non-ASCII in IA5 SANs (CSR and --san) and bidi/C1 control characters in names', async () => {
    const idn = csr('idn', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=idn', ['-addext', 'subjectAltName=DNS:b\u00fccher.example']);
    const r1 = await mtls(ws, ['cert', 'sign-csr', '--ca', 'acme', '--csr', idn]);
    assert.strictEqual(r1.code, 1);
    assert.match(r1.err, /ASCII only \(IA5String\)/);
    const bidi = csr('bidi', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=invoice\u202Egpj.exe');
    const r2 = await mtls(ws, ['cert', 'sign-csr', '--ca', 'acme', '--csr', bidi]);
    assert.strictEqual(r2.code, 1);
    assert.match(r2.err, /U\+202E/);
    assert.throws(() => parseSan('DNS:b\u00fccher.example'), /ASCII only/);
    assert.throws(() => parseSan('alice\u0085@example.com'), /U\+0085/);
    await assert.rejects(issueToStore(store, 'acme', { cn: 'evil\u202Etxt', key: 'ec-p256' }), /U\+202E/);
    await assert.rejects(issueToStore(store, 'acme', { cn: 'c1\u009bx', key: 'ec-p256' }), /U\+009B/);
    const r3 = await mtls(ws, ['cert', 'issue', '--ca', 'acme', '--cn', 'ok', '--san', 'DNS:b\u00fccher.example']);
    assert.match(r3.err, /ASCII only/);
  });
});
