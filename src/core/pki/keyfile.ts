// Private keys encrypted at rest: PKCS#8 EncryptedPrivateKeyInfo, PBES2 with scrypt (RFC 7914) and
// AES-256-CBC, the form `openssl pkcs8 -topk8 -scrypt` writes and `openssl pkey -passin` reads. The key
// derivation runs on Node's thread pool (crypto.scrypt), so neither the CLI nor the extension host blocks.
// Other encrypted PKCS#8 files (PBKDF2, as `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes) are read through
// OpenSSL itself.
import * as crypto from 'crypto';
import { MtlsError } from '../errors';
import * as D from './der';
import { parsePrivateKey, pemBlocks, toPem } from './pem';

const OID = {
  pbes2: '1.2.840.113549.1.5.13',
  scrypt: '1.3.6.1.4.1.11591.4.11',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
};

/**
 * scrypt cost: N = 2^14, r = 8, p = 1 (16 MiB, about 50 ms), what `openssl pkcs8 -scrypt` writes: OpenSSL
 * refuses to decrypt PBES2-scrypt above its 32 MiB memory limit, so N = 2^15 would lock openssl out.
 */
export const SCRYPT = { N: 1 << 14, r: 8, p: 1 } as const;
const SCRYPT_MAXMEM = 256 * SCRYPT.N * SCRYPT.r + 1024 * 1024;

const ENCRYPTED_LABEL = 'ENCRYPTED PRIVATE KEY';

function scrypt(passphrase: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    crypto.scrypt(Buffer.from(passphrase, 'utf8'), salt, 32, { N, r, p, maxmem: Math.max(SCRYPT_MAXMEM, 256 * N * r + 1024 * 1024) }, (err, key) => (err ? reject(err) : resolve(key))));
}

/** True when `data` holds an encrypted private key (PKCS#8 "ENCRYPTED PRIVATE KEY" or a legacy Proc-Type: 4,ENCRYPTED block). */
export function isEncryptedKey(data: string | Uint8Array): boolean {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
  return text.includes(`-----BEGIN ${ENCRYPTED_LABEL}-----`) || /Proc-Type: 4,ENCRYPTED/.test(text);
}

/** Encrypts a private key (any PEM/DER form Node reads) with `passphrase`; returns "ENCRYPTED PRIVATE KEY" PEM. */
export async function encryptPrivateKey(keyPem: string, passphrase: string): Promise<string> {
  if (!passphrase) throw new MtlsError('bad-option', 'An empty passphrase does not encrypt anything.');
  const plain = crypto.createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  const salt = crypto.randomBytes(16);
  const iv = crypto.randomBytes(16);
  const key = await scrypt(passphrase, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p);
  const c = crypto.createCipheriv('aes-256-cbc', key, iv);
  const cipherText = Buffer.concat([c.update(plain), c.final()]);
  const algId = D.seq(
    D.oid(OID.pbes2),
    D.seq(
      D.seq(D.oid(OID.scrypt), D.seq(D.octets(salt), D.int(SCRYPT.N), D.int(SCRYPT.r), D.int(SCRYPT.p), D.int(32))),
      D.seq(D.oid(OID.aes256Cbc), D.octets(iv)),
    ),
  );
  return toPem(ENCRYPTED_LABEL, D.seq(algId, D.octets(cipherText)));
}

function wrongPassphrase(source: string | undefined, cause?: unknown): MtlsError {
  return new MtlsError('bad-passphrase', `The passphrase for ${source ?? 'the private key'} is wrong; nothing was written.`, 'Type the passphrase the key was encrypted with (MTLS_CA_PASSWORD for the CLI).', { cause });
}

/** Scrypt + AES-256-CBC parameters of an EncryptedPrivateKeyInfo, or undefined for another scheme. */
function scryptParams(der: Buffer): { salt: Buffer; N: number; r: number; p: number; iv: Buffer; cipherText: Buffer } | undefined {
  const [algId, enc] = D.children(der, D.readTlv(der, 0));
  const [algOid, params] = D.children(der, algId);
  if (D.readOid(der, algOid) !== OID.pbes2) return undefined;
  const [kdf, cipher] = D.children(der, params);
  const [kdfOid, kdfParams] = D.children(der, kdf);
  if (D.readOid(der, kdfOid) !== OID.scrypt) return undefined;
  const [saltT, nT, rT, pT] = D.children(der, kdfParams);
  const [cipherOid, ivT] = D.children(der, cipher);
  if (D.readOid(der, cipherOid) !== OID.aes256Cbc) return undefined;
  const num = (t: D.Tlv) => parseInt(D.readIntHex(der, t), 16);
  return { salt: D.content(der, saltT), N: num(nT), r: num(rT), p: num(pT), iv: D.content(der, ivT), cipherText: D.content(der, enc) };
}

/** Decrypts an encrypted private key; returns PKCS#8 PEM. Throws bad-passphrase on a wrong passphrase, bad-key on anything else. */
export async function decryptPrivateKey(data: string | Uint8Array, passphrase: string, source?: string): Promise<string> {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
  const block = pemBlocks(text).find(b => b.label === ENCRYPTED_LABEL);
  if (block) {
    let params: ReturnType<typeof scryptParams>;
    try {
      params = scryptParams(block.der);
    } catch (err) {
      throw new MtlsError('bad-key', `${source ?? 'The private key'} is not a readable encrypted private key (${(err as Error).message}).`, undefined, { cause: err });
    }
    if (params) {
      if (params.N > 1 << 20 || params.r > 32 || params.p > 16) throw new MtlsError('bad-key', `${source ?? 'The private key'} asks for an unreasonable scrypt cost.`);
      const key = await scrypt(passphrase, params.salt, params.N, params.r, params.p);
      let plain: Buffer;
      try {
        const d = crypto.createDecipheriv('aes-256-cbc', key, params.iv);
        plain = Buffer.concat([d.update(params.cipherText), d.final()]);
        return crypto.createPrivateKey({ key: plain, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }) as string;
      } catch (err) {
        throw wrongPassphrase(source, err);
      }
    }
  }
  try {
    return crypto.createPrivateKey({ key: text, format: 'pem', passphrase }).export({ type: 'pkcs8', format: 'pem' }) as string;
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (/BAD_DECRYPT|INTERRUPTED_OR_CANCELLED|bad decrypt/i.test(code + (err as Error).message)) throw wrongPassphrase(source, err);
    throw new MtlsError('bad-key', `${source ?? 'The private key'} cannot be read (${(err as Error).message}).`, undefined, { cause: err });
  }
}

/** Reads a private key that may be encrypted: asks `passphrase()` only when it is. Returns PKCS#8 PEM (unencrypted, in memory only). */
export async function readPrivateKey(data: string | Uint8Array, source: string | undefined, passphrase: () => Promise<string | undefined>): Promise<{ keyPem: string; encrypted: boolean }> {
  if (!isEncryptedKey(data)) return { keyPem: parsePrivateKey(data, source), encrypted: false };
  const pass = await passphrase();
  if (pass === undefined || pass === '') {
    throw new MtlsError('no-passphrase', `${source ?? 'The private key'} is encrypted and no passphrase was given; nothing was written.`, 'Set MTLS_CA_PASSWORD, or run on a terminal to type it.');
  }
  return { keyPem: await decryptPrivateKey(data, pass, source), encrypted: true };
}
