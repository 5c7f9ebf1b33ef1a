// A large cold scan of the store: the helper thread reads, parses and checks signatures beside the scanning
// thread, and the tree it gives is the tree one thread gives, which is where openssl chains each certificate.
import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { createCa, createRootCa, issueCertificate, listStore, loadCa } from '../../../src/core/pki';
import type { StoreEntry, StoreTree } from '../../../src/core/pki';
import { ScanHelper, THREAD_THRESHOLD } from '../../../src/core/pki/scan';
import { colonHex } from '../../../src/core/pki/x509';
import { pemIfCanonical, toPem } from '../../../src/core/pki/pem';
import { TAG, readTime, readTlv, time } from '../../../src/core/pki/der';
import { openssl, opensslOk, tmpDir, write } from './helpers';

/** The tree with paths relative to its root and without what differs between two stores built alike (keys, fingerprints). */
function portable(tree: StoreTree): unknown {
  const rel = (p?: string) => (p ? path.relative(tree.root, p) : p);
  const entry = (e: StoreEntry) => ({ name: e.name, cert: rel(e.certPath), key: rel(e.keyPath), issuer: rel(e.issuerPath), subject: e.info.subject, revoked: !!e.revoked });
  return {
    cas: tree.cas.map(ca => ({ ...entry(ca), certs: ca.certs.map(entry) })),
    orphans: tree.orphans.map(entry).sort((a, b) => a.cert!.localeCompare(b.cert!)),
    problems: tree.problems.map(p => [rel(p.path), p.message.split(tree.root).join('<store>')]).sort(),
  };
}

describe('pki: scanning a large store with a helper thread', function () {
  this.timeout(120000);
  let work: string;
  before(() => { work = tmpDir('mtls-scan-'); });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  /**
   * A store with enough files for a helper thread: an EC CA with copies of its leaves, an RSA CA whose file is
   * not named ca.pem (found only at the end), a DER copy, a certificate whose signature was tampered with
   * (right issuer name and key identifier), garbage and a key saved as .pem. Fresh keys each time, so
   * nothing one scan learnt can serve another.
   */
  async function buildStore(store: string, key: 'ec-p256' | 'rsa2048' = 'ec-p256', files = THREAD_THRESHOLD + 100): Promise<{ copies: number; forged: string }> {
    await createCa(store, 'acme', { cn: 'Acme Root', key });
    const acme = await loadCa(store, 'acme');
    const beta = await createRootCa({ cn: 'Beta Root', key: 'rsa2048' });
    write(path.join(store, 'zz-beta/root.pem'), beta.certPem);
    const leaves = await Promise.all(Array.from({ length: 24 }, (_, i) => issueCertificate(acme, { cn: `user-${i}`, key: 'ec-p256' })));
    const betaLeaves = await Promise.all(Array.from({ length: 4 }, (_, i) => issueCertificate(beta, { cn: `beta-${i}`, key: 'ec-p256' })));
    let copies = 0;
    for (; copies < files; copies++) write(path.join(store, `acme/certs/u${String(copies).padStart(4, '0')}.pem`), leaves[copies % leaves.length].certPem);
    betaLeaves.forEach((l, i) => write(path.join(store, `aa-beta-leaves/b${i}.pem`), l.certPem));
    write(path.join(store, 'acme/certs/der-copy.der'), new crypto.X509Certificate(leaves[0].certPem).raw);
    const forgedDer = Buffer.from(new crypto.X509Certificate(leaves[1].certPem).raw);
    forgedDer[forgedDer.length - 2] ^= 0x01;
    const forged = write(path.join(store, 'acme/certs/forged.pem'), toPem('CERTIFICATE', forgedDer));
    write(path.join(store, 'misc/broken.pem'), '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n');
    write(path.join(store, 'misc/key.pem'), leaves[0].keyPem);
    return { copies, forged };
  }

  it('gives the tree one thread gives, placing by signature as openssl does, forged and late-found CAs included', async () => {
    const store = path.join(work, 'one');
    const { copies, forged } = await buildStore(store);
    assert.notStrictEqual(openssl(['verify', '-CAfile', path.join(store, 'acme/ca.pem'), forged]).status, 0, 'openssl refuses the tampered certificate');
    assert.match(opensslOk(['verify', '-CAfile', path.join(store, 'acme/ca.pem'), path.join(store, 'acme/certs/u0000.pem')]), /OK/);
    const alone = await listStore(store, { threads: 0 });

    const other = path.join(work, 'two');
    await buildStore(other);
    // Shares of signature checks posted to the helper thread are counted.
    const proto = ScanHelper.prototype as unknown as { send: (...a: unknown[]) => void };
    const send = proto.send;
    let posted = 0;
    proto.send = function (this: unknown, ...a: unknown[]) { posted++; return send.apply(this, a); };
    let threaded: StoreTree;
    try {
      threaded = await listStore(other, { threads: 1 });
    } finally {
      proto.send = send;
    }
    assert.ok(posted > 0, 'signature checks went to the helper thread');

    assert.deepStrictEqual(portable(threaded), portable(alone));
    const [acmeCa, betaCa] = alone.cas;
    assert.deepStrictEqual(alone.cas.map(c => c.name), ['acme', 'root']);
    assert.strictEqual(acmeCa.certs.length, copies + 1, 'every copy and the DER file are under acme');
    assert.deepStrictEqual(betaCa.certs.map(c => c.name), ['b0', 'b1', 'b2', 'b3']);
    assert.deepStrictEqual(alone.orphans.map(o => o.name), ['forged']);
    assert.deepStrictEqual(alone.problems.map(p => path.basename(p.path)), ['broken.pem']);
  });

  it('lets the helper read shares of files when it has nothing to check (cheap RSA signatures), with the same tree', async () => {
    const store = path.join(work, 'rsa-one');
    await buildStore(store, 'rsa2048', 3000);
    const alone = await listStore(store, { threads: 0 });
    const other = path.join(work, 'rsa-two');
    await buildStore(other, 'rsa2048', 3000);
    const proto = ScanHelper.prototype as unknown as { scan: (...a: unknown[]) => unknown };
    const scan = proto.scan;
    let read = 0;
    proto.scan = function (this: unknown, ...a: unknown[]) { const r = scan.apply(this, a); if (r) read++; return r; };
    let threaded: StoreTree;
    try {
      threaded = await listStore(other, { threads: 1 });
    } finally {
      proto.scan = scan;
    }
    assert.ok(read > 0, 'the helper thread read shares of files');
    assert.deepStrictEqual(portable(threaded), portable(alone));
    assert.deepStrictEqual(alone.orphans.map(o => o.name), ['forged']);
    assert.strictEqual(alone.cas[0].certs.length, 3001);
  });

  it('reads the fields a scan needs by the fast paths exactly as the general ones do', () => {
    // Times: the digit-by-digit reader and the pattern agree, and what is not digits still fails.
    for (const d of [new Date(Date.UTC(1999, 11, 31, 23, 59, 59)), new Date(Date.UTC(2049, 0, 1)), new Date(Date.UTC(2050, 5, 15, 12, 30, 5)), new Date(Date.UTC(2199, 1, 28))]) {
      const enc = time(d);
      assert.strictEqual(readTime(enc, readTlv(enc, 0)).toISOString(), d.toISOString());
    }
    const bad = Buffer.from([TAG.UTC_TIME, 13, ...Buffer.from('99123a235959Z')]);
    assert.throws(() => readTime(bad, readTlv(bad, 0)), /unreadable time/);
    // Fingerprints: "AB:CD:…" from either case of hex.
    assert.strictEqual(colonHex('ab0fE1'), 'AB:0F:E1');
    assert.strictEqual(colonHex('00'), '00');
    // A PEM file is its own PEM only when it is exactly what toPem writes.
    for (const size of [1, 47, 48, 49, 300, 700]) {
      const der = crypto.randomBytes(size);
      const pem = toPem('CERTIFICATE', der);
      assert.strictEqual(pemIfCanonical(pem, 'CERTIFICATE', der), pem);
      assert.strictEqual(pemIfCanonical(pem.replace(/\n/g, '\r\n'), 'CERTIFICATE', der), undefined);
      assert.strictEqual(pemIfCanonical(pem + '\n', 'CERTIFICATE', der), undefined);
      assert.strictEqual(pemIfCanonical('# note\n' + pem.slice(7), 'CERTIFICATE', der), undefined);
    }
  });
});
