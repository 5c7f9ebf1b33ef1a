// X.509 building blocks on top of der.ts: names, extensions, certificates and CSRs. Signatures are made and
// checked by Node's crypto (OpenSSL): RSA PKCS#1 v1.5 with SHA-256, ECDSA with SHA-256/384/512.
import * as crypto from 'crypto';
import * as net from 'net';
import { MtlsError } from '../errors';
import type { SubjectAltName } from './types';
import { toPem } from './pem';
import {
  TAG, Tlv, bitString, bool, children, content, explicit, implicit, int, nul, octets, oid, readIntHex, readOid, readString, readTime,
  readTlv, seq, set, time, utf8, whole,
} from './der';

export const OID = {
  cn: '2.5.4.3', o: '2.5.4.10',
  basicConstraints: '2.5.29.19', keyUsage: '2.5.29.15', extKeyUsage: '2.5.29.37', subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14', authorityKeyId: '2.5.29.35', extensionRequest: '1.2.840.113549.1.9.14',
  serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2',
  sha256WithRSA: '1.2.840.113549.1.1.11', ecdsaSha256: '1.2.840.10045.4.3.2', ecdsaSha384: '1.2.840.10045.4.3.3', ecdsaSha512: '1.2.840.10045.4.3.4',
};

const NAME_OIDS: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.9': 'STREET',
  '2.5.4.5': 'serialNumber', '2.5.4.4': 'SN', '2.5.4.42': 'GN', '2.5.4.12': 'title', '2.5.4.17': 'postalCode',
  '1.2.840.113549.1.9.1': 'E', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
};

export const KEY_USAGE_BITS = [
  'digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly',
] as const;
export type KeyUsageName = (typeof KEY_USAGE_BITS)[number];

// ---- names ----------------------------------------------------------------------------------

/** A Name with O (if given) then CN, as UTF8Strings. */
export function encodeName(cn: string, org?: string): Buffer {
  const rdn = (type: string, value: string) => set(seq(oid(type), utf8(value)));
  return seq(...(org ? [rdn(OID.o, org)] : []), rdn(OID.cn, cn));
}

export interface ParsedName {
  /** "O=Acme, CN=Test CA\, Inc" (in encoded order, RFC 4514 escaping). */
  text: string;
  fields: { type: string; value: string }[];
  /** The encoded Name, byte for byte (an issuer is copied, never re-encoded). */
  der: Buffer;
}

/** RFC 4514 escaping of an attribute value. */
export function escapeDnValue(v: string): string {
  if (!/[,+"\\<>;=]|^[ #]| $/.test(v)) return v;
  return v.replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}

// Attribute labels as `openssl -nameopt RFC2253` prints them, for names compared with openssl output and
// Cloudflare's cf-cert-*-dn headers (NAME_OIDS above are the display labels of the tree and inspector).
const RFC2253_LABELS: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber', '2.5.4.9': 'street', '2.5.4.17': 'postalCode', '2.5.4.12': 'title',
  '1.2.840.113549.1.9.1': 'emailAddress', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
};
// The string types readString decodes; any other value comes back as RFC 4514 "#<hex of the DER>".
const STRING_TAGS = new Set([0x0c, 0x12, 0x13, 0x14, 0x16, 0x1a, 0x1c, 0x1e]);

/**
 * A Name (DER) as an RFC 4514 string, most specific first ("CN=x,O=y,C=z"), the order and labels
 * `openssl -nameopt RFC2253` and Cloudflare's cf-cert-*-dn headers use; multi-valued RDNs joined by "+".
 * (parseName gives the encoded order with ", " for display; this is the comparison form.)
 */
export function nameToRfc2253(der: Buffer): string {
  const rdns = children(der, readTlv(der, 0)).map(rdn =>
    children(der, rdn).map(atv => {
      const [type, value] = children(der, atv);
      const id = readOid(der, type);
      const text = readString(der, value);
      return `${RFC2253_LABELS[id] ?? id}=${STRING_TAGS.has(value.tag) ? escapeDnValue(text) : text}`;
    }).join('+'));
  return rdns.reverse().join(',');
}

/** A key identifier as uppercase hex: "AB:CD:…" (`colon`, as openssl prints it) or "ABCD…" (`plain`, Cloudflare's cert_issuer_ski). */
export function formatKeyId(id: Buffer, style: 'colon' | 'plain' = 'colon'): string {
  const hex = id.toString('hex');
  return style === 'plain' ? hex.toUpperCase() : colonHex(hex);
}

/** Lowercase or uppercase hex digits as "AB:CD:…" (uppercase, a colon between bytes). */
export function colonHex(hex: string): string {
  if (hex.length < 2) return hex.toUpperCase();
  // Written into one buffer: thousands of fingerprints per store scan, each without intermediate strings.
  const out = Buffer.allocUnsafe((hex.length >> 1) * 3 - 1);
  let o = 0;
  for (let i = 0; i + 1 < hex.length; i += 2) {
    if (i) out[o++] = 0x3a;
    const a = hex.charCodeAt(i), b = hex.charCodeAt(i + 1);
    out[o++] = a >= 0x61 ? a - 0x20 : a;
    out[o++] = b >= 0x61 ? b - 0x20 : b;
  }
  return out.toString('latin1', 0, o);
}

const EC_CURVES: Record<string, string> = { '1.2.840.10045.3.1.7': 'prime256v1', '1.3.132.0.34': 'secp384r1', '1.3.132.0.35': 'secp521r1', '1.3.132.0.10': 'secp256k1', '1.2.840.10045.3.1.1': 'prime192v1' };
const KEY_TYPES: Record<string, string> = { '1.2.840.113549.1.1.1': 'rsa', '1.2.840.10045.2.1': 'ec', '1.3.101.112': 'ed25519', '1.3.101.113': 'ed448', '1.2.840.113549.1.1.10': 'rsa-pss' };

/**
 * The key type, RSA modulus length and EC curve of a SubjectPublicKeyInfo, read from the DER (Node's names:
 * 'rsa', 'ec', 'prime256v1'…), or undefined for what this reader does not know (then ask Node).
 */
export function spkiDetails(spki: Buffer): { type: string; modulusLength?: number; namedCurve?: string } | undefined {
  try {
    const [alg, bits] = children(spki, readTlv(spki, 0));
    const [algOid, params] = children(spki, alg);
    const type = KEY_TYPES[readOid(spki, algOid)];
    if (!type || type === 'rsa-pss') return undefined;
    if (type === 'ec') {
      const curve = params && params.tag === TAG.OID ? EC_CURVES[readOid(spki, params)] : undefined;
      return curve ? { type, namedCurve: curve } : undefined;
    }
    if (type === 'rsa') {
      const key = spki.subarray(bits.start + 1, bits.end); // RSAPublicKey inside the BIT STRING
      const [modulus] = children(key, readTlv(key, 0));
      let m = content(key, modulus);
      while (m.length > 1 && m[0] === 0) m = m.subarray(1);
      return { type, modulusLength: (m.length - 1) * 8 + (32 - Math.clz32(m[0])) };
    }
    return { type };
  } catch {
    return undefined;
  }
}

/** The public key of a DER SubjectPublicKeyInfo. */
export function publicKeyFromSpki(spki: Buffer): crypto.KeyObject {
  return crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

/** The Subject Key Identifier of a DER certificate, undefined when absent or unreadable. */
export function certificateSki(der: Buffer): Buffer | undefined {
  try {
    const ext = parseCertificateDer(der).extensions.find(e => e.oid === OID.subjectKeyId);
    return ext ? decodeSubjectKeyId(ext.value) : undefined;
  } catch {
    return undefined;
  }
}

export function parseName(buf: Buffer, t: Tlv): ParsedName {
  const fields: { type: string; value: string }[] = [];
  const rdns: string[] = [];
  for (const rdn of children(buf, t)) {
    const parts: string[] = [];
    for (const atv of children(buf, rdn)) {
      const [typeTlv, valueTlv] = children(buf, atv);
      const typeOid = readOid(buf, typeTlv);
      const type = NAME_OIDS[typeOid] ?? typeOid;
      const value = readString(buf, valueTlv);
      fields.push({ type, value });
      parts.push(`${type}=${escapeDnValue(value)}`);
    }
    rdns.push(parts.join('+'));
  }
  return { text: rdns.join(', '), fields, der: whole(buf, t) };
}

export const field = (n: ParsedName, type: string): string | undefined => n.fields.find(f => f.type === type)?.value;

// ---- extensions -----------------------------------------------------------------------------

export function extension(type: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(type), ...(critical ? [bool(true)] : []), octets(value));
}

export function basicConstraints(ca: boolean, pathLength?: number): Buffer {
  return extension(OID.basicConstraints, true, seq(...(ca ? [bool(true)] : []), ...(ca && pathLength !== undefined ? [int(pathLength)] : [])));
}

export function keyUsage(usages: KeyUsageName[]): Buffer {
  let bits = 0;
  for (const u of usages) bits |= 1 << (15 - KEY_USAGE_BITS.indexOf(u));
  const bytes = bits & 0xff ? Buffer.from([bits >> 8, bits & 0xff]) : Buffer.from([bits >> 8]);
  const last = bytes[bytes.length - 1];
  let unused = 0;
  while (unused < 8 && !(last & (1 << unused))) unused++;
  return extension(OID.keyUsage, true, bitString(bytes, last ? unused : 0));
}

export function extKeyUsage(oids: string[]): Buffer {
  return extension(OID.extKeyUsage, false, seq(...oids.map(oid)));
}

export function subjectAltName(sans: SubjectAltName[]): Buffer {
  const names = sans.map(s => {
    if (s.type === 'email') return implicit(1, Buffer.from(s.value, 'ascii'));
    if (s.type === 'dns') return implicit(2, Buffer.from(s.value, 'ascii'));
    if (s.type === 'uri') return implicit(6, Buffer.from(s.value, 'ascii'));
    return implicit(7, ipBytes(s.value));
  });
  return extension(OID.subjectAltName, false, seq(...names));
}

function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!net.isIPv6(ip)) throw new MtlsError('bad-option', `"${ip}" is not an IP address.`);
  // expand "::" and an embedded IPv4 tail
  let s = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const groups = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function ipText(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length !== 16) return b.toString('hex');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // compress the longest run of zero groups, as the canonical form does
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** The key identifier RFC 5280 4.2.1.2 (1): SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(spki: Buffer): Buffer {
  const outer = readTlv(spki, 0);
  const [, bits] = children(spki, outer);
  return crypto.createHash('sha1').update(spki.subarray(bits.start + 1, bits.end)).digest();
}

export const subjectKeyIdentifier = (keyId: Buffer): Buffer => extension(OID.subjectKeyId, false, octets(keyId));
export const authorityKeyIdentifier = (keyId: Buffer): Buffer => extension(OID.authorityKeyId, false, seq(implicit(0, keyId)));

export interface ParsedExtension {
  oid: string;
  critical: boolean;
  /** The extnValue contents (the DER inside the OCTET STRING). */
  value: Buffer;
}

export function parseExtensions(buf: Buffer, t: Tlv): ParsedExtension[] {
  return children(buf, t).map(ext => {
    const parts = children(buf, ext);
    const critical = parts.length === 3 && parts[1].tag === TAG.BOOLEAN && buf[parts[1].start] !== 0;
    return { oid: readOid(buf, parts[0]), critical, value: content(buf, parts[parts.length - 1]) };
  });
}

export function decodeSans(value: Buffer): SubjectAltName[] {
  const out: SubjectAltName[] = [];
  for (const gn of children(value, readTlv(value, 0))) {
    const c = content(value, gn);
    switch (gn.tag) {
      case 0x81: out.push({ type: 'email', value: c.toString('latin1') }); break;
      case 0x82: out.push({ type: 'dns', value: c.toString('latin1') }); break;
      case 0x86: out.push({ type: 'uri', value: c.toString('latin1') }); break;
      case 0x87: out.push({ type: 'ip', value: ipText(c) }); break;
      default: break; // otherName, directoryName…: not shown
    }
  }
  return out;
}

export function decodeKeyUsage(value: Buffer): KeyUsageName[] {
  const t = readTlv(value, 0);
  const bytes = value.subarray(t.start + 1, t.end);
  return KEY_USAGE_BITS.filter((_, i) => i < bytes.length * 8 && bytes[i >> 3] & (0x80 >> (i & 7)));
}

export function decodeExtKeyUsage(value: Buffer): string[] {
  return children(value, readTlv(value, 0)).map(t => readOid(value, t));
}

export function decodeBasicConstraints(value: Buffer): { ca: boolean; pathLength?: number } {
  const parts = children(value, readTlv(value, 0));
  let ca = false;
  let pathLength: number | undefined;
  for (const p of parts) {
    if (p.tag === TAG.BOOLEAN) ca = value[p.start] !== 0;
    else if (p.tag === TAG.INTEGER) pathLength = parseInt(readIntHex(value, p), 16);
  }
  return { ca, pathLength };
}

export function decodeSubjectKeyId(value: Buffer): Buffer {
  return content(value, readTlv(value, 0));
}

export function decodeAuthorityKeyId(value: Buffer): Buffer | undefined {
  const kid = children(value, readTlv(value, 0)).find(p => p.tag === 0x80);
  return kid ? content(value, kid) : undefined;
}

// ---- certificates ---------------------------------------------------------------------------

/** Signature algorithm for a signing key: OID, AlgorithmIdentifier, hash. */
export function signatureAlgorithmFor(key: crypto.KeyObject): { algId: Buffer; hash: string } {
  if (key.asymmetricKeyType === 'rsa') return { algId: seq(oid(OID.sha256WithRSA), nul()), hash: 'sha256' };
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return { algId: seq(oid(OID.ecdsaSha256)), hash: 'sha256' };
    if (curve === 'secp384r1') return { algId: seq(oid(OID.ecdsaSha384)), hash: 'sha384' };
    if (curve === 'secp521r1') return { algId: seq(oid(OID.ecdsaSha512)), hash: 'sha512' };
    throw new MtlsError('unsupported', `Signing with an EC key on the curve ${curve} is not supported; use P-256 or P-384.`);
  }
  throw new MtlsError('unsupported', `Signing with a ${key.asymmetricKeyType} key is not supported; use an RSA or EC (P-256/P-384) key.`);
}

export interface CertificateTemplate {
  serial: Buffer;
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** SubjectPublicKeyInfo DER. */
  spki: Buffer;
  extensions: Buffer[];
}

/** Lays out the TBSCertificate, signs it with `signingKey` and returns the certificate as PEM. */
export function signCertificate(t: CertificateTemplate, signingKey: crypto.KeyObject): string {
  const { algId, hash } = signatureAlgorithmFor(signingKey);
  const tbs = seq(
    explicit(0, int(2)), // v3
    int(t.serial),
    algId,
    t.issuer,
    seq(time(t.notBefore), time(t.notAfter)),
    t.subject,
    t.spki,
    explicit(3, seq(...t.extensions)),
  );
  const signature = crypto.sign(hash, tbs, signingKey); // ECDSA signatures come DER-encoded, as X.509 wants
  const der = seq(tbs, algId, bitString(signature));
  return toPem('CERTIFICATE', der);
}

export interface ParsedCertificate {
  serial: string;
  signatureOid: string;
  issuer: ParsedName;
  subject: ParsedName;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: ParsedExtension[];
}

/** Issuer names read lately, by their encoding: the certificates of a store mostly share a few issuers. */
const issuerNames = new Map<string, ParsedName>();

/** parseName for an issuer, remembered (frozen, with its own copy of the bytes) while few issuers are seen. */
function parseIssuerName(der: Buffer, t: Tlv): ParsedName {
  const key = der.toString('latin1', t.offset, t.end);
  let name = issuerNames.get(key);
  if (!name) {
    const parsed = parseName(der, t);
    name = Object.freeze({ text: parsed.text, fields: Object.freeze(parsed.fields.map(f => Object.freeze(f))) as ParsedName['fields'], der: Buffer.from(parsed.der) });
    if (issuerNames.size >= 64) issuerNames.clear();
    issuerNames.set(key, name);
  }
  return name;
}

export function parseCertificateDer(der: Buffer): ParsedCertificate {
  const cert = readTlv(der, 0);
  const [tbs, sigAlg] = children(der, cert);
  const parts = children(der, tbs);
  let i = 0;
  if (parts[i].tag === 0xa0) i++; // version
  const serial = readIntHex(der, parts[i++]);
  i++; // signature algorithm inside the TBS
  const issuer = parseIssuerName(der, parts[i++]);
  const [nb, na] = children(der, parts[i++]);
  const subject = parseName(der, parts[i++]);
  const spki = whole(der, parts[i++]);
  const extTlv = parts.slice(i).find(p => p.tag === 0xa3);
  const extensions = extTlv ? parseExtensions(der, children(der, extTlv)[0]) : [];
  return {
    serial,
    signatureOid: readOid(der, children(der, sigAlg)[0]),
    issuer,
    subject,
    notBefore: readTime(der, nb),
    notAfter: readTime(der, na),
    spki,
    extensions,
  };
}

// ---- certificate signing requests -----------------------------------------------------------

export interface ParsedCsr {
  subject: ParsedName;
  spki: Buffer;
  extensions: ParsedExtension[];
}

export function parseCsrDer(der: Buffer): ParsedCsr {
  const req = readTlv(der, 0);
  const [info] = children(der, req);
  const [, subjectTlv, spkiTlv, attrs] = children(der, info);
  const extensions: ParsedExtension[] = [];
  if (attrs && attrs.tag === 0xa0) {
    for (const attr of children(der, attrs)) {
      const [type, values] = children(der, attr);
      if (readOid(der, type) === OID.extensionRequest) extensions.push(...parseExtensions(der, children(der, values)[0]));
    }
  }
  return { subject: parseName(der, subjectTlv), spki: whole(der, spkiTlv), extensions };
}

