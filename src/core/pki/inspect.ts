// Inspecting and verifying certificates (RSA and EC): Node's X509Certificate for the key, fingerprints and
// signatures (OpenSSL underneath), @peculiar/x509 for the extensions Node does not expose.
import * as crypto from 'crypto';
import { MtlsError } from '../errors';
import type { CertificateInfo, SubjectAltName, VerifyResult } from './types';
import { parseCertificate } from './pem';
import { curveBits, curveName, OID_CLIENT_AUTH, OID_SERVER_AUTH, sanExtension, toArrayBuffer } from './certs';
import { x509 } from './lib';
import { signedParts } from './der';

const DAY_MS = 24 * 60 * 60 * 1000;

const KEY_USAGE_NAMES: [number, string][] = [
  [1, 'digitalSignature'], [2, 'nonRepudiation'], [4, 'keyEncipherment'], [8, 'dataEncipherment'], [16, 'keyAgreement'],
  [32, 'keyCertSign'], [64, 'cRLSign'], [128, 'encipherOnly'], [256, 'decipherOnly'],
];

const EKU_NAMES: Record<string, string> = {
  [OID_SERVER_AUTH]: 'serverAuth', [OID_CLIENT_AUTH]: 'clientAuth', '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection', '1.3.6.1.5.5.7.3.8': 'timeStamping', '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

const SIG_ALG_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption', '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption', '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss', '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256', '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512', '1.3.101.112': 'ED25519',
};

/** "ab12…" -> "AB:12:…" */
export function colonHex(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}

/** The SHA-256 of a certificate's DER as plain lowercase hex (Cloudflare's cert_fingerprint_sha256). */
export function sha256Hex(certPem: string): string {
  return new crypto.X509Certificate(certPem).fingerprint256.replace(/:/g, '').toLowerCase();
}

export function sansOf(extensions: { type: string; rawData: ArrayBuffer }[]): SubjectAltName[] {
  const ext = sanExtension(extensions);
  if (!ext) return [];
  const out: SubjectAltName[] = [];
  for (const n of ext.names.items) {
    if (n.type === 'dns' || n.type === 'ip' || n.type === 'email') out.push({ type: n.type, value: n.value });
    else if (n.type === 'url') out.push({ type: 'uri', value: n.value });
  }
  return out;
}

function sigAlgOid(der: Buffer): string | undefined {
  try {
    return signedParts(der).algorithmOid;
  } catch {
    return undefined;
  }
}

/** Everything a person wants to know about a certificate (RSA or EC). */
export function inspectCertificate(data: string | Uint8Array, source?: string, now = new Date()): CertificateInfo {
  const pem = parseCertificate(data, source);
  const X = x509();
  const node = new crypto.X509Certificate(pem);
  let cert: InstanceType<typeof X.X509Certificate>;
  try {
    cert = new X.X509Certificate(toArrayBuffer(node.raw));
  } catch (err) {
    throw new MtlsError('bad-pem', `${source ?? 'The certificate'} cannot be parsed (${(err as Error).message}).`, undefined, { cause: err });
  }
  const exts = cert.extensions;
  const find = (oid: string) => exts.find(e => e.type === oid);
  const ku = find('2.5.29.15');
  const usages = ku ? new X.KeyUsagesExtension(ku.rawData).usages : 0;
  const eku = find('2.5.29.37');
  const bcRaw = find('2.5.29.19');
  const bc = bcRaw ? new X.BasicConstraintsExtension(bcRaw.rawData) : undefined;
  const skiRaw = find('2.5.29.14');
  const akiRaw = find('2.5.29.35');
  const pub = node.publicKey;
  const details = pub.asymmetricKeyDetails ?? {};
  const isCa = !!bc?.ca;
  const selfSigned = node.subject === node.issuer && (() => { try { return node.verify(pub); } catch { return false; } })();
  const notBefore = new Date(node.validFrom);
  const notAfter = new Date(node.validTo);
  const extKeyUsage = eku ? Array.from(new X.ExtendedKeyUsageExtension(eku.rawData).usages).map(u => EKU_NAMES[String(u)] ?? String(u)) : [];
  const subjectName = cert.subjectName;
  const issuerName = cert.issuerName;
  const oid = sigAlgOid(node.raw);
  return {
    subject: cert.subject,
    subjectCn: subjectName.getField('CN')[0],
    subjectOrg: subjectName.getField('O')[0],
    issuer: cert.issuer,
    issuerCn: issuerName.getField('CN')[0],
    serial: node.serialNumber.toUpperCase().replace(/^(00)+(?=.)/, ''),
    sans: sansOf(exts),
    keyType: (pub.asymmetricKeyType ?? 'unknown').toUpperCase(),
    keyBits: details.modulusLength ?? (details.namedCurve ? curveBits(details.namedCurve) : undefined),
    curve: details.namedCurve ? curveName(details.namedCurve) : undefined,
    signatureAlgorithm: oid ? SIG_ALG_NAMES[oid] ?? oid : 'unknown',
    keyUsage: KEY_USAGE_NAMES.filter(([bit]) => usages & bit).map(([, name]) => name),
    keyUsageCritical: !!ku?.critical,
    extKeyUsage,
    basicConstraints: bc ? { ca: bc.ca, pathLength: bc.pathLength, critical: bc.critical } : undefined,
    isCa,
    selfSigned,
    notBefore,
    notAfter,
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS),
    expired: now > notAfter,
    notYetValid: now < notBefore,
    fingerprintSha256: node.fingerprint256,
    fingerprintSha1: node.fingerprint,
    sha256: node.fingerprint256.replace(/:/g, '').toLowerCase(),
    ski: skiRaw ? colonHex(new X.SubjectKeyIdentifierExtension(skiRaw.rawData).keyId) : undefined,
    aki: akiRaw ? (() => { const id = new X.AuthorityKeyIdentifierExtension(akiRaw.rawData).keyId; return id ? colonHex(id) : undefined; })() : undefined,
    profile: isCa ? 'ca' : extKeyUsage.includes('serverAuth') ? 'server' : extKeyUsage.includes('clientAuth') ? 'client' : undefined,
    pem,
  };
}

/** Checks `cert` against `ca`: signature, issuer name, validity at `at` (default now). */
export function verifyCertificate(certPem: string, caPem: string, at: Date = new Date()): VerifyResult {
  const cert = new crypto.X509Certificate(parseCertificate(certPem, 'the certificate'));
  const ca = new crypto.X509Certificate(parseCertificate(caPem, 'the CA certificate'));
  const problems: string[] = [];
  let signatureValid = false;
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
