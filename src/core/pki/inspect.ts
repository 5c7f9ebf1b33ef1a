// Inspecting and verifying certificates (RSA and EC): Node's X509Certificate for the key, fingerprints and
// signatures (OpenSSL underneath), x509.ts for the extensions Node does not expose.
import * as crypto from 'crypto';
import { MtlsError } from '../errors';
import type { CertificateInfo, VerifyResult } from './types';
import { parseCertificate, readCertificates, toPem } from './pem';
import { signedParts } from './der';
import { curveBits, curveName } from './certs';
import {
  OID, ParsedCertificate, ParsedExtension, colonHex, publicKeyFromSpki, spkiDetails, decodeAuthorityKeyId, decodeBasicConstraints, decodeExtKeyUsage, decodeKeyUsage, decodeSans, decodeSubjectKeyId, field,
  parseCertificateDer,
} from './x509';

const DAY_MS = 24 * 60 * 60 * 1000;

const EKU_NAMES: Record<string, string> = {
  [OID.serverAuth]: 'serverAuth', [OID.clientAuth]: 'clientAuth', '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection', '1.3.6.1.5.5.7.3.8': 'timeStamping', '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

const SIG_ALG_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption', '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption', '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss', '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256', '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512', '1.3.101.112': 'ED25519',
};


/** The SHA-256 of a certificate's DER as plain lowercase hex (Cloudflare's cert_fingerprint_sha256). */
export function sha256Hex(certPem: string): string {
  return new crypto.X509Certificate(certPem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** Everything a person wants to know about a certificate (RSA or EC). */
export function inspectCertificate(data: string | Uint8Array, source?: string, now = new Date()): CertificateInfo {
  return inspectX509(readCertificates(data, source)[0], source, now);
}

/** inspectCertificate for a certificate Node has parsed already. */
export function inspectX509(node: crypto.X509Certificate, source?: string, now = new Date()): CertificateInfo {
  return inspectDer(node.raw, source, now);
}

/** Signature hashes by signature algorithm OID, for checking a signature on the bytes as received. */
const SIGNATURE_HASHES: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1', '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512', '1.3.101.112': null,
};

/** Whether `publicKey` verifies the signature of a DER certificate (OpenSSL checks it; only the bytes are laid out here). */
export function verifyCertificateSignature(der: Buffer, publicKey: crypto.KeyObject): boolean {
  try {
    const { signed, algorithmOid, signature } = signedParts(der);
    const hash = SIGNATURE_HASHES[algorithmOid];
    if (hash === undefined) return new crypto.X509Certificate(der).verify(publicKey); // RSA-PSS and the like: OpenSSL decodes the parameters
    return crypto.verify(hash, signed, publicKey, signature);
  } catch {
    return false;
  }
}


/**
 * inspectCertificate from DER, without Node's X509Certificate (whose construction costs several times the
 * DER reading): the store scan of thousands of files goes through here.
 */
export function inspectDer(der: Buffer, source?: string, now = new Date(), knownPem?: string): CertificateInfo {
  const pem = knownPem ?? toPem('CERTIFICATE', der);
  let cert: ParsedCertificate;
  let details: { type?: string; modulusLength?: number; namedCurve?: string } | undefined;
  try {
    cert = parseCertificateDer(der);
    details = spkiDetails(cert.spki);
    if (!details) {
      const k = publicKeyFromSpki(cert.spki);
      details = { type: k.asymmetricKeyType, ...k.asymmetricKeyDetails };
    }
  } catch (err) {
    throw new MtlsError('bad-pem', `${source ?? 'The certificate'} cannot be parsed (${(err as Error).message}).`, undefined, { cause: err });
  }
  let ku: ParsedExtension | undefined, eku: ParsedExtension | undefined, bcExt: ParsedExtension | undefined;
  let skiExt: ParsedExtension | undefined, akiExt: ParsedExtension | undefined, sanExt: ParsedExtension | undefined;
  for (const e of cert.extensions) {
    switch (e.oid) {
      case OID.keyUsage: ku ??= e; break;
      case OID.extKeyUsage: eku ??= e; break;
      case OID.basicConstraints: bcExt ??= e; break;
      case OID.subjectKeyId: skiExt ??= e; break;
      case OID.authorityKeyId: akiExt ??= e; break;
      case OID.subjectAltName: sanExt ??= e; break;
    }
  }
  const bc = bcExt ? decodeBasicConstraints(bcExt.value) : undefined;
  const isCa = !!bc?.ca;
  const selfSigned = cert.subject.der.equals(cert.issuer.der) && verifyCertificateSignature(der, publicKeyFromSpki(cert.spki));
  const sha256 = crypto.hash('sha256', der, 'hex');
  const sha1 = crypto.hash('sha1', der, 'hex');
  const notBefore = cert.notBefore;
  const notAfter = cert.notAfter;
  const extKeyUsage = eku ? decodeExtKeyUsage(eku.value).map(u => EKU_NAMES[u] ?? u) : [];
  const aki = akiExt ? decodeAuthorityKeyId(akiExt.value) : undefined;
  return {
    subject: cert.subject.text,
    subjectCn: field(cert.subject, 'CN'),
    subjectOrg: field(cert.subject, 'O'),
    issuer: cert.issuer.text,
    issuerCn: field(cert.issuer, 'CN'),
    serial: cert.serial,
    sans: sanExt ? decodeSans(sanExt.value) : [],
    keyType: (details.type ?? 'unknown').toUpperCase(),
    keyBits: details.modulusLength ?? (details.namedCurve ? curveBits(details.namedCurve) : undefined),
    curve: details.namedCurve ? curveName(details.namedCurve) : undefined,
    signatureAlgorithm: SIG_ALG_NAMES[cert.signatureOid] ?? cert.signatureOid,
    keyUsage: ku ? decodeKeyUsage(ku.value) : [],
    keyUsageCritical: !!ku?.critical,
    extKeyUsage,
    basicConstraints: bc ? { ca: bc.ca, pathLength: bc.pathLength, critical: bcExt!.critical } : undefined,
    isCa,
    selfSigned,
    notBefore,
    notAfter,
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS),
    expired: now > notAfter,
    notYetValid: now < notBefore,
    fingerprintSha256: colonHex(sha256),
    fingerprintSha1: colonHex(sha1),
    sha256,
    ski: skiExt ? colonHex(decodeSubjectKeyId(skiExt.value).toString('hex')) : undefined,
    aki: aki ? colonHex(aki.toString('hex')) : undefined,
    profile: isCa ? 'ca' : extKeyUsage.includes('serverAuth') ? 'server' : extKeyUsage.includes('clientAuth') ? 'client' : undefined,
    pem,
  };
}

/** Checks `cert` against `ca`: signature, issuer name, validity at `at` (default now). */
export function verifyCertificate(certPem: string, caPem: string, at: Date = new Date()): VerifyResult {
  const cert = new crypto.X509Certificate(parseCertificate(certPem, 'the certificate'));
  const ca = new crypto.X509Certificate(parseCertificate(caPem, 'the CA certificate'));
  const problems: string[] = [];
  let signatureValid: boolean;
  try {
    signatureValid = cert.verify(ca.publicKey);
  } catch {
    signatureValid = false;
  }
  if (!signatureValid) problems.push('The signature does not verify with the CA\'s public key: this CA did not issue the certificate.');
  const issuerMatches = cert.issuer === ca.subject;
  if (!issuerMatches) problems.push(`The certificate's issuer (${cert.issuer.replace(/\n/g, ', ')}) is not the CA's subject (${ca.subject.replace(/\n/g, ', ')}).`);
  if (!ca.ca) problems.push('The CA certificate is not a CA (basicConstraints CA:TRUE is missing).');
  let timeValid = true;
  const nb = new Date(cert.validFrom), na = new Date(cert.validTo);
  if (at < nb) { timeValid = false; problems.push(`The certificate is not valid before ${nb.toISOString()}.`); }
  if (at > na) { timeValid = false; problems.push(`The certificate expired on ${na.toISOString()}.`); }
  const cnb = new Date(ca.validFrom), cna = new Date(ca.validTo);
  if (at < cnb || at > cna) { timeValid = false; problems.push(`The CA certificate is not valid at ${at.toISOString()} (${cnb.toISOString()} – ${cna.toISOString()}).`); }
  return { ok: problems.length === 0, signatureValid, issuerMatches, timeValid, problems };
}
