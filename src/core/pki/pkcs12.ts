// PKCS#12 (.p12/.pfx) bundles, laid out and read with the PKI core's ASN.1 module (der.ts; BER mode for files
// from Windows and Java), so that we choose every algorithm:
//   modern: key and certificates in PBES2 (PBKDF2-HMAC-SHA256 + AES-256-CBC), SHA-256 MAC: what OpenSSL 3
//           writes by default; opens with `openssl pkcs12` (no -legacy), Node's tls, current browsers.
//   legacy: key in pbeWithSHAAnd3-KeyTripleDES-CBC, certificates in pbeWithSHAAnd40BitRC2-CBC, SHA-1 MAC:
//           what OpenSSL 1.1 wrote and the macOS keychain / older Windows import (OpenSSL 3 needs -legacy).
// RSA and EC keys alike: the key bag carries Node's PKCS#8 PrivateKeyInfo as it is.
// Every cipher, KDF and MAC is Node's (OpenSSL), except RC2: OpenSSL 3 moved it to the legacy provider, which
// Node and Electron do not load, so legacy bundles (RC2-40 certificate bags, written and read) use forge's
// JavaScript RC2. That is the only use of node-forge, loaded on first use.
import * as crypto from 'crypto';
import { MtlsError } from '../errors';
import type { P12Flavor, Pkcs12Contents, Pkcs12Options } from './types';
import { parseCertificate, privateKeyObject, assertKeyMatches, toPem } from './pem';
import { forge } from './lib';
import * as D from './der';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSHA256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  pbeSha1TripleDes: '1.2.840.113549.1.12.1.3',
  pbeSha1Rc2_40: '1.2.840.113549.1.12.1.6',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
};

const PBKDF2_ITERATIONS = 10000;
const PKCS12_ITERATIONS = 2048; // OpenSSL's default for the PKCS#12 KDF (MAC, legacy PBE)

/** An ASN.1 element and the buffer it lives in. */
interface Asn1 { buf: Buffer; t: D.Tlv }

/** DER builders (der.ts) in the shape the writer below uses. */
function A() {
  return {
    seq: (v: Buffer[]) => D.seq(...v),
    set: (v: Buffer[]) => D.set(...v),
    oid: (o: string) => D.oid(o),
    int: (n: number) => D.int(n),
    octets: (b: Buffer) => D.octets(b),
    nul: () => D.nul(),
    bmp: (s: string) => D.bmp(s),
    ctx0: (v: Buffer[]) => D.explicit(0, Buffer.concat(v)),
    der: (x: Buffer) => x,
  };
}

/** The password as PKCS#12 wants it for its own KDF: BMPString (UTF-16BE) with a terminating NUL. */
function bmpPassword(password: string): Buffer {
  const out = Buffer.alloc((password.length + 1) * 2);
  for (let i = 0; i < password.length; i++) out.writeUInt16BE(password.charCodeAt(i), i * 2);
  return out;
}

/** The PKCS#12 KDF (RFC 7292 appendix B.2) with Node's native hashes. */
export function pkcs12Kdf(password: string, salt: Buffer, id: 1 | 2 | 3, iterations: number, n: number, md: string): Buffer {
  const u = crypto.createHash(md).digest().length;
  const v = md === 'sha384' || md === 'sha512' ? 128 : 64;
  const fill = (src: Buffer) => {
    if (src.length === 0) return Buffer.alloc(0);
    const len = v * Math.ceil(src.length / v);
    const out = Buffer.alloc(len);
    for (let i = 0; i < len; i++) out[i] = src[i % src.length];
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(bmpPassword(password))]);
  const blocks: Buffer[] = [];
  for (let produced = 0; produced < n; produced += u) {
    let A = crypto.createHash(md).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = crypto.createHash(md).update(A).digest();
    blocks.push(A);
    if (produced + u >= n) break;
    const B = Buffer.alloc(v);
    for (let i = 0; i < v; i++) B[i] = A[i % u];
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k] + B[k] + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, n);
}

/** Encrypts `plain`; returns the AlgorithmIdentifier and the ciphertext. */
function encrypt(plain: Buffer, password: string, scheme: 'pbes2' | '3des' | 'rc2-40'): { algId: Buffer; cipherText: Buffer } {
  const a = A();
  if (scheme === 'pbes2') {
    const salt = crypto.randomBytes(16);
    const iv = crypto.randomBytes(16);
    const key = crypto.pbkdf2Sync(Buffer.from(password, 'utf8'), salt, PBKDF2_ITERATIONS, 32, 'sha256');
    const c = crypto.createCipheriv('aes-256-cbc', key, iv);
    const cipherText = Buffer.concat([c.update(plain), c.final()]);
    const algId = a.seq([
      a.oid(OID.pbes2),
      a.seq([
        a.seq([a.oid(OID.pbkdf2), a.seq([a.octets(salt), a.int(PBKDF2_ITERATIONS), a.seq([a.oid(OID.hmacWithSHA256), a.nul()])])]),
        a.seq([a.oid(OID.aes256Cbc), a.octets(iv)]),
      ]),
    ]);
    return { algId, cipherText };
  }
  const salt = crypto.randomBytes(8);
  const params = a.seq([a.octets(salt), a.int(PKCS12_ITERATIONS)]);
  if (scheme === '3des') {
    const key = pkcs12Kdf(password, salt, 1, PKCS12_ITERATIONS, 24, 'sha1');
    const iv = pkcs12Kdf(password, salt, 2, PKCS12_ITERATIONS, 8, 'sha1');
    const c = crypto.createCipheriv('des-ede3-cbc', key, iv);
    return { algId: a.seq([a.oid(OID.pbeSha1TripleDes), params]), cipherText: Buffer.concat([c.update(plain), c.final()]) };
  }
  // RC2 with 40 effective key bits: not in OpenSSL 3's default provider, so forge's JavaScript RC2.
  const f = forge();
  const key = pkcs12Kdf(password, salt, 1, PKCS12_ITERATIONS, 5, 'sha1');
  const iv = pkcs12Kdf(password, salt, 2, PKCS12_ITERATIONS, 8, 'sha1');
  const cipher = f.rc2.createEncryptionCipher(f.util.createBuffer(key.toString('binary')), 40);
  cipher.start(f.util.createBuffer(iv.toString('binary')));
  cipher.update(f.util.createBuffer(plain.toString('binary')));
  cipher.finish();
  return { algId: a.seq([a.oid(OID.pbeSha1Rc2_40), params]), cipherText: Buffer.from(cipher.output.getBytes(), 'binary') };
}

/** A .p12 with key, certificate and chain. */
export async function exportPkcs12(options: Pkcs12Options): Promise<Buffer> {
  const flavor: P12Flavor = options.flavor ?? 'modern';
  if (flavor !== 'modern' && flavor !== 'legacy') throw new MtlsError('bad-option', `Unknown PKCS#12 flavour "${flavor}"; use modern or legacy.`);
  if (typeof options.password !== 'string' || options.password.length === 0) {
    throw new MtlsError('bad-option', 'A PKCS#12 file needs a non-empty password.', 'Browsers and the macOS keychain refuse bundles without one.');
  }
  const a = A();
  const certPem = parseCertificate(options.certPem, 'the certificate');
  const key = privateKeyObject(options.keyPem, 'the key');
  assertKeyMatches(certPem, options.keyPem);
  const leaf = new crypto.X509Certificate(certPem);
  const chain = (options.chainPems ?? []).map((p, i) => new crypto.X509Certificate(parseCertificate(p, `chain certificate ${i + 1}`)));
  const friendlyName = options.friendlyName ?? (/^CN=(.*)$/m.exec(leaf.subject)?.[1] ?? 'certificate');
  const localKeyId = crypto.createHash('sha1').update(leaf.raw).digest();
  const attrs = a.set([
    a.seq([a.oid(OID.friendlyName), a.set([a.bmp(friendlyName)])]),
    a.seq([a.oid(OID.localKeyId), a.set([a.octets(localKeyId)])]),
  ]);

  const certBag = (raw: Buffer, withAttrs: boolean) =>
    a.seq([
      a.oid(OID.certBag),
      a.ctx0([a.seq([a.oid(OID.x509Certificate), a.ctx0([a.octets(raw)])])]),
      ...(withAttrs ? [attrs] : []),
    ]);
  const certSafe = a.der(a.seq([certBag(leaf.raw, true), ...chain.map(c => certBag(c.raw, false))]));
  const certEnc = encrypt(certSafe, options.password, flavor === 'modern' ? 'pbes2' : 'rc2-40');
  const certCI = a.seq([
    a.oid(OID.encryptedData),
    a.ctx0([a.seq([a.int(0), a.seq([a.oid(OID.data), certEnc.algId, D.implicit(0, certEnc.cipherText)])])]),
  ]);

  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const keyEnc = encrypt(pkcs8, options.password, flavor === 'modern' ? 'pbes2' : '3des');
  const keyBag = a.seq([a.oid(OID.pkcs8ShroudedKeyBag), a.ctx0([a.seq([keyEnc.algId, a.octets(keyEnc.cipherText)])]), attrs]);
  const keyCI = a.seq([a.oid(OID.data), a.ctx0([a.octets(a.der(a.seq([keyBag])))])]);

  const authSafe = a.der(a.seq([certCI, keyCI]));
  const macMd = flavor === 'modern' ? 'sha256' : 'sha1';
  const macSalt = crypto.randomBytes(flavor === 'modern' ? 16 : 8);
  const macKey = pkcs12Kdf(options.password, macSalt, 3, PKCS12_ITERATIONS, macMd === 'sha256' ? 32 : 20, macMd);
  const mac = crypto.createHmac(macMd, macKey).update(authSafe).digest();
  const pfx = a.seq([
    a.int(3),
    a.seq([a.oid(OID.data), a.ctx0([a.octets(authSafe)])]),
    a.seq([a.seq([a.seq([a.oid(macMd === 'sha256' ? OID.sha256 : OID.sha1), a.nul()]), a.octets(mac)]), a.octets(macSalt), a.int(PKCS12_ITERATIONS)]),
  ]);
  return a.der(pfx);
}


const PBE_PKCS12: Record<string, { cipher: string; keyLen: number; ivLen: number; rc2Bits?: number }> = {
  '1.2.840.113549.1.12.1.3': { cipher: 'des-ede3-cbc', keyLen: 24, ivLen: 8 },
  '1.2.840.113549.1.12.1.4': { cipher: 'des-ede-cbc', keyLen: 16, ivLen: 8 },
  '1.2.840.113549.1.12.1.5': { cipher: 'rc2', keyLen: 16, ivLen: 8, rc2Bits: 128 },
  '1.2.840.113549.1.12.1.6': { cipher: 'rc2', keyLen: 5, ivLen: 8, rc2Bits: 40 },
};
const PBES2_CIPHERS: Record<string, { cipher: string; keyLen: number }> = {
  '2.16.840.1.101.3.4.1.2': { cipher: 'aes-128-cbc', keyLen: 16 },
  '2.16.840.1.101.3.4.1.22': { cipher: 'aes-192-cbc', keyLen: 24 },
  '2.16.840.1.101.3.4.1.42': { cipher: 'aes-256-cbc', keyLen: 32 },
  '1.2.840.113549.3.7': { cipher: 'des-ede3-cbc', keyLen: 24 },
};
const PRF_HASHES: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1', '1.2.840.113549.2.8': 'sha224', '1.2.840.113549.2.9': 'sha256', '1.2.840.113549.2.10': 'sha384', '1.2.840.113549.2.11': 'sha512',
};
const DIGESTS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1', '2.16.840.1.101.3.4.2.4': 'sha224', '2.16.840.1.101.3.4.2.1': 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512',
};

class WrongPassword extends Error {}

/** A small reader over der.ts (BER mode) that fails with "not a PKCS#12 file" on any surprise. */
function reader() {
  const kids = (n: Asn1 | undefined, min = 0): Asn1[] => {
    if (!n || !(n.t.tag & 0x20)) throw new Error('unexpected ASN.1 structure');
    const out = D.children(n.buf, n.t).map(t => ({ buf: n.buf, t }));
    if (out.length < min) throw new Error('unexpected ASN.1 structure');
    return out;
  };
  const oid = (n: Asn1 | undefined): string => {
    if (!n) throw new Error('expected an OID');
    return D.readOid(n.buf, n.t);
  };
  /** OCTET STRING content, primitive or constructed (BER, as Windows writes it). */
  const octets = (n: Asn1 | undefined): Buffer => {
    if (!n) throw new Error('expected an OCTET STRING');
    return D.octetsOf(n.buf, n.t);
  };
  const int = (n: Asn1 | undefined): number => (n ? parseInt(D.readIntHex(n.buf, n.t), 16) : 1);
  const parse = (b: Buffer): Asn1 => ({ buf: b, t: D.readTlv(b, 0, true) });
  const text = (n: Asn1): string => D.readString(n.buf, n.t);
  return { kids, oid, octets, int, parse, text };
}

function decrypt(algId: Asn1, cipherText: Buffer, password: string): Buffer {
  const r = reader();
  const [algOid, params] = r.kids(algId, 1);
  const alg = r.oid(algOid);
  let plain: Buffer;
  try {
    if (alg === OID.pbes2) {
      const [kdf, enc] = r.kids(params, 2);
      const [kdfOid, kdfParams] = r.kids(kdf, 2);
      if (r.oid(kdfOid) !== OID.pbkdf2) throw new MtlsError('p12-format', 'The PKCS#12 file uses a key derivation other than PBKDF2.');
      const kp = r.kids(kdfParams, 2);
      const salt = r.octets(kp[0]);
      const iterations = r.int(kp[1]);
      const prfNode = kp.find((k, i) => i >= 2 && (k.t.tag & 0x20) !== 0);
      const prf = prfNode ? PRF_HASHES[r.oid(r.kids(prfNode, 1)[0])] : 'sha1';
      const [encOid, ivNode] = r.kids(enc, 2);
      const c = PBES2_CIPHERS[r.oid(encOid)];
      if (!c || !prf) throw new MtlsError('p12-format', 'The PKCS#12 file uses an encryption this tool does not read.');
      const key = crypto.pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, c.keyLen, prf);
      const d = crypto.createDecipheriv(c.cipher, key, r.octets(ivNode));
      try {
        plain = Buffer.concat([d.update(cipherText), d.final()]);
      } catch {
        throw new WrongPassword();
      }
    } else if (PBE_PKCS12[alg]) {
      const c = PBE_PKCS12[alg];
      const [saltNode, iterNode] = r.kids(params, 2);
      const salt = r.octets(saltNode);
      const iterations = r.int(iterNode);
      const key = pkcs12Kdf(password, salt, 1, iterations, c.keyLen, 'sha1');
      const iv = pkcs12Kdf(password, salt, 2, iterations, c.ivLen, 'sha1');
      if (c.cipher === 'rc2') {
        const f = forge();
        const cipher = f.rc2.createDecryptionCipher(f.util.createBuffer(key.toString('binary')), c.rc2Bits);
        cipher.start(f.util.createBuffer(iv.toString('binary')));
        cipher.update(f.util.createBuffer(cipherText.toString('binary')));
        if (!cipher.finish()) throw new WrongPassword();
        plain = Buffer.from(cipher.output.getBytes(), 'binary');
      } else {
        const d = crypto.createDecipheriv(c.cipher, key, iv);
        try {
          plain = Buffer.concat([d.update(cipherText), d.final()]);
        } catch {
          throw new WrongPassword();
        }
      }
    } else {
      throw new MtlsError('p12-format', `The PKCS#12 file uses an encryption this tool does not read (${alg}).`);
    }
  } catch (err) {
    if (err instanceof WrongPassword || err instanceof MtlsError) throw err;
    throw new MtlsError('p12-format', `The PKCS#12 file cannot be decrypted (${(err as Error).message}).`, undefined, { cause: err });
  }
  return plain;
}

/** Opens a .p12 (modern or legacy, RSA or EC; OpenSSL-, Windows- and macOS-written files). */
export function readPkcs12(data: Uint8Array, password: string): Pkcs12Contents {
  const r = reader();
  const buf = Buffer.from(data);
  const certs: { der: Buffer; friendlyName?: string }[] = [];
  const keys: Buffer[] = [];
  let macChecked = false;
  try {
    const pfx = r.kids(r.parse(buf), 2);
    if (r.int(pfx[0]) !== 3) throw new Error('PFX version is not 3');
    const [ctOid, ctContent] = r.kids(pfx[1], 2);
    if (r.oid(ctOid) !== OID.data) throw new MtlsError('p12-format', 'The PKCS#12 file is signed with a public key (not password-protected); not supported.');
    const authSafe = r.octets(r.kids(ctContent, 1)[0]);
    if (pfx[2]) {
      const [digestInfo, saltNode, iterNode] = r.kids(pfx[2], 2);
      const [digAlg, digest] = r.kids(digestInfo, 2);
      const md = DIGESTS[r.oid(r.kids(digAlg, 1)[0])];
      if (!md) throw new MtlsError('p12-format', 'The PKCS#12 file uses a MAC digest this tool does not read.');
      const expected = r.octets(digest);
      const macKey = pkcs12Kdf(password, r.octets(saltNode), 3, r.int(iterNode), expected.length, md);
      const mac = crypto.createHmac(md, macKey).update(authSafe).digest();
      if (mac.length !== expected.length || !crypto.timingSafeEqual(mac, expected)) throw new WrongPassword();
      macChecked = true;
    }
    for (const ci of r.kids(r.parse(authSafe))) {
      const [type, content] = r.kids(ci, 1);
      const t = r.oid(type);
      let safe: Buffer;
      if (t === OID.data) {
        safe = r.octets(r.kids(content, 1)[0]);
      } else if (t === OID.encryptedData) {
        const ed = r.kids(r.kids(content, 1)[0], 2);
        const eci = r.kids(ed[1], 2);
        const encNode = eci[2];
        if (!encNode) continue;
        // [0] IMPLICIT OCTET STRING: primitive (bytes) or constructed (chunks)
        const cipherText = r.octets(encNode);
        safe = decrypt(eci[1], cipherText, password);
      } else {
        continue; // enveloped data etc.: not for us
      }
      for (const bag of r.kids(r.parse(safe))) {
        const [bagId, bagValue, bagAttrs] = r.kids(bag, 2);
        const id = r.oid(bagId);
        let friendlyName: string | undefined;
        for (const attr of bagAttrs ? r.kids(bagAttrs) : []) {
          const [attrOid, values] = r.kids(attr, 2);
          if (r.oid(attrOid) === OID.friendlyName) friendlyName = r.text(r.kids(values, 1)[0]);
        }
        const inner = r.kids(bagValue, 1)[0];
        if (id === OID.certBag) {
          const [certType, certValue] = r.kids(inner, 2);
          if (r.oid(certType) === OID.x509Certificate) certs.push({ der: r.octets(r.kids(certValue, 1)[0]), friendlyName });
        } else if (id === OID.pkcs8ShroudedKeyBag) {
          const [algId, enc] = r.kids(inner, 2);
          keys.push(decrypt(algId, r.octets(enc), password));
        } else if (id === '1.2.840.113549.1.12.10.1.1') {
          keys.push(Buffer.from(D.whole(inner.buf, inner.t)));
        }
      }
    }
  } catch (err) {
    if (err instanceof WrongPassword) {
      throw new MtlsError('p12-password', 'The PKCS#12 password is wrong' + (macChecked ? ' (the file\'s key could not be decrypted with it).' : ' (the file\'s integrity check failed with it).'), 'Type the password that was given when the file was exported.');
    }
    if (err instanceof MtlsError) throw err;
    throw new MtlsError('p12-format', `This is not a readable PKCS#12 file (${(err as Error).message}).`, undefined, { cause: err });
  }
  if (keys.length === 0) throw new MtlsError('p12-format', 'The PKCS#12 file holds no private key.');
  if (certs.length === 0) throw new MtlsError('p12-format', 'The PKCS#12 file holds no certificate.');
  let keyObj: crypto.KeyObject;
  try {
    keyObj = crypto.createPrivateKey({ key: keys[0], format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new MtlsError('p12-format', `The private key in the PKCS#12 file cannot be read (${(err as Error).message}).`, undefined, { cause: err });
  }
  const keyPem = keyObj.export({ type: 'pkcs8', format: 'pem' }) as string;
  // The leaf is the certificate that matches the key.
  const leafIndex = certs.findIndex(c => { try { return new crypto.X509Certificate(c.der).checkPrivateKey(keyObj); } catch { return false; } });
  if (leafIndex < 0) throw new MtlsError('key-mismatch', 'The key in the PKCS#12 file does not match any certificate in it.');
  return {
    certPem: toPem('CERTIFICATE', certs[leafIndex].der),
    keyPem,
    chainPems: certs.filter((_, i) => i !== leafIndex).map(c => toPem('CERTIFICATE', c.der)),
    friendlyName: certs[leafIndex].friendlyName,
  };
}
