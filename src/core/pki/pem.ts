// Reading PEM/DER certificates and keys, generating keys, SAN detection.
import * as crypto from 'crypto';
import * as net from 'net';
import { MtlsError } from '../errors';
import type { KeyAlgorithm, KeyPairPem, SanType, SubjectAltName } from './types';
import { KEY_ALGORITHMS } from './types';

function generateKeyPairAsync(type: 'rsa' | 'ec', options: object): Promise<{ publicKey: string; privateKey: string }> {
  return new Promise((resolve, reject) => {
    crypto.generateKeyPair(type as 'rsa', options as crypto.RSAKeyPairOptions<'pem', 'pem'>, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ publicKey, privateKey })));
  });
}

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);

function named(source?: string): string {
  return source ? source : 'the input';
}

export function checkKeyAlgorithm(algorithm: string): KeyAlgorithm {
  if (!(KEY_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new MtlsError('bad-option', `Unknown key type "${algorithm}".`, `Use one of ${KEY_ALGORITHMS.join(', ')}.`);
  }
  return algorithm as KeyAlgorithm;
}

/** Generates a key pair with Node's native async crypto (never blocks the event loop). */
export async function generateKey(algorithm: KeyAlgorithm): Promise<KeyPairPem> {
  checkKeyAlgorithm(algorithm);
  const encoding = { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } } as const;
  let pair: { publicKey: string; privateKey: string };
  if (algorithm.startsWith('rsa')) {
    pair = await generateKeyPairAsync('rsa', { modulusLength: Number(algorithm.slice(3)), publicExponent: 0x10001, ...encoding });
  } else {
    pair = await generateKeyPairAsync('ec', { namedCurve: algorithm === 'ec-p384' ? 'P-384' : 'P-256', ...encoding });
  }
  return { algorithm, keyPem: pair.privateKey, publicKeyPem: pair.publicKey };
}

/** The key algorithm of a key (PEM), as one of ours when it is one of ours. */
export function keyAlgorithmOf(key: crypto.KeyObject): KeyAlgorithm | undefined {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const a = `rsa${d.modulusLength}`;
    return (KEY_ALGORITHMS as readonly string[]).includes(a) ? (a as KeyAlgorithm) : undefined;
  }
  if (key.asymmetricKeyType === 'ec') {
    if (d.namedCurve === 'prime256v1' || d.namedCurve === 'P-256') return 'ec-p256';
    if (d.namedCurve === 'secp384r1' || d.namedCurve === 'P-384') return 'ec-p384';
  }
  return undefined;
}

function toText(data: string | Uint8Array): string | undefined {
  if (typeof data === 'string') return data;
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // DER starts with a SEQUENCE tag (0x30); anything else is read as (PEM) text.
  if (buf.length > 0 && buf[0] === 0x30 && !buf.subarray(0, 64).toString('latin1').includes('-----BEGIN')) return undefined;
  return buf.toString('latin1');
}

export interface PemBlock {
  /** "CERTIFICATE", "PRIVATE KEY", … */
  label: string;
  /** The base64 body without whitespace and without RFC 1421 headers (Proc-Type, DEK-Info). */
  body: string;
  der: Buffer;
  /** The block as it was written, BEGIN to END lines included (headers such as Proc-Type kept). */
  text: string;
}

export interface PemSplit {
  blocks: PemBlock[];
  /** "-----BEGIN" lines with no matching "-----END" line before the next BEGIN (a truncated or broken file). */
  unmatched: number;
}

const BEGIN = '-----BEGIN ';
const END = '-----END ';
const DASHES = '-----';

/**
 * Splits PEM text into its blocks in one pass: every search starts where the previous one stopped and the
 * next BEGIN/END positions are remembered, so the time is linear in the input whatever it holds (a file of
 * a million BEGIN lines without END included). The one PEM splitter of the code base.
 */
export function splitPem(text: string): PemSplit {
  const blocks: PemBlock[] = [];
  let unmatched = 0;
  let pos = 0;
  let nextEnd = -2; // cached index of the next END at or after pos (-1: none left)
  const endFrom = (from: number): number => {
    if (nextEnd === -1) return -1;
    if (nextEnd < from) nextEnd = text.indexOf(END, from);
    return nextEnd;
  };
  for (;;) {
    const b = text.indexOf(BEGIN, pos);
    if (b < 0) break;
    const labelStart = b + BEGIN.length;
    const labelEnd = text.indexOf(DASHES, labelStart);
    if (labelEnd < 0) break;
    const label = text.slice(labelStart, labelEnd);
    if (!/^[A-Z0-9 ]{1,64}$/.test(label)) {
      pos = labelStart;
      continue;
    }
    const bodyStart = labelEnd + DASHES.length;
    const nextBegin = text.indexOf(BEGIN, bodyStart);
    const e = endFrom(bodyStart);
    if (e < 0 || (nextBegin >= 0 && e > nextBegin)) {
      unmatched++;
      pos = nextBegin >= 0 ? nextBegin : text.length;
      continue;
    }
    const endLabelEnd = text.indexOf(DASHES, e + END.length);
    const endLabel = endLabelEnd < 0 ? '' : text.slice(e + END.length, endLabelEnd);
    pos = endLabelEnd < 0 ? text.length : endLabelEnd + DASHES.length;
    if (endLabel !== label) {
      unmatched++;
      continue;
    }
    const raw = text.slice(bodyStart, e);
    const body = (raw.includes(':') ? raw.replace(/^[A-Za-z-]+:.*$/gm, '') : raw).replace(/\s+/g, ''); // headers (Proc-Type: …) are rare
    blocks.push({ label, body, der: Buffer.from(body, 'base64'), text: text.slice(b, pos) + '\n' });
  }
  return { blocks, unmatched };
}

export function pemBlocks(text: string): PemBlock[] {
  return splitPem(text).blocks;
}

/** DER as PEM with 64-character lines. */
export function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n';
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

/**
 * `text` when it is exactly toPem(label, der) (one block, 64-character lines, "\n" endings), else undefined:
 * a file written that way is its own PEM, without encoding the DER again. The caller has decoded `der` from
 * `text` with strict base64, so matching length and line breaks leave no room for anything else.
 */
export function pemIfCanonical(text: string, label: string, der: Buffer): string | undefined {
  const head = `-----BEGIN ${label}-----\n`;
  const tail = `-----END ${label}-----\n`;
  const b64 = 4 * Math.ceil(der.length / 3);
  const lines = Math.ceil(b64 / 64);
  if (text.length !== head.length + b64 + lines + tail.length || !text.startsWith(head) || !text.endsWith(tail)) return undefined;
  for (let i = 1; i <= lines; i++) {
    if (text.charCodeAt(head.length + Math.min(i * 64, b64) + i - 1) !== 0x0a) return undefined;
  }
  return text;
}

/** The DER of every certificate block of a PEM text, in order (CERTIFICATE, X509 CERTIFICATE, TRUSTED CERTIFICATE). */
export function certificateDers(text: string): Buffer[] {
  return pemBlocks(text).filter(b => CERT_LABELS.has(b.label)).map(b => b.der);
}

function checkBase64(body: string, label: string, source?: string): void {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length === 0) {
    throw new MtlsError('bad-pem', `${named(source)} is not a valid PEM file: the ${label} block is not base64.`, 'The file may be truncated or edited by hand; export it again.');
  }
}

/** Reads every certificate from PEM (one or more blocks) or DER; returns normalized PEMs. Throws bad-pem naming `source`. */
export function parseCertificates(data: string | Uint8Array, source?: string): string[] {
  return readCertificates(data, source).map(x => x.toString());
}

/** Like parseCertificates, as Node X509Certificate objects (each certificate parsed once). */
export function readCertificates(data: string | Uint8Array, source?: string): crypto.X509Certificate[] {
  if (data.length === 0 || (typeof data === 'string' && data.trim() === '')) throw new MtlsError('bad-pem', `${named(source)} is empty.`);
  const text = toText(data);
  if (text === undefined) {
    const der = Buffer.from(data as Uint8Array);
    if (der.length === 0) throw new MtlsError('bad-pem', `${named(source)} is empty.`);
    try {
      return [new crypto.X509Certificate(der)];
    } catch (err) {
      throw new MtlsError('bad-pem', `${named(source)} is neither a PEM certificate nor a DER certificate (${(err as Error).message}).`, undefined, { cause: err });
    }
  }
  const { blocks, unmatched } = splitPem(text);
  if (blocks.length + unmatched === 0) {
    throw new MtlsError('bad-pem', `${named(source)} holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" line).`);
  }
  if (unmatched > 0) {
    throw new MtlsError('bad-pem', `${named(source)} is not a valid PEM file: a "-----BEGIN" line has no matching "-----END" line.`, 'The file may be truncated; export it again.');
  }
  const certs: crypto.X509Certificate[] = [];
  for (const b of blocks) {
    if (!CERT_LABELS.has(b.label)) continue;
    checkBase64(b.body, b.label, source);
    try {
      certs.push(new crypto.X509Certificate(b.der));
    } catch (err) {
      throw new MtlsError('bad-pem', `${named(source)} holds a CERTIFICATE block that is not a valid X.509 certificate (${(err as Error).message}).`, 'The file may be truncated or edited by hand; export it again.', { cause: err });
    }
  }
  if (certs.length === 0) {
    const labels = [...new Set(blocks.map(b => b.label))].join(', ');
    throw new MtlsError('bad-pem', `${named(source)} holds no certificate (it holds: ${labels}).`);
  }
  return certs;
}

/** The DER of the first certificate of PEM or DER data, without parsing it; throws bad-pem like parseCertificates. */
export function firstCertificateDer(data: string | Uint8Array, source?: string): Buffer {
  const text = data.length ? toText(data) : '';
  if (text !== undefined && /\S/.test(text)) {
    const { blocks, unmatched } = splitPem(text);
    const first = blocks.find(b => b.label === 'CERTIFICATE');
    if (first && unmatched === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(first.body) && first.body.length > 0) return first.der;
  } else if (text === undefined) {
    return Buffer.from(data as Uint8Array);
  }
  return readCertificates(data, source)[0].raw; // the precise error, or an unusual label (TRUSTED CERTIFICATE)
}

/** The first certificate of PEM or DER data. */
export function parseCertificate(data: string | Uint8Array, source?: string): string {
  return parseCertificates(data, source)[0];
}

/** True when `data` holds a PEM private key block (used to tell key files from certificates). */
export function hasPrivateKeyBlock(data: string | Uint8Array): boolean {
  const text = toText(data);
  return text !== undefined && /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(text);
}

/** Parses a private key into a KeyObject. */
export function privateKeyObject(data: string | Uint8Array, source?: string): crypto.KeyObject {
  const text = toText(data);
  if (text !== undefined) {
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
      throw new MtlsError('bad-key', `${named(source)} holds an encrypted private key.`, 'Decrypt it first, e.g. `openssl pkey -in key.pem -out plain.key`.');
    }
    const block = pemBlocks(text).find(b => /PRIVATE KEY$/.test(b.label));
    if (!block) {
      throw new MtlsError('bad-key', `${named(source)} holds no private key (no "-----BEGIN PRIVATE KEY-----" block).`);
    }
    checkBase64(block.body, block.label, source);
    try {
      return crypto.createPrivateKey({ key: `-----BEGIN ${block.label}-----\n${block.body.replace(/(.{64})/g, '$1\n')}\n-----END ${block.label}-----\n`, format: 'pem' });
    } catch (err) {
      throw new MtlsError('bad-key', `${named(source)} holds a private key that cannot be read (${(err as Error).message}).`, undefined, { cause: err });
    }
  }
  const der = Buffer.from(data as Uint8Array);
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      return crypto.createPrivateKey({ key: der, format: 'der', type });
    } catch {
      // try the next encoding
    }
  }
  throw new MtlsError('bad-key', `${named(source)} is neither a PEM nor a DER private key.`);
}

/** Reads a private key (PKCS#8, PKCS#1, SEC1; PEM or DER); returns PKCS#8 PEM. Throws bad-key. */
export function parsePrivateKey(data: string | Uint8Array, source?: string): string {
  return privateKeyObject(data, source).export({ type: 'pkcs8', format: 'pem' }) as string;
}

/**
 * True when the private key belongs to the certificate (same public key; RSA and EC). The one key/certificate
 * match of the code base. Throws bad-key when the key cannot be read, bad-pem when the certificate cannot.
 */
export function keyMatchesCertificate(certPem: string | crypto.X509Certificate, keyPem: string | Uint8Array): boolean {
  let cert: crypto.X509Certificate;
  try {
    cert = typeof certPem === 'string' ? new crypto.X509Certificate(certPem) : certPem;
  } catch (err) {
    throw new MtlsError('bad-pem', `The certificate cannot be read (${(err as Error).message}).`, undefined, { cause: err });
  }
  const key = privateKeyObject(keyPem, 'the private key');
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false;
  }
}

/** Throws key-mismatch unless the key belongs to the certificate. */
export function assertKeyMatches(certPem: string, keyPem: string, keySource?: string, certSource?: string): void {
  let matches: boolean;
  try {
    matches = keyMatchesCertificate(certPem, keyPem);
  } catch {
    matches = false;
  }
  if (!matches) {
    throw new MtlsError('key-mismatch', `The key ${keySource ? keySource + ' ' : ''}does not match the certificate${certSource ? ' ' + certSource : ''}.`, 'Pick the key that was generated with this certificate.');
  }
}

const SAN_PREFIXES: Record<string, SanType> = { dns: 'dns', ip: 'ip', 'ip address': 'ip', email: 'email', uri: 'uri', url: 'uri' };

/** Detects the type of a SAN value ("DNS:x", "IP:1.2.3.4", "email:a@b", "URI:spiffe://…" or bare). */
export function parseSan(value: string): SubjectAltName {
  const raw = value.trim();
  if (/[^\x20-\x7e]/.test(raw)) {
    const cp = /[^\x20-\x7e]/.exec(raw)![0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new MtlsError('bad-option', `"${value}" holds U+${cp}: subject alternative names (DNS, e-mail, URI: IA5String) are ASCII only, without control characters.`, 'Use the punycode form of an internationalized name (xn--…).');
  }
  const m = /^([A-Za-z ]+):(.*)$/.exec(raw);
  let type: SanType | undefined;
  let v = raw;
  if (m && SAN_PREFIXES[m[1].toLowerCase()] && !m[2].startsWith('//')) {
    type = SAN_PREFIXES[m[1].toLowerCase()];
    v = m[2].trim();
  }
  if (!type) {
    if (net.isIP(raw)) type = 'ip';
    else if (/^[a-z][a-z0-9+.-]*:/i.test(raw)) type = 'uri';
    else if (/^[^@\s]+@[^@\s]+$/.test(raw)) type = 'email';
    else type = 'dns';
  }
  const ok =
    type === 'ip' ? net.isIP(v) !== 0 :
    type === 'email' ? /^[^@\s]+@[^@\s]+$/.test(v) :
    type === 'uri' ? /^[a-z][a-z0-9+.-]*:\S+$/i.test(v) :
    /^(\*\.)?([A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/.test(v) && v.length <= 253;
  if (!ok) {
    throw new MtlsError('bad-option', `"${value}" is not a valid ${type === 'dns' ? 'DNS name' : type === 'ip' ? 'IP address' : type === 'email' ? 'e-mail address' : 'URI'} for a subject alternative name.`, 'Use a DNS name, an IP address, an e-mail address or a URI (optionally prefixed DNS:, IP:, email:, URI:).');
  }
  return { type, value: type === 'dns' ? v.toLowerCase() : v };
}
