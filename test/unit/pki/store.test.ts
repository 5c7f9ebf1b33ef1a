import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import {
  caPaths, caRevocationExpression, createCa, createRootCa, deleteCertificate, importToStore, inspectCertificate, issueCertificate, issueToStore,
  listStore, loadCa, readRevocations, renewCertificate, resolveStorePath, revocationExpression, revokeCertificate, signCsrToStore, trackedKeys,
} from '../../../src/core/pki';
import { MtlsError } from '../../../src/core/errors';
import { mode, opensslOk, openssl, run, snapshot, tmpDir, write } from './helpers';

describe('pki: the store', function () {
  this.timeout(120000);
  let ws: string;
  let store: string;
  beforeEach(() => {
    ws = tmpDir('mtls-store-');
    store = resolveStorePath(ws);
  });
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('resolves the store path from the workspace and the setting', () => {
    assert.strictEqual(resolveStorePath('/w'), path.resolve('/w/.mtls'));
    assert.strictEqual(resolveStorePath('/w', 'pki/certs'), path.resolve('/w/pki/certs'));
    assert.strictEqual(resolveStorePath('/w', '/abs/store'), path.resolve('/abs/store'));
    assert.strictEqual(resolveStorePath('/w', '  '), path.resolve('/w/.mtls'));
  });

  it('creates a CA and issues certificates as plain files with private modes and a .gitignore', async () => {
    const ca = await createCa(store, 'acme', { cn: 'Acme Root', key: 'ec-p256' });
    const p = caPaths(store, 'acme');
    assert.strictEqual(ca.certPath, p.certPath);
    assert.strictEqual(ca.keyPath, p.keyPath);
    assert.strictEqual(mode(store), 0o700);
    assert.strictEqual(mode(p.dir), 0o700);
    assert.strictEqual(mode(p.keyPath), 0o600);
    assert.strictEqual(fs.readFileSync(path.join(store, '.gitignore'), 'utf8').split('\n').filter(l => !l.startsWith('#') && l).join(' '), '*.key *.p12 *.pfx .*.tmp .*.tmp.* .mtls.lock');
    const leaf = await issueToStore(store, 'acme', { cn: 'Alice Example', key: 'ec-p256', sans: ['alice@example.com'] });
    assert.strictEqual(leaf.name, 'alice-example');
    assert.strictEqual(leaf.certPath, path.join(p.certsDir, 'alice-example.pem'));
    assert.strictEqual(leaf.keyPath, path.join(p.certsDir, 'alice-example.key'));
    assert.strictEqual(mode(p.certsDir), 0o700);
    assert.strictEqual(mode(leaf.keyPath!), 0o600);
    assert.strictEqual(leaf.caName, 'acme');
    // openssl reads the files as they are
    assert.match(opensslOk(['verify', '-CAfile', p.certPath, leaf.certPath]), /OK/);
    opensslOk(['pkey', '-in', leaf.keyPath!, '-noout']);
    const named = await issueToStore(store, 'acme', { cn: 'x', name: 'bob-laptop', key: 'ec-p256', profile: 'origin-pull' });
    assert.strictEqual(path.basename(named.certPath), 'bob-laptop.pem');
    // a removed .gitignore comes back on the next write, an edited one is left alone
    fs.unlinkSync(path.join(store, '.gitignore'));
    await issueToStore(store, 'acme', { cn: 'carol', key: 'ec-p256' });
    assert.match(fs.readFileSync(path.join(store, '.gitignore'), 'utf8'), /^\*\.key$/m);
    fs.writeFileSync(path.join(store, '.gitignore'), '*.key\n# mine\n');
    await issueToStore(store, 'acme', { cn: 'dave', key: 'ec-p256' });
    assert.strictEqual(fs.readFileSync(path.join(store, '.gitignore'), 'utf8'), '*.key\n# mine\n');
    const loaded = await loadCa(store, 'acme');
    assert.strictEqual(loaded.certPem, fs.readFileSync(p.certPath, 'utf8'));
  });

  it('never overwrites: an existing CA or certificate name fails before anything is written', async () => {
    await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
    await issueToStore(store, 'acme', { cn: 'alice', key: 'ec-p256' });
    const before = snapshot(store);
    await assert.rejects(createCa(store, 'acme', { cn: 'Other', key: 'ec-p256' }), (e: MtlsError) => e.code === 'exists' && /A CA named "acme" already exists/.test(e.message));
    await assert.rejects(issueToStore(store, 'acme', { cn: 'alice', key: 'ec-p256' }), (e: MtlsError) => e.code === 'exists' && /"alice" already exists/.test(e.message));
    // only the key exists (e.g. a half-copied pair): still refused
    fs.renameSync(path.join(store, 'acme/certs/alice.pem'), path.join(ws, 'moved.pem'));
    const before2 = snapshot(store);
    await assert.rejects(issueToStore(store, 'acme', { cn: 'alice', key: 'ec-p256' }), (e: MtlsError) => e.code === 'exists');
    assert.deepStrictEqual(snapshot(store), before2);
    fs.renameSync(path.join(ws, 'moved.pem'), path.join(store, 'acme/certs/alice.pem'));
    assert.deepStrictEqual(snapshot(store), before);
  });

  it('reports an unwritable store clearly and leaves existing files as they were', async () => {
    const file = write(path.join(ws, 'not-a-folder'), 'I am a file\n');
    const before = snapshot(ws);
    await assert.rejects(createCa(path.join(file, 'store'), 'acme', { cn: 'Acme', key: 'ec-p256' }), (e: MtlsError) => e.code === 'fs-unwritable' && e.message.includes(file));
    assert.deepStrictEqual(snapshot(ws), before);
    // a CA folder that is a file
    await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
    write(path.join(store, 'acme', 'certs'), 'blocking file');
    const before2 = snapshot(ws);
    await assert.rejects(issueToStore(store, 'acme', { cn: 'alice', key: 'ec-p256' }), (e: MtlsError) => e.code === 'fs-unwritable' && /certs/.test(e.message));
    assert.deepStrictEqual(snapshot(ws), before2);
  });

  it('refuses names that are not plain file names', async () => {
    for (const bad of ['../evil', 'a/b', '.hidden', '', 'x.pem', 'with space']) {
      await assert.rejects(createCa(store, bad, { cn: 'x', key: 'ec-p256' }), (e: MtlsError) => e.code === 'bad-name', bad);
    }
    assert.ok(!fs.existsSync(store));
  });

  it('names the known CAs when a CA is missing, and says when a CA has no key', async () => {
    await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
    await assert.rejects(issueToStore(store, 'nope', { cn: 'x' }), (e: MtlsError) => e.code === 'not-found' && /Known CAs: acme/.test(e.describe()));
    fs.renameSync(path.join(store, 'acme/ca.key'), path.join(ws, 'ca.key'));
    await assert.rejects(issueToStore(store, 'acme', { cn: 'x' }), (e: MtlsError) => e.code === 'no-ca-key');
    // a key that is not the CA's key
    const other = await createRootCa({ cn: 'Other', key: 'ec-p256' });
    write(path.join(store, 'acme/ca.key'), other.keyPem);
    await assert.rejects(issueToStore(store, 'acme', { cn: 'x' }), (e: MtlsError) => e.code === 'key-mismatch' && /does not match/.test(e.message));
  });

  it('places a certificate under a CA only where openssl would chain it: a key identifier that names another key rules the CA out', async () => {
    // One key, two CA certificates with the same name: the store's (SKI = hash of the key) and a twin that
    // claims another SKI. A leaf signed through the twin carries that SKI as its AKI: the signature and the
    // issuer name fit the store's CA, the key identifiers do not, and openssl refuses the chain.
    const dir = tmpDir('mtls-akid-');
    try {
      const key = path.join(dir, 'ca.key');
      opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
      const caExt = write(path.join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
      const twinExt = write(path.join(dir, 'twin.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14\n');
      const caPem = path.join(store, 'twin/ca.pem');
      fs.mkdirSync(path.dirname(caPem), { recursive: true });
      opensslOk(['req', '-x509', '-new', '-key', key, '-sha256', '-days', '30', '-subj', '/CN=Twin CA', '-extensions', 'v3', '-config', write(path.join(dir, 'ca.cnf'), `[req]\ndistinguished_name=dn\n[dn]\n[v3]\n${fs.readFileSync(caExt, 'utf8')}`), '-out', caPem]);
      const twinPem = path.join(dir, 'twin.pem');
      opensslOk(['req', '-x509', '-new', '-key', key, '-sha256', '-days', '30', '-subj', '/CN=Twin CA', '-extensions', 'v3', '-config', write(path.join(dir, 'twin.cnf'), `[req]\ndistinguished_name=dn\n[dn]\n[v3]\n${fs.readFileSync(twinExt, 'utf8')}`), '-out', twinPem]);
      const leafExt = write(path.join(dir, 'leaf.ext'), 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\nauthorityKeyIdentifier=keyid\n');
      const sign = (issuer: string, name: string) => {
        const leafKey = path.join(dir, `${name}.key`);
        const csr = path.join(dir, `${name}.csr`);
        opensslOk(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', leafKey, '-subj', `/CN=${name}`, '-out', csr]);
        const out = path.join(store, `misc/${name}.pem`);
        fs.mkdirSync(path.dirname(out), { recursive: true });
        opensslOk(['x509', '-req', '-in', csr, '-CA', issuer, '-CAkey', key, '-CAcreateserial', '-days', '10', '-sha256', '-extfile', leafExt, '-out', out]);
        return out;
      };
      const good = sign(caPem, 'matching-akid');
      const bad = sign(twinPem, 'foreign-akid');
      assert.match(opensslOk(['verify', '-CAfile', caPem, good]), /OK/);
      assert.notStrictEqual(openssl(['verify', '-CAfile', caPem, bad]).status, 0, 'openssl refuses the chain whose AKI names another key');
      const tree = await listStore(store);
      const twin = tree.cas.find(c => c.name === 'twin');
      assert.ok(twin, 'the CA is listed');
      assert.deepStrictEqual(twin.certs.map(c => c.name), ['matching-akid']);
      assert.deepStrictEqual(tree.orphans.map(o => o.name), ['foreign-akid']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds the tree by signature: dropped PEMs appear under the CA that signed them, garbage is a problem', async () => {
    await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
    await createCa(store, 'beta', { cn: 'Beta', key: 'ec-p256' });
    await issueToStore(store, 'acme', { cn: 'alice', key: 'ec-p256' });
    // a certificate signed by beta but dropped into acme's folder, under another name and as DER
    const beta = await loadCa(store, 'beta');
    const stray = await issueCertificate(beta, { cn: 'stray', key: 'ec-p256' });
    write(path.join(store, 'acme/certs/dropped.crt'), new crypto.X509Certificate(stray.certPem).raw);
    // a certificate from a CA outside the store
    const outside = await createRootCa({ cn: 'Outside', key: 'ec-p256' });
    write(path.join(store, 'misc/orphan.pem'), (await issueCertificate(outside, { cn: 'orphan', key: 'ec-p256' })).certPem);
    // garbage and a key saved as .pem
    write(path.join(store, 'misc/broken.pem'), '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n');
    write(path.join(store, 'misc/key-only.pem'), stray.keyPem);
    const tree = await listStore(store);
    assert.strictEqual(tree.exists, true);
    assert.deepStrictEqual(tree.cas.map(c => c.name), ['acme', 'beta']);
    const [acme, betaCa] = tree.cas;
    assert.deepStrictEqual(acme.certs.map(c => c.name), ['alice']);
    assert.deepStrictEqual(betaCa.certs.map(c => c.name), ['dropped']);
    assert.strictEqual(betaCa.certs[0].issuerPath, betaCa.certPath);
    assert.strictEqual(betaCa.certs[0].keyPath, undefined);
    assert.strictEqual(acme.certs[0].keyPath, path.join(store, 'acme/certs/alice.key'));
    assert.strictEqual(acme.keyPath, path.join(store, 'acme/ca.key'));
    assert.deepStrictEqual(tree.orphans.map(o => o.name), ['orphan']);
    assert.deepStrictEqual(tree.problems.map(p => path.basename(p.path)), ['broken.pem']);
    assert.match(tree.problems[0].message, /broken\.pem is not a valid PEM file/);
    // no store yet
    const empty = await listStore(path.join(ws, 'none'));
    assert.deepStrictEqual([empty.exists, empty.cas.length, empty.problems.length], [false, 0, 0]);
  });

  it('shows a subordinate CA under its parent', async () => {
    const root = await createRootCa({ cn: 'Root', key: 'ec-p256' });
    // openssl makes an intermediate signed by our root
    const d = path.join(store, 'inter');
    write(path.join(store, 'root/ca.pem'), root.certPem);
    write(path.join(store, 'root/ca.key'), root.keyPem);
    fs.mkdirSync(d, { recursive: true });
    opensslOk(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(d, 'ca.key'), '-out', path.join(ws, 'inter.csr'), '-subj', '/CN=Intermediate']);
    write(path.join(ws, 'ext.cnf'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
    opensslOk(['x509', '-req', '-in', path.join(ws, 'inter.csr'), '-CA', path.join(store, 'root/ca.pem'), '-CAkey', path.join(store, 'root/ca.key'), '-CAcreateserial', '-out', path.join(d, 'ca.pem'), '-days', '30', '-extfile', path.join(ws, 'ext.cnf')]);
    await issueToStore(store, 'inter', { cn: 'leaf', key: 'ec-p256' });
    const tree = await listStore(store);
    const rootCa = tree.cas.find(c => c.name === 'root')!;
    const inter = tree.cas.find(c => c.name === 'inter')!;
    assert.deepStrictEqual(rootCa.certs.map(c => c.certPath), [inter.certPath]);
    assert.strictEqual(inter.issuerPath, rootCa.certPath);
    assert.deepStrictEqual(inter.certs.map(c => c.name), ['leaf']);
  });

  it('keeps origin-pull certificates in their own folder, so the tree and a renewal know their profile', async () => {
    await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
    const pull = await issueToStore(store, 'acme', { cn: 'origin-pull.example.com', profile: 'origin-pull', key: 'ec-p256' });
    const client = await issueToStore(store, 'acme', { cn: 'alice', key: 'ec-p256' });
    assert.strictEqual(pull.certPath, path.join(caPaths(store, 'acme').originPullDir, 'origin-pull.example.com.pem'));
    assert.strictEqual(pull.info.profile, 'origin-pull');
    assert.deepStrictEqual(pull.info.extKeyUsage, ['clientAuth']);
    assert.strictEqual(pull.info.isCa, false);
    assert.strictEqual(mode(pull.keyPath!), 0o600);
    const profiles = (await listStore(store)).cas[0].certs.map(c => `${c.name}:${c.info.profile}`).sort();
    assert.deepStrictEqual(profiles, ['alice:client', 'origin-pull.example.com:origin-pull']);
    assert.strictEqual(client.info.profile, 'client');
    const renewed = await renewCertificate(store, pull.certPath);
    assert.strictEqual(renewed.renewed.certPath, pull.certPath);
    assert.strictEqual(renewed.renewed.info.profile, 'origin-pull');
  });

  it('renews with a new key and serial and archives the previous pair', async () => {
    await createCa(store, 'acme', { cn: 'Acme', key: 'rsa2048' });
    const old = await issueToStore(store, 'acme', { cn: 'srv.example.com', org: 'Acme', profile: 'server', key: 'ec-p256', days: 30, sans: ['srv.example.com', '192.0.2.1'] });
    const oldCert = fs.readFileSync(old.certPath, 'utf8');
    const oldKey = fs.readFileSync(old.keyPath!, 'utf8');
    const r = await renewCertificate(store, old.certPath);
    const info = r.renewed.info;
    assert.strictEqual(r.renewed.certPath, old.certPath);
    assert.notStrictEqual(info.serial, old.info.serial);
    assert.strictEqual(info.subject, old.info.subject);
    assert.deepStrictEqual(info.sans, old.info.sans);
    assert.deepStrictEqual(info.extKeyUsage, ['serverAuth']);
    assert.strictEqual(info.curve, 'P-256');
    assert.strictEqual(info.daysLeft, 29);
    assert.notStrictEqual(fs.readFileSync(old.keyPath!, 'utf8'), oldKey);
    assert.strictEqual(mode(old.keyPath!), 0o600);
    assert.deepStrictEqual(r.archived.map(a => fs.readFileSync(a, 'utf8')), [oldCert, oldKey]);
    assert.ok(r.archived.every(a => a.startsWith(path.join(store, 'acme/archive') + path.sep)));
    const tree = await listStore(store);
    const names = tree.cas[0].certs.map(c => `${c.name}${c.archived ? ' (archived)' : ''}`);
    assert.deepStrictEqual(names, ['srv.example.com', `srv.example.com.${old.info.serial.toLowerCase()} (archived)`]);
    assert.match(opensslOk(['verify', '-CAfile', path.join(store, 'acme/ca.pem'), old.certPath]), /OK/);
  });

  it('revokes into a readable revoked.json and returns the Cloudflare expression for all revoked certificates', async () => {
    await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
    const a = await issueToStore(store, 'acme', { cn: 'alice', key: 'ec-p256' });
    const b = await issueToStore(store, 'acme', { cn: 'bob', key: 'ec-p256' });
    assert.strictEqual(await caRevocationExpression(path.join(store, 'acme')), undefined);
    const r1 = await revokeCertificate(store, a.certPath, 'key compromise');
    assert.strictEqual(r1.expression, `cf.tls_client_auth.cert_fingerprint_sha256 in {"${a.info.sha256}"}`);
    const r2 = await revokeCertificate(store, b.certPath, 'left the company');
    assert.strictEqual(r2.expression, `cf.tls_client_auth.cert_fingerprint_sha256 in {"${a.info.sha256}" "${b.info.sha256}"}`);
    const again = await revokeCertificate(store, a.certPath, 'twice');
    assert.strictEqual(again.record.reason, 'key compromise', 'revoking twice keeps the first record');
    assert.deepStrictEqual([r1.alreadyRevoked, r2.alreadyRevoked, again.alreadyRevoked], [false, false, true]);
    const doc = JSON.parse(fs.readFileSync(path.join(store, 'acme/revoked.json'), 'utf8'));
    assert.strictEqual(doc.revoked.length, 2);
    assert.deepStrictEqual(Object.keys(doc.revoked[0]).sort(), ['file', 'reason', 'revokedAt', 'serial', 'sha256', 'subject']);
    assert.strictEqual(doc.revoked[0].file, 'certs/alice.pem');
    assert.strictEqual(doc.expression, r2.expression);
    assert.strictEqual((await readRevocations(path.join(store, 'acme'))).length, 2);
    assert.strictEqual(await caRevocationExpression(path.join(store, 'acme')), r2.expression);
    const tree = await listStore(store);
    assert.deepStrictEqual(tree.cas[0].certs.map(c => c.revoked?.reason), ['key compromise', 'left the company']);
    assert.throws(() => revocationExpression(['xyz']), (e: MtlsError) => e.code === 'bad-option');
    assert.strictEqual(revocationExpression(['AB:'.repeat(31) + 'AB']), `cf.tls_client_auth.cert_fingerprint_sha256 in {"${'ab'.repeat(32)}"}`);
    // a certificate no CA of the store signed
    const outside = write(path.join(store, 'x/out.pem'), (await issueCertificate(await createRootCa({ cn: 'O', key: 'ec-p256' }), { cn: 'o', key: 'ec-p256' })).certPem);
    await assert.rejects(revokeCertificate(store, outside, 'x'), (e: MtlsError) => e.code === 'not-found' && /No CA in the store/.test(e.message));
  });

  it('deletes a certificate and its key, and nothing outside the store', async () => {
    await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
    const a = await issueToStore(store, 'acme', { cn: 'alice', key: 'ec-p256' });
    const removed = await deleteCertificate(store, a.certPath);
    assert.deepStrictEqual(removed, [a.certPath, a.keyPath]);
    assert.ok(!fs.existsSync(a.certPath) && !fs.existsSync(a.keyPath!));
    const outside = write(path.join(ws, 'keep.pem'), 'x');
    await assert.rejects(deleteCertificate(store, outside), (e: MtlsError) => e.code === 'bad-option' && /not in the store/.test(e.message));
    await assert.rejects(deleteCertificate(store, path.join(store, '.gitignore')), (e: MtlsError) => e.code === 'bad-option');
    assert.ok(fs.existsSync(outside));
  });

  it('imports a CA with its key, a leaf under the CA that signed it, and refuses a key that does not match', async () => {
    const ext = await createRootCa({ cn: 'External Root', key: 'ec-p256' });
    const leaf = await issueCertificate(ext, { cn: 'ext-leaf', key: 'ec-p256' });
    const caDer = new crypto.X509Certificate(ext.certPem).raw;
    const before = snapshot(ws);
    await assert.rejects(importToStore(store, { cert: caDer, key: leaf.keyPem, certSource: 'root.der', keySource: 'wrong.key' }), (e: MtlsError) => e.code === 'key-mismatch' && /The key wrong\.key does not match the certificate root\.der/.test(e.message));
    assert.deepStrictEqual(snapshot(ws), before);
    const imported = await importToStore(store, { cert: caDer, key: ext.keyPem, name: 'external' });
    assert.strictEqual(imported.certPath, path.join(store, 'external/ca.pem'));
    assert.strictEqual(mode(imported.keyPath!), 0o600);
    const l = await importToStore(store, { cert: leaf.certPem + leaf.keyPem });
    assert.strictEqual(l.certPath, path.join(store, 'external/certs/ext-leaf.pem'));
    assert.strictEqual(l.keyPath, path.join(store, 'external/certs/ext-leaf.key'));
    await assert.rejects(importToStore(store, { cert: leaf.certPem }), (e: MtlsError) => e.code === 'exists');
    // the imported CA signs
    const issued = await issueToStore(store, 'external', { cn: 'new', key: 'ec-p256' });
    assert.strictEqual(inspectCertificate(issued.certPath ? fs.readFileSync(issued.certPath) : '').issuer, 'CN=External Root');
    // a certificate without its CA in the store goes to imported/
    const stranger = await issueCertificate(await createRootCa({ cn: 'S', key: 'ec-p256' }), { cn: 'stranger', key: 'ec-p256' });
    const s = await importToStore(store, { cert: stranger.certPem });
    assert.strictEqual(s.certPath, path.join(store, 'imported/stranger.pem'));
    assert.strictEqual(s.keyPath, undefined);
  });

  it('signs a CSR into the store without a key', async () => {
    await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
    opensslOk(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(ws, 'r.key'), '-out', path.join(ws, 'r.csr'), '-subj', '/CN=Requested Device']);
    const s = await signCsrToStore(store, 'acme', fs.readFileSync(path.join(ws, 'r.csr')));
    assert.strictEqual(s.certPath, path.join(store, 'acme/certs/requested-device.pem'));
    assert.strictEqual(s.keyPath, undefined);
    assert.ok(!fs.existsSync(path.join(store, 'acme/certs/requested-device.key')));
    assert.strictEqual(openssl(['verify', '-CAfile', path.join(store, 'acme/ca.pem'), s.certPath]).status, 0);
  });

  it('finds keys that git tracks', async () => {
    assert.deepStrictEqual(await trackedKeys(store), [], 'no store, no repository');
    await createCa(store, 'acme', { cn: 'Acme', key: 'ec-p256' });
    assert.deepStrictEqual(await trackedKeys(store), [], 'not a repository');
    const git = (...args: string[]) => { const r = run('git', args, { cwd: ws }); assert.strictEqual(r.status, 0, r.stderr); };
    git('init', '-q');
    git('add', '.');
    assert.deepStrictEqual(await trackedKeys(store), [], 'the .gitignore keeps keys out');
    git('add', '-f', '.mtls/acme/ca.key');
    assert.deepStrictEqual(await trackedKeys(store), [path.join(store, 'acme/ca.key')]);
  });
});
