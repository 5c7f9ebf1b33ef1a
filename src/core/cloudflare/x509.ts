// What the Cloudflare plan needs to know about a PEM certificate, with Node's crypto only (no heavy
// X.509 library on this path): fingerprint, serial, CA flag, SKI, key type. The key/certificate match is the PKI core's.
import * as crypto from 'crypto';
import { MtlsError } from '../errors';
import { certificateSki, formatKeyId } from '../pki/x509';
import { certificateDers, toPem } from '../pki/pem';

export interface CertInfo {
  pem: string;
  /** SHA-256 of the DER, lowercase hex without colons (the form cf.tls_client_auth.cert_fingerprint_sha256 uses). */
  fingerprint256: string;
  /** Serial number as a decimal string (Cloudflare's `serial_number` form). */
  serialDecimal: string;
  serialHex: string;
  isCa: boolean;
  /** Subject Key Identifier, uppercase hex (the form cf.tls_client_auth.cert_issuer_ski uses), if present. */
  ski?: string;
  subjectCn?: string;
  subject: string;
  issuer: string;
  keyType?: string;
  validTo: Date;
  x509: crypto.X509Certificate;
}

/** The certificates in a PEM bundle, in order (the PKI core's linear PEM splitter). */
export function splitPem(pem: string): string[] {
  return certificateDers(pem).map(der => toPem('CERTIFICATE', der));
}

export function certInfo(pem: string, what = 'certificate'): CertInfo {
  const first = splitPem(pem)[0];
  if (!first) throw new MtlsError('cert-invalid', `The ${what} is not a PEM certificate (no BEGIN CERTIFICATE block).`);
  let x: crypto.X509Certificate;
  try {
    x = new crypto.X509Certificate(first);
  } catch (err) {
    throw new MtlsError('cert-invalid', `The ${what} could not be parsed: ${(err as Error).message}.`, undefined, { cause: err });
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x.subject)?.[1];
  return {
    pem: first,
    fingerprint256: x.fingerprint256.replace(/:/g, '').toLowerCase(),
    serialHex: x.serialNumber.toUpperCase(),
    serialDecimal: BigInt('0x' + x.serialNumber).toString(10),
    isCa: x.ca,
    ski: subjectKeyIdentifier(x.raw),
    subjectCn: cn,
    subject: x.subject.replace(/\n/g, ', '),
    issuer: x.issuer.replace(/\n/g, ', '),
    keyType: x.publicKey.asymmetricKeyType,
    validTo: new Date(x.validTo),
    x509: x,
  };
}

/** Whether a remote certificate record (Cloudflare's list answer) is the same certificate as `local`. */
export function sameCertificate(local: CertInfo, remote: { certificates?: string; certificate?: string; serial_number?: string; issuer?: string }): boolean {
  const pem = remote.certificates ?? remote.certificate;
  if (pem) {
    const first = splitPem(pem)[0];
    if (first) {
      try {
        return new crypto.X509Certificate(first).fingerprint256.replace(/:/g, '').toLowerCase() === local.fingerprint256;
      } catch { /* fall through to the serial */ }
    }
  }
  if (remote.serial_number) {
    const s = remote.serial_number.replace(/:/g, '').trim();
    const asDecimal = /^[0-9]+$/.test(s) ? s : undefined;
    const matches = asDecimal === local.serialDecimal || s.toUpperCase() === local.serialHex;
    // A serial alone is only unique per issuer: require the issuer CN to match too when both are known.
    const cn = /CN=([^,\n]+)/.exec(local.issuer)?.[1];
    return matches && (!remote.issuer || !cn || remote.issuer.includes(cn));
  }
  return false;
}

/** The Subject Key Identifier as uppercase hex (the form cf.tls_client_auth.cert_issuer_ski uses), read by the PKI core's DER reader. */
export function subjectKeyIdentifier(der: Buffer): string | undefined {
  const ski = certificateSki(der);
  return ski ? formatKeyId(ski, 'plain') : undefined;
}
