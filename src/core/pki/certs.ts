// Building and signing certificates. Keys come from Node's native async crypto; certificates are laid out by
// x509.ts and signed by Node (OpenSSL), so RSA and ECDSA CAs can each sign RSA and ECDSA leaves and no
// signature is computed in JavaScript.
import * as crypto from 'crypto';
import { MtlsError } from '../errors';
import type { CertAndKey, CertProfile, CreateCaOptions, CsrInfo, IssueOptions, SignCsrOptions, SubjectAltName } from './types';
import { CERT_PROFILES } from './types';
import { checkKeyAlgorithm, generateKey, parseCertificate, parseSan, pemBlocks, privateKeyObject, assertKeyMatches, toPem } from './pem';
import { signedParts } from './der';
import {
  OID, authorityKeyIdentifier, basicConstraints, decodeBasicConstraints, decodeSans, decodeSubjectKeyId, encodeName, extKeyUsage, field,
  keyIdentifier, keyUsage, parseCertificateDer, parseCsrDer, publicKeyFromSpki, signCertificate, subjectAltName, subjectKeyIdentifier,
} from './x509';

/** notBefore is set this far in the past, so a client whose clock is slightly behind accepts a fresh certificate. */
export const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export const OID_CLIENT_AUTH = OID.clientAuth;
export const OID_SERVER_AUTH = OID.serverAuth;

function checkDays(days: number | undefined, fallback: number): number {
  const d = days ?? fallback;
  if (!Number.isInteger(d) || d < 1 || d > 36500) {
    throw new MtlsError('bad-option', `Validity must be a whole number of days between 1 and 36500, not ${days}.`);
  }
  return d;
}

function checkProfile(profile: string | undefined): CertProfile {
  const p = profile ?? 'client';
  if (!(CERT_PROFILES as readonly string[]).includes(p)) {
    throw new MtlsError('bad-option', `Unknown profile "${p}".`, `Use one of ${CERT_PROFILES.join(', ')}.`);
  }
  return p as CertProfile;
}

function checkText(value: string | undefined, what: string, required: boolean): string | undefined {
  if (value === undefined || value === '') {
    if (required) throw new MtlsError('bad-option', `The ${what} is required.`);
    return undefined;
  }
  if (value.length > 64) throw new MtlsError('bad-option', `The ${what} may be at most 64 characters (X.509 upper bound), "${value}" has ${value.length}.`);
  checkPrintable(value, what);
  return value;
}

// C0 and C1 controls, DEL, and the Unicode bidirectional controls (ALM, LRM, RLM, LRE…RLO, LRI…PDI): they make
// a name display differently from what it is ("Trojan Source"-style spoofing in prompts, trees and logs).
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** Throws bad-option when `value` holds a control or bidirectional-override character. */
export function checkPrintable(value: string, what: string): void {
  const m = UNSAFE_CHARS.exec(value);
  if (m) {
    const cp = m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new MtlsError('bad-option', `The ${what} contains the control or bidirectional character U+${cp}; it is refused because it can make a name look like another.`, 'Remove it (type the name again without pasting).');
  }
}

/** A random positive 128-bit serial, as hex. */
export function randomSerial(): string {
  const bytes = crypto.randomBytes(16);
  bytes[0] |= 0x80; // always 128 bits long; the DER encoder adds the 0x00 that keeps it positive
  return bytes.toString('hex');
}

function spkiOf(key: crypto.KeyObject): Buffer {
  return crypto.createPublicKey(key).export({ type: 'spki', format: 'der' });
}

function leafExtensions(profile: CertProfile, publicKey: crypto.KeyObject, sans: SubjectAltName[]): Buffer[] {
  const exts = [
    basicConstraints(false),
    // keyEncipherment for RSA: RSA key exchange in TLS 1.2 servers; harmless for clients
    keyUsage(publicKey.asymmetricKeyType === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']),
    extKeyUsage([profile === 'server' ? OID.serverAuth : OID.clientAuth]),
  ];
  if (sans.length) exts.push(subjectAltName(sans));
  return exts;
}

/** Signs a leaf for `subject` (an encoded Name) and `publicKey` with the CA. */
function signLeaf(ca: CertAndKey, subject: Buffer, publicKey: crypto.KeyObject, profile: CertProfile, sans: SubjectAltName[], days: number): string {
  const caPem = parseCertificate(ca.certPem, 'the CA certificate');
  const caX509 = new crypto.X509Certificate(caPem);
  const caCert = parseCertificateDer(caX509.raw);
  const caKey = privateKeyObject(ca.keyPem, 'the CA key');
  assertKeyMatches(caPem, ca.keyPem, 'of the CA', 'of the CA');
  const bc = caCert.extensions.find(e => e.oid === OID.basicConstraints);
  if (!bc || !decodeBasicConstraints(bc.value).ca) {
    throw new MtlsError('bad-option', `"${caCert.subject.text}" is not a CA certificate (no basicConstraints CA:TRUE); it cannot sign certificates.`);
  }
  const caSki = caCert.extensions.find(e => e.oid === OID.subjectKeyId);
  const now = Date.now();
  let notAfter = new Date(now + days * DAY_MS);
  if (notAfter > caCert.notAfter) notAfter = caCert.notAfter; // never outlive the CA
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return signCertificate({
    serial: Buffer.from(randomSerial(), 'hex'),
    issuer: caCert.subject.der, // byte for byte, so name matching never depends on re-encoding
    subject,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter,
    spki,
    extensions: [
      ...leafExtensions(profile, publicKey, sans),
      subjectKeyIdentifier(keyIdentifier(spki)),
      authorityKeyIdentifier(caSki ? decodeSubjectKeyId(caSki.value) : keyIdentifier(caCert.spki)),
    ],
  }, caKey);
}

/** A self-signed root CA: CA:TRUE critical, keyCertSign+cRLSign critical, SKI/AKI; SHA-256 (SHA-384 for P-384). */
export async function createRootCa(options: CreateCaOptions): Promise<CertAndKey> {
  const cn = checkText(options.cn, 'common name (CN)', true)!;
  const org = checkText(options.org, 'organization (O)', false);
  const keyAlg = checkKeyAlgorithm(options.key ?? 'rsa4096');
  const days = checkDays(options.days, 3650);
  options.onProgress?.(`Generating the CA key (${keyAlg})…`);
  const pair = await generateKey(keyAlg);
  options.onProgress?.('Signing the CA certificate…');
  const key = crypto.createPrivateKey(pair.keyPem);
  const spki = spkiOf(key);
  const keyId = keyIdentifier(spki);
  const name = encodeName(cn, org);
  const now = Date.now();
  const certPem = signCertificate({
    serial: Buffer.from(randomSerial(), 'hex'),
    issuer: name,
    subject: name,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + days * DAY_MS),
    spki,
    extensions: [basicConstraints(true), keyUsage(['keyCertSign', 'cRLSign']), subjectKeyIdentifier(keyId), authorityKeyIdentifier(keyId)],
  }, key);
  return { certPem, keyPem: pair.keyPem };
}

/** A leaf certificate for `profile` signed by `ca`, with a fresh key. */
export async function issueCertificate(ca: CertAndKey, options: IssueOptions): Promise<CertAndKey> {
  const cn = checkText(options.cn, 'common name (CN)', true)!;
  const org = checkText(options.org, 'organization (O)', false);
  const profile = checkProfile(options.profile);
  const keyAlg = checkKeyAlgorithm(options.key ?? 'rsa2048');
  const days = checkDays(options.days, 365);
  const sans = (options.sans ?? []).map(parseSan);
  if (profile === 'server' && sans.length === 0) sans.push(parseSan(cn)); // browsers and curl match SANs only
  // Fail on a bad CA before spending time on a key.
  const caPem = parseCertificate(ca.certPem, 'the CA certificate');
  privateKeyObject(ca.keyPem, 'the CA key');
  assertKeyMatches(caPem, ca.keyPem, 'of the CA', 'of the CA');
  options.onProgress?.(`Generating the key (${keyAlg})…`);
  const pair = await generateKey(keyAlg);
  options.onProgress?.('Signing the certificate…');
  const certPem = signLeaf(ca, encodeName(cn, org), crypto.createPublicKey(pair.keyPem), profile, sans, days);
  return { certPem, keyPem: pair.keyPem };
}

function csrDer(data: string | Uint8Array, source?: string): Buffer {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
  const block = pemBlocks(text).find(b => b.label === 'CERTIFICATE REQUEST' || b.label === 'NEW CERTIFICATE REQUEST');
  if (block) return block.der;
  if (typeof data !== 'string' && data.length > 0 && data[0] === 0x30) return Buffer.from(data);
  throw new MtlsError('bad-csr', `${source ?? 'The input'} holds no certificate signing request (no "-----BEGIN CERTIFICATE REQUEST-----" block).`);
}

const CSR_HASHES: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512', '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512',
};

function readCsr(data: string | Uint8Array, source?: string) {
  const der = csrDer(data, source);
  let csr: ReturnType<typeof parseCsrDer>;
  let publicKey: crypto.KeyObject;
  try {
    csr = parseCsrDer(der);
    publicKey = publicKeyFromSpki(csr.spki);
  } catch (err) {
    throw new MtlsError('bad-csr', `${source ?? 'The input'} is not a valid certificate signing request (${(err as Error).message}).`, undefined, { cause: err });
  }
  // The self-signature, checked by OpenSSL on the bytes as received.
  let signatureValid: boolean;
  try {
    const { signed, algorithmOid, signature } = signedParts(der);
    const hash = CSR_HASHES[algorithmOid];
    signatureValid = !!hash && crypto.verify(hash, signed, publicKey, signature);
  } catch {
    signatureValid = false;
  }
  return { csr, publicKey, signatureValid, der };
}

export function curveName(nodeCurve: string): string {
  return ({ prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' } as Record<string, string>)[nodeCurve] ?? nodeCurve;
}

export function curveBits(nodeCurve: string): number | undefined {
  return ({ prime256v1: 256, secp384r1: 384, secp521r1: 521 } as Record<string, number>)[nodeCurve];
}

function csrSans(csr: ReturnType<typeof parseCsrDer>): SubjectAltName[] {
  const ext = csr.extensions.find(e => e.oid === OID.subjectAltName);
  return ext ? decodeSans(ext.value) : [];
}

/** Reads a PKCS#10 CSR and checks its signature. */
export function parseCsr(data: string | Uint8Array, source?: string): CsrInfo {
  const { csr, publicKey, signatureValid, der } = readCsr(data, source);
  const d = publicKey.asymmetricKeyDetails ?? {};
  return {
    subject: csr.subject.text,
    subjectCn: field(csr.subject, 'CN'),
    sans: csrSans(csr),
    keyType: (publicKey.asymmetricKeyType ?? 'unknown').toUpperCase(),
    keyBits: d.modulusLength ?? (d.namedCurve ? curveBits(d.namedCurve) : undefined),
    curve: d.namedCurve ? curveName(d.namedCurve) : undefined,
    signatureValid,
    pem: toPem('CERTIFICATE REQUEST', der),
  };
}

/**
 * The keys a CSR may have: RSA of at least 2048 bits, ECDSA on P-256 or P-384: what Cloudflare's mTLS and
 * every TLS stack accept. Everything else (Ed25519, RSA-PSS-only keys, P-192, secp256k1, P-521…) is refused.
 */
export function checkCsrKey(publicKey: crypto.KeyObject): void {
  const kt = publicKey.asymmetricKeyType;
  const d = publicKey.asymmetricKeyDetails ?? {};
  const hint = 'Create the CSR with an RSA (2048 bits or more), P-256 or P-384 key.';
  if (kt === 'rsa') {
    if ((d.modulusLength ?? 0) < 2048) throw new MtlsError('unsupported-key', `The CSR has an unsupported key type: RSA ${d.modulusLength} bits (at least 2048 are required).`, hint);
    return;
  }
  if (kt === 'ec') {
    if (d.namedCurve === 'prime256v1' || d.namedCurve === 'secp384r1') return;
    throw new MtlsError('unsupported-key', `The CSR has an unsupported key type: EC on the curve ${d.namedCurve ?? 'unknown'}.`, hint);
  }
  throw new MtlsError('unsupported-key', `The CSR has an unsupported key type: ${kt === 'ed25519' ? 'Ed25519' : kt ?? 'unknown'}.`, hint);
}

/** DNS names, e-mail addresses and URIs are IA5String (ASCII only) in a certificate; no control characters anywhere. */
export function checkSanValue(san: SubjectAltName): void {
  if (san.type !== 'ip' && /[^\x20-\x7e]/.test(san.value)) {
    const bad = /[^\x20-\x7e]/.exec(san.value)![0];
    const cp = bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new MtlsError('bad-option', `The subject alternative name ${san.type.toUpperCase()}:${JSON.stringify(san.value)} holds U+${cp}; ${san.type === 'dns' ? 'DNS names' : san.type === 'email' ? 'e-mail addresses' : 'URIs'} in a certificate are ASCII only (IA5String).`, san.type === 'dns' ? 'Use the punycode form of an internationalized name (xn--…).' : 'Use the ASCII (percent- or punycode-encoded) form.');
  }
}

/** Signs an external CSR (its signature is checked first); returns the certificate PEM. */
export async function signCsr(ca: CertAndKey, csrData: string | Uint8Array, options: SignCsrOptions = {}): Promise<string> {
  const profile = checkProfile(options.profile);
  const days = checkDays(options.days, 365);
  const { csr, publicKey, signatureValid } = readCsr(csrData, 'the CSR');
  checkCsrKey(publicKey); // first: an unsupported key says so, whatever its signature algorithm
  if (!signatureValid) {
    throw new MtlsError('bad-csr', 'The signature of the CSR does not verify with its own public key; it was altered or is corrupt.', 'Create the CSR again.');
  }
  for (const f of csr.subject.fields) checkPrintable(f.value, `CSR's subject (${f.type})`);
  const sans = options.sans ? options.sans.map(parseSan) : csrSans(csr);
  for (const s of sans) checkSanValue(s);
  if (!field(csr.subject, 'CN') && sans.length === 0) {
    throw new MtlsError('bad-csr', 'The CSR has neither a common name nor subject alternative names.');
  }
  options.onProgress?.('Signing the certificate…');
  return signLeaf(ca, csr.subject.der, publicKey, profile, sans, days);
}
