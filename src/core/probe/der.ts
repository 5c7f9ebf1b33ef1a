// A tiny DER reader and writer: enough to read the names and key identifiers out of certificates and
// CertificateRequest messages, and to mint the throw-away certificates the probes and the local edge need,
// without pulling a full ASN.1 library into every probe run.
import * as crypto from 'crypto';

export interface DerNode {
  /** Full identifier octet (class, constructed bit, tag number < 31). */
  tag: number;
  /** Offset of the identifier in the buffer. */
  start: number;
  /** Offset of the contents. */
  contentStart: number;
  /** Offset just after the contents. */
  end: number;
  buf: Buffer;
}

export function readNode(buf: Buffer, offset = 0): DerNode {
  if (offset + 2 > buf.length) throw new Error('DER: truncated');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: high tag numbers are not supported');
  let len = buf[offset + 1];
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('DER: bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++];
  }
  if (p + len > buf.length) throw new Error('DER: truncated');
  return { tag, start: offset, contentStart: p, end: p + len, buf };
}

export function children(node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  let p = node.contentStart;
  while (p < node.end) {
    const c = readNode(node.buf, p);
    out.push(c);
    p = c.end;
  }
  return out;
}

export function content(node: DerNode): Buffer {
  return node.buf.subarray(node.contentStart, node.end);
}

export function raw(node: DerNode): Buffer {
  return node.buf.subarray(node.start, node.end);
}

export function decodeOid(bytes: Buffer): string {
  const parts: number[] = [Math.floor(bytes[0] / 40), bytes[0] % 40];
  let v = 0;
  for (let i = 1; i < bytes.length; i++) {
    v = v * 128 + (bytes[i] & 0x7f);
    if (!(bytes[i] & 0x80)) { parts.push(v); v = 0; }
  }
  return parts.join('.');
}

const NAME_OIDS: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber', '2.5.4.9': 'street', '2.5.4.17': 'postalCode', '2.5.4.12': 'title',
  '1.2.840.113549.1.9.1': 'emailAddress', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
};

function decodeString(node: DerNode): string {
  const c = content(node);
  switch (node.tag) {
    case 0x1e: { // BMPString: UTF-16BE
      const swapped = Buffer.from(c);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    case 0x13: case 0x16: case 0x14: return c.toString('latin1'); // Printable, IA5, Teletex
    default: return c.toString('utf8');
  }
}

function escapeRdnValue(v: string): string {
  return v.replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}

/**
 * A Name (SEQUENCE OF RDN) as an RFC 4514 string, most specific first ("CN=x,O=y,C=z"), the order
 * `openssl -nameopt RFC2253` and Cloudflare's cf-cert-*-dn headers use.
 */
export function nameToString(der: Buffer): string {
  const rdns = children(readNode(der)).map(set =>
    children(set).map(atv => {
      const [oid, value] = children(atv);
      const id = decodeOid(content(oid));
      return `${NAME_OIDS[id] ?? id}=${escapeRdnValue(decodeString(value))}`;
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
  /** Uppercase hex of the serial number, without leading zero bytes. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** Uppercase hex of the SubjectKeyIdentifier, when present. */
  ski?: string;
  /** Uppercase hex of the AuthorityKeyIdentifier's keyIdentifier, when present. */
  aki?: string;
}

/** Subject, issuer and key identifiers of a DER certificate. */
export function certFields(der: Buffer): CertFields {
  const tbs = children(readNode(der))[0];
  const parts = children(tbs);
  let i = parts[0].tag === 0xa0 ? 1 : 0; // [0] version
  const serial = content(parts[i++]);
  i++; // signature algorithm
  const issuer = parts[i++];
  const [notBefore, notAfter] = children(parts[i++]).map(decodeTime);
  const subject = parts[i++];
  let s = 0;
  while (s < serial.length - 1 && serial[s] === 0) s++;
  const fields: CertFields = {
    subjectDer: Buffer.from(raw(subject)), issuerDer: Buffer.from(raw(issuer)),
    subject: nameToString(raw(subject)), issuer: nameToString(raw(issuer)),
    serial: serial.subarray(s).toString('hex').toUpperCase(), notBefore, notAfter,
  };
  const extWrapper = parts.find(p => p.tag === 0xa3);
  if (extWrapper) {
    for (const ext of children(children(extWrapper)[0])) {
      const ec = children(ext);
      const oid = decodeOid(content(ec[0]));
      const value = content(ec[ec.length - 1]);
      if (oid === '2.5.29.14') fields.ski = content(readNode(value)).toString('hex').toUpperCase();
      if (oid === '2.5.29.35') {
        const kid = children(readNode(value)).find(c => c.tag === 0x80);
        if (kid) fields.aki = content(kid).toString('hex').toUpperCase();
      }
    }
  }
  return fields;
}

/** UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ). */
function decodeTime(node: DerNode): Date {
  const t = content(node).toString('latin1');
  const full = node.tag === 0x17 ? (Number(t.slice(0, 2)) < 50 ? '20' : '19') + t : t;
  const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?/.exec(full);
  if (!m) throw new Error(`DER: bad time ${t}`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
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

// ---------------------------------------------------------------- writer

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) { bytes.unshift(n & 0xff); n = Math.floor(n / 256); }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

export const seq = (...parts: Buffer[]) => tlv(0x30, ...parts);
export const set = (...parts: Buffer[]) => tlv(0x31, ...parts);
export const octets = (b: Buffer) => tlv(0x04, b);
export const bitString = (b: Buffer) => tlv(0x03, Buffer.from([0]), b);
export const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
export const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));

export function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && !(b[i + 1] & 0x80)) i++;
  const v = b.subarray(i);
  return tlv(0x02, v[0] & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

export function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a * 40 + b];
  for (const n of rest) {
    const groups: number[] = [];
    let v = n;
    do { groups.unshift(v & 0x7f); v = Math.floor(v / 128); } while (v > 0);
    for (let i = 0; i < groups.length - 1; i++) groups[i] |= 0x80;
    bytes.push(...groups);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2) + 'Z')) : tlv(0x18, Buffer.from(iso + 'Z'));
}

export function simpleName(cn: string, org?: string): Buffer {
  const rdns = [];
  if (org) rdns.push(set(seq(oid('2.5.4.10'), utf8(org))));
  rdns.push(set(seq(oid('2.5.4.3'), utf8(cn))));
  return seq(...rdns);
}

export interface MintOptions {
  subject: Buffer;
  /** Public key of the new certificate. */
  publicKey: crypto.KeyObject;
  issuer?: { name: Buffer; key: crypto.KeyObject; ski: Buffer };
  /** Self-signed when no issuer: this key signs. */
  signingKey?: crypto.KeyObject;
  ca?: boolean;
  eku?: ('clientAuth' | 'serverAuth')[];
  sans?: string[];
  days?: number;
  notBefore?: Date;
}

const EKU_OIDS = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' };

function ext(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

/** An X.509 v3 certificate signed with ECDSA-SHA256 (EC keys) or RSA-SHA256; returns its DER and SKI. */
export function mintCertificate(o: MintOptions): { der: Buffer; ski: Buffer } {
  const spki = o.publicKey.export({ type: 'spki', format: 'der' });
  const spkiNode = readNode(spki);
  const keyBits = content(children(spkiNode)[1]).subarray(1);
  const ski = crypto.createHash('sha1').update(keyBits).digest();
  const signer = o.issuer?.key ?? o.signingKey;
  if (!signer) throw new Error('mintCertificate: no signing key');
  const sigAlg = signer.asymmetricKeyType === 'ec' ? seq(oid('1.2.840.10045.4.3.2')) : seq(oid('1.2.840.113549.1.1.11'), tlv(0x05));
  const notBefore = o.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + (o.days ?? 7) * 86400_000);
  const exts: Buffer[] = [
    ext('2.5.29.19', true, o.ca ? seq(bool(true)) : seq()),
    ext('2.5.29.15', true, o.ca ? tlv(0x03, Buffer.from([1, 0x06])) : tlv(0x03, Buffer.from([7, 0x80]))),
    ext('2.5.29.14', false, octets(ski)),
  ];
  if (o.issuer) exts.push(ext('2.5.29.35', false, seq(tlv(0x80, o.issuer.ski))));
  if (o.eku?.length) exts.push(ext('2.5.29.37', false, seq(...o.eku.map(e => oid(EKU_OIDS[e])))));
  if (o.sans?.length) {
    exts.push(ext('2.5.29.17', false, seq(...o.sans.map(s => {
      if (/^\d+\.\d+\.\d+\.\d+$/.test(s)) return tlv(0x87, Buffer.from(s.split('.').map(Number)));
      return tlv(0x82, Buffer.from(s, 'ascii'));
    }))));
  }
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(Buffer.concat([Buffer.from([0x01]), crypto.randomBytes(15)])),
    sigAlg,
    o.issuer?.name ?? o.subject,
    seq(time(notBefore), time(notAfter)),
    o.subject,
    spki,
    tlv(0xa3, seq(...exts)),
  );
  const signature = crypto.sign('sha256', tbs, signer);
  return { der: seq(tbs, sigAlg, bitString(signature)), ski };
}
