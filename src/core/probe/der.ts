// What the probes read out of certificates and CertificateRequest messages: names as RFC 4514 strings and
// the fields the checks compare. The DER and X.509 parsing itself is the PKI core's (src/core/pki/der.ts,
// x509.ts); only the probe-specific string form of a DN lives here.
import { children, readOid, readString, readTlv } from '../pki/der';
import { OID, decodeAuthorityKeyId, decodeSubjectKeyId, parseCertificateDer } from '../pki/x509';

// Attribute labels as `openssl -nameopt RFC2253` prints them (pki/x509.ts uses its own, e.g. "E", for the
// tree and inspector; the probes compare with openssl output and Cloudflare's cf-cert-*-dn headers).
const NAME_LABELS: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber', '2.5.4.9': 'street', '2.5.4.17': 'postalCode', '2.5.4.12': 'title',
  '1.2.840.113549.1.9.1': 'emailAddress', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
};

// The string types pki/der.ts readString decodes; any other value comes back as RFC 4514 "#<hex of the DER>".
const STRING_TAGS = new Set([0x0c, 0x12, 0x13, 0x14, 0x16, 0x1a, 0x1c, 0x1e]);

function escapeRdnValue(v: string): string {
  return v.replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}

/**
 * A Name (SEQUENCE OF RDN, DER) as an RFC 4514 string, most specific first ("CN=x,O=y,C=z"), the order
 * `openssl -nameopt RFC2253` and Cloudflare's cf-cert-*-dn headers use. Multi-valued RDNs are joined by "+".
 * (pki/x509.ts parseName gives the encoded order with ", " for display; this is the comparison form.)
 */
export function nameToString(der: Buffer): string {
  const rdns = children(der, readTlv(der, 0)).map(set =>
    children(der, set).map(atv => {
      const [type, value] = children(der, atv);
      const id = readOid(der, type);
      const text = readString(der, value);
      return `${NAME_LABELS[id] ?? id}=${STRING_TAGS.has(value.tag) ? escapeRdnValue(text) : text}`;
    }).join('+'));
  return rdns.reverse().join(',');
}

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
  if (ski) fields.ski = decodeSubjectKeyId(ski.value).toString('hex').toUpperCase();
  const aki = c.extensions.find(e => e.oid === OID.authorityKeyId);
  const kid = aki && decodeAuthorityKeyId(aki.value);
  if (kid) fields.aki = kid.toString('hex').toUpperCase();
  return fields;
}

/** DER of every certificate in a PEM text. */
export function pemToDers(pem: string): Buffer[] {
  const out: Buffer[] = [];
  const re = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
  for (let m = re.exec(pem); m; m = re.exec(pem)) out.push(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
  return out;
}

export function derToPem(der: Buffer, label = 'CERTIFICATE'): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}
