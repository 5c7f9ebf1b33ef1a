// CA keys encrypted at rest: openssl reads them with the same passphrase, every signing command asks for it
// the same way, a wrong one fails and writes nothing, and an existing plaintext key can be encrypted in place.
import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import { CliIO } from '../../../src/cli/io';
import { MtlsError } from '../../../src/core/errors';
import { caPaths, createCa, decryptPrivateKey, encryptCaKey, encryptPrivateKey, issueToStore, listStore, loadCa, renewCertificate } from '../../../src/core/pki';
import { opensslOk, openssl, snapshot, tmpDir } from './helpers';

async function mtls(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}, answers?: string[]) {
  const io: CliIO & { out: string; err: string; prompts: string[] } = {
    out: '', err: '', prompts: [], cwd, env,
    stdout: t => { io.out += t; },
    stderr: t => { io.err += t; },
  };
  if (answers) io.promptSecret = async q => { io.prompts.push(q); return answers.shift() ?? ''; };
  const code = await main(args, io);
  return { code, out: io.out, err: io.err, prompts: io.prompts };
}

describe('pki: CA keys encrypted at rest', function () {
  this.timeout(120000);
  let ws: string;
  let store: string;
  beforeEach(() => { ws = tmpDir('mtls-atrest-'); store = path.join(ws, '.mtls'); });
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('writes PKCS#8 with scrypt + AES-256-CBC that `openssl pkey -passin` reads, and refuses the wrong passphrase', async () => {
    const ca = await createCa(store, 'acme', { cn: 'Acme Root', key: 'ec-p256', passphrase: 'correct horse' });
    assert.strictEqual(ca.keyEncrypted, true);
    const keyFile = caPaths(store, 'acme').keyPath;
    const text = fs.readFileSync(keyFile, 'utf8');
    assert.match(text, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.doesNotMatch(text, /-----BEGIN PRIVATE KEY-----/);
    const parsed = opensslOk(['asn1parse', '-in', keyFile]);
    assert.match(parsed, /:PBES2/);
    assert.match(parsed, /:id-scrypt|:scrypt/);
    assert.match(parsed, /:aes-256-cbc/);
    // openssl decrypts it with the same passphrase, and its public key is the CA certificate's
    const pub = opensslOk(['pkey', '-in', keyFile, '-passin', 'pass:correct horse', '-pubout']);
    const certPub = opensslOk(['x509', '-in', ca.certPath, '-noout', '-pubkey']);
    assert.strictEqual(pub, certPub);
    const wrong = openssl(['pkey', '-in', keyFile, '-passin', 'pass:wrong', '-noout']);
    assert.notStrictEqual(wrong.status, 0);
    await assert.rejects(loadCa(store, 'acme', async () => 'wrong'), (e: MtlsError) => e.code === 'bad-passphrase' && /passphrase .* is wrong/.test(e.message));
    await assert.rejects(loadCa(store, 'acme'), (e: MtlsError) => e.code === 'no-passphrase');
    const loaded = await loadCa(store, 'acme', async () => 'correct horse');
    assert.strictEqual(loaded.keyEncrypted, true);
    assert.match(loaded.keyPem, /^-----BEGIN PRIVATE KEY-----/);
  });

  it('reads a key openssl encrypted with PBKDF2-HMAC-SHA256 (openssl pkcs8 -v2 aes-256-cbc) and Node-encrypted keys', async () => {
    const plain = path.join(ws, 'plain.key');
    opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', plain]);
    const enc = path.join(ws, 'enc.key');
    opensslOk(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA256', '-in', plain, '-out', enc, '-passout', 'pass:pw']);
    const pem = await decryptPrivateKey(fs.readFileSync(enc), 'pw', enc);
    assert.match(pem, /BEGIN PRIVATE KEY/);
    await assert.rejects(decryptPrivateKey(fs.readFileSync(enc), 'nope', enc), (e: MtlsError) => e.code === 'bad-passphrase');
    const ours = await encryptPrivateKey(fs.readFileSync(plain, 'utf8'), 'pw2');
    assert.strictEqual(await decryptPrivateKey(ours, 'pw2'), pem);
    const byNode = crypto.createPrivateKey(fs.readFileSync(plain)).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw3' }) as string;
    assert.strictEqual(await decryptPrivateKey(byNode, 'pw3'), pem);
  });

  it('CLI: MTLS_CA_PASSWORD encrypts on create and signs on issue, renew and sign-csr; a wrong one fails and writes nothing', async () => {
    const env = { MTLS_CA_PASSWORD: 's3cret' };
    const ca = await mtls(ws, ['ca', 'create', '--name', 'acme', '--cn', 'Acme Root', '--key', 'ec-p256', '--json'], env);
    assert.strictEqual(ca.code, 0, ca.err);
    assert.strictEqual(ca.err, '');
    assert.strictEqual(JSON.parse(ca.out).keyEncrypted, true);
    const list = await mtls(ws, ['ca', 'list', '--json']);
    assert.strictEqual(JSON.parse(list.out)[0].keyEncrypted, true);

    const before = snapshot(store);
    const bad = await mtls(ws, ['cert', 'issue', '--ca', 'acme', '--cn', 'alice', '--key', 'ec-p256'], { MTLS_CA_PASSWORD: 'wrong' });
    assert.strictEqual(bad.code, 1);
    assert.match(bad.err, /passphrase for .*ca\.key is wrong; nothing was written/);
    const none = await mtls(ws, ['cert', 'issue', '--ca', 'acme', '--cn', 'alice', '--key', 'ec-p256']);
    assert.strictEqual(none.code, 1);
    assert.match(none.err, /encrypted: set MTLS_CA_PASSWORD, or run on a terminal/);
    assert.deepStrictEqual(snapshot(store), before);

    const ok = await mtls(ws, ['cert', 'issue', '--ca', 'acme', '--cn', 'alice', '--key', 'ec-p256', '--json'], env);
    assert.strictEqual(ok.code, 0, ok.err);
    const cert = JSON.parse(ok.out).cert;
    assert.match(opensslOk(['verify', '-CAfile', path.join(store, 'acme/ca.pem'), cert]), /OK/);
    const renewed = await mtls(ws, ['cert', 'renew', cert, '--json'], env);
    assert.strictEqual(renewed.code, 0, renewed.err);
    const csrKey = path.join(ws, 'r.key');
    const csr = path.join(ws, 'r.csr');
    opensslOk(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', csrKey, '-subj', '/CN=req', '-out', csr]);
    const signed = await mtls(ws, ['cert', 'sign-csr', '--ca', 'acme', '--csr', csr, '--json'], env);
    assert.strictEqual(signed.code, 0, signed.err);
  });

  it('CLI on a terminal: asks twice on create (no echo), once per command to sign; an empty answer writes a plaintext key with a notice', async () => {
    const ca = await mtls(ws, ['ca', 'create', '--name', 'acme', '--cn', 'Acme Root', '--key', 'ec-p256', '--json'], {}, ['typed pass', 'typed pass']);
    assert.strictEqual(ca.code, 0, ca.err);
    assert.strictEqual(ca.prompts.length, 2);
    assert.strictEqual(JSON.parse(ca.out).keyEncrypted, true);
    const issue = await mtls(ws, ['cert', 'issue', '--ca', 'acme', '--cn', 'bob', '--key', 'ec-p256'], {}, ['typed pass']);
    assert.strictEqual(issue.code, 0, issue.err);
    assert.match(issue.prompts[0], /Passphrase for the key of the CA "acme"/);
    const differ = await mtls(ws, ['ca', 'create', '--name', 'other', '--cn', 'Other', '--key', 'ec-p256'], {}, ['a', 'b']);
    assert.strictEqual(differ.code, 1);
    assert.match(differ.err, /differ; nothing was written/);
    assert.ok(!fs.existsSync(path.join(store, 'other')));
    const empty = await mtls(ws, ['ca', 'create', '--name', 'plain', '--cn', 'Plain', '--key', 'ec-p256', '--json'], {}, ['']);
    assert.strictEqual(empty.code, 0, empty.err);
    assert.strictEqual(JSON.parse(empty.out).keyEncrypted, false);
    assert.match(empty.err, /NOT encrypted/);
  });

  it('encrypts an existing plaintext CA key in place, atomically, and the tree knows which keys are encrypted', async () => {
    await createCa(store, 'acme', { cn: 'Acme Root', key: 'ec-p256' });
    await issueToStore(store, 'acme', { cn: 'alice', key: 'ec-p256' });
    let tree = await listStore(store);
    assert.strictEqual(tree.cas[0].keyEncrypted, false);
    const keyFile = caPaths(store, 'acme').keyPath;
    const plainPub = opensslOk(['pkey', '-in', keyFile, '-pubout']);
    await encryptCaKey(store, 'acme', 'pw');
    assert.strictEqual(fs.statSync(keyFile).mode & 0o777, 0o600);
    assert.strictEqual(opensslOk(['pkey', '-in', keyFile, '-passin', 'pass:pw', '-pubout']), plainPub);
    assert.deepStrictEqual(fs.readdirSync(path.dirname(keyFile)).filter(n => n.startsWith('.')), [], 'no temporary or backup copy is left');
    tree = await listStore(store);
    assert.strictEqual(tree.cas[0].keyEncrypted, true);
    await assert.rejects(encryptCaKey(store, 'acme', 'pw'), /already encrypted/);
    const r = await renewCertificate(store, path.join(store, 'acme/certs/alice.pem'), { caPassphrase: async () => 'pw' });
    assert.ok(r.renewed.certPath);
    const cli = await mtls(ws, ['ca', 'encrypt-key', '--name', 'acme']);
    assert.strictEqual(cli.code, 1);
    assert.match(cli.err, /No passphrase/);
  });
});
