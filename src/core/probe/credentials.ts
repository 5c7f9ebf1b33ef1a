// Client certificates for the probes and the local edge, from files: a PEM certificate with its key
// (or a PEM holding both), or a PKCS#12 bundle with its password.
import * as crypto from 'crypto';
import * as path from 'path';
import * as tls from 'tls';
import { MtlsError } from '../errors';
import { readFileOrThrow } from '../fsutil';
import { certFields, derToPem, pemToDers } from './der';
import { keyMatchesCertificate, pemBlocks } from '../pki/pem';
import { isEncryptedKey } from '../pki/keyfile';
import { Credential } from './types';

const P12_EXT = /\.(p12|pfx)$/i;

export function isPkcs12Path(file: string): boolean {
  return P12_EXT.test(file);
}

/**
 * The key in memory, decrypted when it is passphrase-protected. Throws 'no-password' (naming the file and
 * saying it is encrypted) when the passphrase is missing or wrong, so adapters know to ask for it.
 */
function decryptedKey(key: string, keyFile: string, passphrase: string | undefined): string {
  if (!isEncryptedKey(key)) return key;
  const name = path.basename(keyFile);
  if (passphrase === undefined || passphrase === '') {
    throw new MtlsError('no-password', `The private key ${name} is encrypted (passphrase-protected) and no passphrase was given.`,
      'Set MTLS_KEY_PASSWORD, or run on a terminal to be asked (in VS Code, Test Leg asks).');
  }
  try {
    return crypto.createPrivateKey({ key, passphrase }).export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch (err) {
    const msg = (err as Error).message;
    if (/bad decrypt|bad password|decrypt|passphrase|DECODER/i.test(msg)) {
      throw new MtlsError('no-password', `Wrong passphrase for the encrypted private key ${name}.`, 'Check MTLS_KEY_PASSWORD or enter the passphrase again.');
    }
    throw new MtlsError('bad-key', `Cannot read the encrypted private key ${name}: ${msg}.`);
  }
}

/**
 * Loads a credential. `certFile` is a PEM (with the key in `keyFile`, or in the same file) or a .p12/.pfx
 * opened with `password`; an encrypted PEM key is opened with `password` too. PKCS#12 goes through the
 * workspace PKI's reader when it can (every flavour, also on Electron's BoringSSL), else through Node's own loader.
 */
export async function loadCredential(certFile: string, keyFile?: string, password?: string): Promise<Credential> {
  const data = await readFileOrThrow(certFile);
  const source = path.basename(certFile);
  if (isPkcs12Path(certFile) || (!data.includes('-----BEGIN') && data[0] === 0x30 && !keyFile)) {
    return pkcs12Credential(data, password, source);
  }
  const text = data.toString('utf8');
  if (!/-----BEGIN CERTIFICATE-----/.test(text)) {
    throw new MtlsError('bad-pem', `${certFile} holds no PEM certificate.`, 'Give a PEM certificate (and its key) or a .p12 file.');
  }
  const keyText = keyFile ? (await readFileOrThrow(keyFile)).toString('utf8') : text;
  const keyBlock = pemBlocks(keyText).find(b => /PRIVATE KEY$/.test(b.label));
  const key = keyBlock?.text;
  if (!key) {
    throw new MtlsError('bad-key', `No private key for ${certFile}${keyFile ? ` in ${keyFile}` : ''}.`, 'Give the key file (--key, or the matching *Key setting).');
  }
  return checkPair({ kind: 'pem', certPem: text, keyPem: decryptedKey(key, keyFile ?? certFile, password), source });
}

async function pkcs12Credential(data: Buffer, password: string | undefined, source: string): Promise<Credential> {
  try {
    const pki = await import('../pki');
    const c = pki.readPkcs12(data, password ?? '');
    return { kind: 'pem', certPem: [c.certPem, ...c.chainPems].join(''), keyPem: c.keyPem, source };
  } catch (err) {
    const code = (err as MtlsError).code;
    if (code === 'p12-password') throw err;
    if (code !== 'p12-format') throw err;
  }
  try {
    tls.createSecureContext({ pfx: data, passphrase: password });
  } catch (err) {
    const msg = (err as Error).message;
    if (/mac verify|password/i.test(msg)) throw new MtlsError('p12-password', `Wrong password for ${source}.`, 'Set MTLS_P12_PASSWORD (CLI) or enter the password again.');
    throw new MtlsError('p12-format', `Cannot open ${source} as PKCS#12: ${msg}.`);
  }
  return { kind: 'p12', pfx: data, passphrase: password, source };
}

function checkPair(c: Credential & { kind: 'pem' }): Credential {
  try {
    const cert = new crypto.X509Certificate(pemToDers(c.certPem)[0]);
    if (!keyMatchesCertificate(cert, c.keyPem)) {
      throw new MtlsError('key-mismatch', `The key does not match the certificate ${c.source ?? ''}.`.replace(' .', '.'), 'Pick the key that was generated with this certificate.');
    }
  } catch (err) {
    if (err instanceof MtlsError) throw err;
    throw new MtlsError('bad-key', `Cannot read the certificate or key ${c.source ?? ''}: ${(err as Error).message}.`);
  }
  return c;
}

/** The leaf certificate (DER) of a credential. */
export function credentialLeaf(c: Credential): Buffer | undefined {
  if (c.kind === 'pem') return pemToDers(c.certPem)[0];
  try {
    const ctx = tls.createSecureContext({ pfx: c.pfx, passphrase: c.passphrase }) as unknown as { context: { getCertificate(): Buffer | null } };
    return ctx.context.getCertificate() ?? undefined;
  } catch {
    return undefined;
  }
}

/** DER of every certificate a credential presents: the leaf, then the chain it sends (PEM only). */
export function credentialChain(c: Credential): Buffer[] {
  if (c.kind === 'pem') return pemToDers(c.certPem);
  const leaf = credentialLeaf(c);
  return leaf ? [leaf] : [];
}

/** Subject and issuer of a credential's leaf, for messages and for the expected CA of Leg 2. */
export function credentialNames(c: Credential): { subject: string; issuer: string; issuerDer: Buffer } | undefined {
  const der = credentialLeaf(c);
  if (!der) return undefined;
  const f = certFields(der);
  return { subject: f.subject, issuer: f.issuer, issuerDer: f.issuerDer };
}

/** A credential as PEM text of its leaf, e.g. to show or to write for curl. */
export function credentialCertPem(c: Credential): string | undefined {
  const der = credentialLeaf(c);
  return der ? derToPem(der) : undefined;
}
