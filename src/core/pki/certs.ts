// Building and signing certificates. Keys come from Node's native crypto; certificates are assembled by
// @peculiar/x509 and signed through Node's WebCrypto, so RSA and ECDSA CAs can each sign RSA and ECDSA
// leaves, and no signature is computed in JavaScript.
import * as crypto from 'crypto';
import { MtlsError } from '../errors';
import type { CertAndKey, CertProfile, CreateCaOptions, CsrInfo, IssueOptions, SignCsrOptions, SubjectAltName } from './types';
import { CERT_PROFILES } from './types';
import { checkKeyAlgorithm, generateKey, parseCertificate, parseSan, privateKeyObject, assertKeyMatches } from './pem';
import { subtle, x509 } from './lib';
import { signedParts } from './der';

/** notBefore is set this far in the past, so a client whose clock is slightly behind accepts a fresh certificate. */
export const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
export const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

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
  if (/[\u0000-\u001f]/.test(value)) throw new MtlsError('bad-option', `The ${what} must not contain control characters.`);
  return value;
}

/** A random positive 128-bit serial, as hex. */
export function randomSerial(): string {
  const bytes = crypto.randomBytes(16);
  bytes[0] |= 0x80; // always 128 bits long; the DER encoder adds the 0x00 that keeps it positive
  return bytes.toString('hex');
}

function subjectName(cn: string, org?: string): Record<string, string[]>[] {
  const name: Record<string, string[]>[] = [];
  if (org) name.push({ O: [org] });
  name.push({ CN: [cn] });
  return name;
}

/** Signing parameters for a private key: algorithm for WebCrypto import and for the signature. */
function signingParams(key: crypto.KeyObject): { importAlg: RsaHashedImportParams | EcKeyImportParams; signAlg: Algorithm | EcdsaParams } {
  if (key.asymmetricKeyType === 'rsa') {
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { importAlg: alg, signAlg: alg };
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : curve === 'secp521r1' ? 'P-521' : undefined;
    if (!namedCurve) throw new MtlsError('unsupported', `Signing with an EC key on the curve ${curve} is not supported; use P-256 or P-384.`);
    return { importAlg: { name: 'ECDSA', namedCurve }, signAlg: { name: 'ECDSA', hash: namedCurve === 'P-256' ? 'SHA-256' : namedCurve === 'P-384' ? 'SHA-384' : 'SHA-512' } as EcdsaParams };
  }
  throw new MtlsError('unsupported', `Signing with a ${key.asymmetricKeyType} key is not supported; use an RSA or EC (P-256/P-384) CA key.`);
}

async function importSigningKey(key: crypto.KeyObject): Promise<{ cryptoKey: CryptoKey; signAlg: Algorithm | EcdsaParams }> {
  const { importAlg, signAlg } = signingParams(key);
  const cryptoKey = await subtle.importKey('pkcs8', toArrayBuffer(key.export({ type: 'pkcs8', format: 'der' })), importAlg, false, ['sign']);
  return { cryptoKey, signAlg };
}

export function toArrayBuffer(buf: Uint8Array): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

function spkiDer(publicKey: crypto.KeyObject): ArrayBuffer {
  return toArrayBuffer(publicKey.export({ type: 'spki', format: 'der' }));
}

/** The SAN extension of a certificate or CSR, parsed. */
export function sanExtension(extensions: { type: string; rawData: ArrayBuffer }[]) {
  const X = x509();
  const raw = extensions.find(e => e.type === '2.5.29.17');
  return raw ? new X.SubjectAlternativeNameExtension(raw.rawData) : null;
}

function isRsa(publicKey: crypto.KeyObject): boolean {
  return publicKey.asymmetricKeyType === 'rsa';
}

function leafExtensions(profile: CertProfile, publicKey: crypto.KeyObject, sans: SubjectAltName[]) {
  const X = x509();
  const F = X.KeyUsageFlags;
  const exts: InstanceType<typeof X.Extension>[] = [new X.BasicConstraintsExtension(false, undefined, true)];
  let usage = F.digitalSignature;
  if (isRsa(publicKey)) usage |= F.keyEncipherment; // RSA key exchange in TLS 1.2 servers; harmless for clients
  exts.push(new X.KeyUsagesExtension(usage, true) );
  exts.push(new X.ExtendedKeyUsageExtension([profile === 'server' ? OID_SERVER_AUTH : OID_CLIENT_AUTH], false) );
  if (sans.length) exts.push(new X.SubjectAlternativeNameExtension(sans.map(s => ({ type: s.type === 'uri' ? 'url' as const : s.type, value: s.value })), false) );
  return exts;
}

async function signLeaf(
  ca: CertAndKey,
  subject: Record<string, string[]>[] | InstanceType<ReturnType<typeof x509>['Name']>,
  publicKey: crypto.KeyObject,
  profile: CertProfile,
  sans: SubjectAltName[],
  days: number,
): Promise<string> {
  const X = x509();
  const caPem = parseCertificate(ca.certPem, 'the CA certificate');
  const caCert = new X.X509Certificate(caPem);
  const caKey = privateKeyObject(ca.keyPem, 'the CA key');
  assertKeyMatches(caPem, ca.keyPem, 'of the CA', 'of the CA');
  const bc = caCert.getExtension(X.BasicConstraintsExtension);
  if (!bc?.ca) throw new MtlsError('bad-option', `"${caCert.subject}" is not a CA certificate (no basicConstraints CA:TRUE); it cannot sign certificates.`);
  const { cryptoKey, signAlg } = await importSigningKey(caKey);
  const caSki = caCert.getExtension(X.SubjectKeyIdentifierExtension);
  const now = Date.now();
  const notBefore = new Date(now - BACKDATE_MS);
  let notAfter = new Date(now + days * DAY_MS);
  if (notAfter > caCert.notAfter) notAfter = caCert.notAfter; // never outlive the CA
  const spki = spkiDer(publicKey);
  const extensions = leafExtensions(profile, publicKey, sans);
  extensions.push(await X.SubjectKeyIdentifierExtension.create(spki, false));
  extensions.push(caSki ? new X.AuthorityKeyIdentifierExtension(caSki.keyId, false) : await X.AuthorityKeyIdentifierExtension.create(caCert.publicKey, false));
  const cert = await X.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: caCert.subjectName,
    notBefore,
    notAfter,
    publicKey: spki,
    signingKey: cryptoKey,
    signingAlgorithm: signAlg,
    extensions,
  });
  return cert.toString('pem') + '\n';
}

/** A self-signed root CA: CA:TRUE critical, keyCertSign+cRLSign critical, SKI; SHA-256 (SHA-384 for P-384). */
export async function createRootCa(options: CreateCaOptions): Promise<CertAndKey> {
  const cn = checkText(options.cn, 'common name (CN)', true)!;
  const org = checkText(options.org, 'organization (O)', false);
  const keyAlg = checkKeyAlgorithm(options.key ?? 'rsa4096');
  const days = checkDays(options.days, 3650);
  options.onProgress?.(`Generating the CA key (${keyAlg})…`);
  const pair = await generateKey(keyAlg);
  options.onProgress?.('Signing the CA certificate…');
  const X = x509();
  const key = crypto.createPrivateKey(pair.keyPem);
  const { cryptoKey, signAlg } = await importSigningKey(key);
  const spki = spkiDer(crypto.createPublicKey(key));
  const now = Date.now();
  const name = subjectName(cn, org);
  const ski = await X.SubjectKeyIdentifierExtension.create(spki, false);
  const cert = await X.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: name,
    issuer: name,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + days * DAY_MS),
    publicKey: spki,
    signingKey: cryptoKey,
    signingAlgorithm: signAlg,
    extensions: [
      new X.BasicConstraintsExtension(true, undefined, true),
      new X.KeyUsagesExtension(X.KeyUsageFlags.keyCertSign | X.KeyUsageFlags.cRLSign, true),
      ski,
      new X.AuthorityKeyIdentifierExtension(ski.keyId, false),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: pair.keyPem };
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
  parseCertificate(ca.certPem, 'the CA certificate');
  privateKeyObject(ca.keyPem, 'the CA key');
  options.onProgress?.(`Generating the key (${keyAlg})…`);
  const pair = await generateKey(keyAlg);
  options.onProgress?.('Signing the certificate…');
  const certPem = await signLeaf(ca, subjectName(cn, org), crypto.createPublicKey(pair.keyPem), profile, sans, days);
  return { certPem, keyPem: pair.keyPem };
}

function csrDer(data: string | Uint8Array, source?: string): Buffer {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
  const m = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END \1?CERTIFICATE REQUEST-----/.exec(text);
  if (m) return Buffer.from(m[2].replace(/\s+/g, ''), 'base64');
  if (typeof data !== 'string' && data.length > 0 && data[0] === 0x30) return Buffer.from(data);
  throw new MtlsError('bad-csr', `${source ?? 'The input'} holds no certificate signing request (no "-----BEGIN CERTIFICATE REQUEST-----" block).`);
}

function sanListFrom(ext: { names: { items: { type: string; value: string }[] } } | null): SubjectAltName[] {
  if (!ext) return [];
  const out: SubjectAltName[] = [];
  for (const n of ext.names.items) {
    if (n.type === 'dns' || n.type === 'ip' || n.type === 'email') out.push({ type: n.type, value: n.value });
    else if (n.type === 'url') out.push({ type: 'uri', value: n.value });
  }
  return out;
}

function readCsr(data: string | Uint8Array, source?: string) {
  const X = x509();
  const der = csrDer(data, source);
  let csr: InstanceType<typeof X.Pkcs10CertificateRequest>;
  try {
    csr = new X.Pkcs10CertificateRequest(toArrayBuffer(der));
  } catch (err) {
    throw new MtlsError('bad-csr', `${source ?? 'The input'} is not a valid certificate signing request (${(err as Error).message}).`, undefined, { cause: err });
  }
  let publicKey: crypto.KeyObject;
  try {
    publicKey = crypto.createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  } catch (err) {
    throw new MtlsError('bad-csr', `The public key of ${source ?? 'the CSR'} cannot be read (${(err as Error).message}).`, undefined, { cause: err });
  }
  let signatureValid = false;
  try {
    // Verify with Node (OpenSSL) directly: the signed part is the CertificationRequestInfo.
    signatureValid = verifyCsrSignature(der, publicKey);
  } catch {
    signatureValid = false;
  }
  return { csr, publicKey, signatureValid, der };
}

/** Checks the self-signature of a PKCS#10 request with OpenSSL through Node, on the bytes as received. */
function verifyCsrSignature(der: Buffer, publicKey: crypto.KeyObject): boolean {
  const { signed, algorithmOid, signature } = signedParts(der);
  const hashes: Record<string, string> = {
    '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512', '1.2.840.113549.1.1.5': 'sha1',
    '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512',
  };
  const hash = hashes[algorithmOid];
  if (!hash) throw new MtlsError('bad-csr', `The CSR is signed with an unsupported algorithm (${algorithmOid}).`);
  return crypto.verify(hash, signed, publicKey, signature);
}

/** Reads a PKCS#10 CSR and checks its signature. */
export function parseCsr(data: string | Uint8Array, source?: string): CsrInfo {
  const X = x509();
  const { csr, publicKey, signatureValid } = readCsr(data, source);
  const d = publicKey.asymmetricKeyDetails ?? {};
  return {
    subject: csr.subject,
    subjectCn: csr.subjectName.getField('CN')[0],
    sans: sanListFrom(sanExtension(csr.extensions) as never),
    keyType: (publicKey.asymmetricKeyType ?? 'unknown').toUpperCase(),
    keyBits: d.modulusLength ?? (d.namedCurve ? curveBits(d.namedCurve) : undefined),
    curve: d.namedCurve ? curveName(d.namedCurve) : undefined,
    signatureValid,
    pem: csr.toString('pem') + '\n',
  };
}

export function curveName(nodeCurve: string): string {
  return ({ prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' } as Record<string, string>)[nodeCurve] ?? nodeCurve;
}

export function curveBits(nodeCurve: string): number | undefined {
  return ({ prime256v1: 256, secp384r1: 384, secp521r1: 521 } as Record<string, number>)[nodeCurve];
}

/** Signs an external CSR (its signature is checked first); returns the certificate PEM. */
export async function signCsr(ca: CertAndKey, csrData: string | Uint8Array, options: SignCsrOptions = {}): Promise<string> {
  const X = x509();
  const profile = checkProfile(options.profile);
  const days = checkDays(options.days, 365);
  const { csr, publicKey, signatureValid } = readCsr(csrData, 'the CSR');
  if (!signatureValid) {
    throw new MtlsError('bad-csr', 'The signature of the CSR does not verify with its own public key; it was altered or is corrupt.', 'Create the CSR again.');
  }
  const kt = publicKey.asymmetricKeyType;
  if (kt !== 'rsa' && kt !== 'ec') throw new MtlsError('unsupported', `The CSR has a ${kt} key; only RSA and EC keys are supported.`);
  if (kt === 'rsa' && (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new MtlsError('bad-csr', `The CSR has an RSA key of ${publicKey.asymmetricKeyDetails?.modulusLength} bits; at least 2048 are required.`);
  }
  const sans = options.sans ? options.sans.map(parseSan) : sanListFrom(sanExtension(csr.extensions) as never);
  if (!csr.subjectName.getField('CN')[0] && sans.length === 0) {
    throw new MtlsError('bad-csr', 'The CSR has neither a common name nor subject alternative names.');
  }
  options.onProgress?.('Signing the certificate…');
  return signLeaf(ca, csr.subjectName, publicKey, profile, sans, days);
}
