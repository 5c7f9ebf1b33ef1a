// What the probes read out of certificates and CertificateRequest messages: names as RFC 4514 strings and
// the fields the checks compare. The DER and X.509 parsing, DN formatting and PEM splitting are the PKI core's.
import { OID, decodeAuthorityKeyId, decodeSubjectKeyId, formatKeyId, nameToRfc2253, parseCertificateDer } from '../pki/x509';
import { certificateDers, toPem } from '../pki/pem';

/** A Name (DER) as `openssl -nameopt RFC2253` prints it: the PKI core's formatting. */
export const nameToString = nameToRfc2253;

/** A lenient comparison key for DNs written by different tools (case, spaces around separators). */
export function normalizeDn(dn: string): string {
  return dn.split(/(?<!\\)[,+]/).map(p => p.trim().replace(/\s+/g, ' ').toLowerCase()).sort().join(',');
}

export interface CertFields {
  subjectDer: Buffer;
  issuerDer: Buffer;
  subject: string;
  issuer: string;
  /** Uppercase hex of the serial number without leading zeros (as Cloudflare's cf-cert-serial header shows it). */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** Uppercase hex of the SubjectKeyIdentifier, when present. */
  ski?: string;
  /** Uppercase hex of the AuthorityKeyIdentifier's keyIdentifier, when present. */
  aki?: string;
}

/** Subject, issuer and key identifiers of a DER certificate (parsed by the PKI core). */
export function certFields(der: Buffer): CertFields {
  const c = parseCertificateDer(der);
  const fields: CertFields = {
    subjectDer: Buffer.from(c.subject.der), issuerDer: Buffer.from(c.issuer.der),
    subject: nameToString(c.subject.der), issuer: nameToString(c.issuer.der),
    serial: c.serial.toUpperCase().replace(/^0+(?=.)/, ''), notBefore: c.notBefore, notAfter: c.notAfter,
  };
  const ski = c.extensions.find(e => e.oid === OID.subjectKeyId);
  if (ski) fields.ski = formatKeyId(decodeSubjectKeyId(ski.value), 'plain');
  const aki = c.extensions.find(e => e.oid === OID.authorityKeyId);
  const kid = aki && decodeAuthorityKeyId(aki.value);
  if (kid) fields.aki = formatKeyId(kid, 'plain');
  return fields;
}

/** DER of every certificate in a PEM text (the PKI core's linear PEM splitter). */
export const pemToDers = certificateDers;

export function derToPem(der: Buffer, label = 'CERTIFICATE'): string {
  return toPem(label, der);
}
