// A small DER encoder and reader: enough ASN.1 for X.509 certificates, CSRs, extensions and PKCS#12
// containers. Every signature is computed and checked by Node's crypto (OpenSSL); this module only lays out
// and reads bytes. Signed parts are always verified on the bytes as received, never re-encoded.
//
// Reading is strict DER (definite lengths) by default; `ber` mode also reads what BER allows and PKCS#12
// files from Windows and Java use: indefinite lengths and constructed strings (pkcs12.ts). The one ASN.1
// reader of the code base.

export const TAG = {
  BOOLEAN: 0x01, INTEGER: 0x02, BIT_STRING: 0x03, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06, UTF8: 0x0c,
  PRINTABLE: 0x13, T61: 0x14, IA5: 0x16, UTC_TIME: 0x17, GENERALIZED_TIME: 0x18, UNIVERSAL_STRING: 0x1c, BMP: 0x1e,
  SEQUENCE: 0x30, SET: 0x31,
} as const;

// ---- encoding -------------------------------------------------------------------------------

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(content.length), content]);
}

export const seq = (...items: Buffer[]): Buffer => tlv(TAG.SEQUENCE, Buffer.concat(items));
/** SET OF, with its elements sorted as DER requires. */
export const set = (...items: Buffer[]): Buffer => tlv(TAG.SET, Buffer.concat([...items].sort(Buffer.compare)));
export const nul = (): Buffer => Buffer.from([TAG.NULL, 0]);
export const bool = (v: boolean): Buffer => tlv(TAG.BOOLEAN, Buffer.from([v ? 0xff : 0]));
export const octets = (b: Buffer): Buffer => tlv(TAG.OCTET_STRING, b);
export const utf8 = (s: string): Buffer => tlv(TAG.UTF8, Buffer.from(s, 'utf8'));
export const ia5 = (s: string): Buffer => tlv(TAG.IA5, Buffer.from(s, 'ascii'));
export const bitString = (b: Buffer, unusedBits = 0): Buffer => tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([unusedBits]), b]));
/** [n] EXPLICIT: a constructed context tag around an encoded element. */
export const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);
/** [n] IMPLICIT on a primitive: the content with a context tag. */
export const implicit = (n: number, content: Buffer): Buffer => tlv(0x80 | n, content);

export function bmp(s: string): Buffer {
  const b = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), i * 2);
  return tlv(TAG.BMP, b);
}

/** A non-negative INTEGER from a number or from unsigned big-endian bytes. */
export function int(v: number | Buffer): Buffer {
  let b: Buffer;
  if (typeof v === 'number') {
    const bytes: number[] = [];
    for (let x = v; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff);
    b = Buffer.from(bytes.length ? bytes : [0]);
  } else {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    b = v.subarray(i);
    if (b.length === 0) b = Buffer.from([0]);
  }
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(TAG.INTEGER, b);
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [parts[0] * 40 + parts[1]];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

/** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // 2026-11-27T07:29:44.123Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, ''); // 20261127072944
  return d.getUTCFullYear() < 2050 ? tlv(TAG.UTC_TIME, Buffer.from(digits.slice(2) + 'Z')) : tlv(TAG.GENERALIZED_TIME, Buffer.from(digits + 'Z'));
}

// ---- reading --------------------------------------------------------------------------------

export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  offset: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset after the last content byte. */
  end: number;
  /** Offset after the element: `end`, or after the end-of-contents octets of a BER indefinite length. */
  next?: number;
  /** Read in BER mode: its children are read in BER mode too. */
  ber?: boolean;
}

/** Nesting limit of BER indefinite lengths: hostile input cannot recurse without bound. */
const MAX_BER_DEPTH = 32;

export function readTlv(buf: Buffer, offset: number, ber = false, depth = 0): Tlv {
  if (offset + 2 > buf.length) throw new Error('truncated DER');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new Error('multi-byte tags are not supported');
  let i = offset + 1;
  let len = buf[i++];
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) {
      if (!ber) throw new Error('indefinite length (BER) is not DER');
      if (!(tag & 0x20)) throw new Error('indefinite length on a primitive element');
      if (depth >= MAX_BER_DEPTH) throw new Error('BER nested too deeply');
      // The contents run until the end-of-contents octets (00 00) at this level.
      let o = i;
      for (;;) {
        if (o + 2 > buf.length) throw new Error('truncated BER (no end-of-contents)');
        if (buf[o] === 0 && buf[o + 1] === 0) break;
        const t = readTlv(buf, o, true, depth + 1);
        o = t.next ?? t.end;
      }
      return { tag, offset, start: i, end: o, next: o + 2, ber: true };
    }
    if (n > 4) throw new Error('DER length too large');
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + buf[i++];
  }
  if (i + len > buf.length) throw new Error('truncated DER');
  return { tag, offset, start: i, end: i + len, ...(ber ? { ber: true } : {}) };
}

/** The elements inside a constructed TLV (in the parent's mode: DER, or BER). */
export function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let o = parent.start; o < parent.end;) {
    const t = readTlv(buf, o, !!parent.ber);
    out.push(t);
    o = t.next ?? t.end;
  }
  return out;
}

/** The bytes of an OCTET STRING (or an IMPLICIT one), primitive or BER-constructed (chunks). */
export function octetsOf(buf: Buffer, t: Tlv): Buffer {
  if (!(t.tag & 0x20)) return content(buf, t);
  return Buffer.concat(children(buf, t).map(c => octetsOf(buf, c)));
}

export const content = (buf: Buffer, t: Tlv): Buffer => buf.subarray(t.start, t.end);
export const whole = (buf: Buffer, t: Tlv): Buffer => buf.subarray(t.offset, t.end);

export function oidToString(bytes: Buffer): string {
  const parts = [Math.min(2, Math.floor(bytes[0] / 40)), bytes[0] - Math.min(2, Math.floor(bytes[0] / 40)) * 40];
  let v = 0;
  for (let k = 1; k < bytes.length; k++) {
    v = v * 128 + (bytes[k] & 0x7f);
    if (!(bytes[k] & 0x80)) { parts.push(v); v = 0; }
  }
  return parts.join('.');
}

/** Dotted OIDs by their encoding: a certificate holds about twenty OIDs, nearly all of them well known. */
const oidTexts = new Map<string, string>();

export function readOid(buf: Buffer, t: Tlv): string {
  if (t.tag !== TAG.OID) throw new Error('expected an OBJECT IDENTIFIER');
  const key = buf.toString('latin1', t.start, t.end);
  let text = oidTexts.get(key);
  if (text === undefined) {
    text = oidToString(content(buf, t));
    if (oidTexts.size >= 1024) oidTexts.clear();
    oidTexts.set(key, text);
  }
  return text;
}

/** Unsigned hex of an INTEGER (uppercase, no leading zero bytes). */
export function readIntHex(buf: Buffer, t: Tlv): string {
  if (t.tag !== TAG.INTEGER) throw new Error('expected an INTEGER');
  let b = content(buf, t);
  while (b.length > 1 && b[0] === 0) b = b.subarray(1);
  return b.toString('hex').toUpperCase();
}

export function readString(buf: Buffer, t: Tlv): string {
  const c = content(buf, t);
  switch (t.tag) {
    case TAG.UTF8: return c.toString('utf8');
    case TAG.PRINTABLE: case TAG.IA5: case 0x1a /* VisibleString */: case 0x12 /* NumericString */: return c.toString('latin1');
    case TAG.T61: return c.toString('latin1');
    case TAG.BMP: {
      let s = '';
      for (let i = 0; i + 1 < c.length; i += 2) s += String.fromCharCode(c.readUInt16BE(i));
      return s;
    }
    case TAG.UNIVERSAL_STRING: {
      let s = '';
      for (let i = 0; i + 3 < c.length; i += 4) s += String.fromCodePoint(c.readUInt32BE(i));
      return s;
    }
    default: return '#' + whole(buf, t).toString('hex');
  }
}

/** The number written by two ASCII digits at `i`, or -1. */
function twoDigits(buf: Buffer, i: number): number {
  const a = buf[i] - 0x30, b = buf[i + 1] - 0x30;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

export function readTime(buf: Buffer, t: Tlv): Date {
  // The usual forms, YYMMDDHHMMSSZ and YYYYMMDDHHMMSSZ, read digit by digit; anything else by the patterns below.
  const utc = t.tag === TAG.UTC_TIME;
  if (t.end - t.start === (utc ? 13 : 15) && buf[t.end - 1] === 0x5a /* Z */) {
    const o = t.start + (utc ? 2 : 4);
    const hi = twoDigits(buf, t.start), lo = utc ? 0 : twoDigits(buf, t.start + 2);
    const month = twoDigits(buf, o), day = twoDigits(buf, o + 2), hour = twoDigits(buf, o + 4), minute = twoDigits(buf, o + 6), second = twoDigits(buf, o + 8);
    if (hi >= 0 && lo >= 0 && month >= 0 && day >= 0 && hour >= 0 && minute >= 0 && second >= 0) {
      const year = utc ? hi + (hi < 50 ? 2000 : 1900) : hi * 100 + lo;
      return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    }
  }
  const s = content(buf, t).toString('latin1');
  const m = t.tag === TAG.UTC_TIME ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/.exec(s) : /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(?:\.\d+)?Z$/.exec(s);
  if (!m) throw new Error(`unreadable time "${s}"`);
  let year = Number(m[1]);
  if (t.tag === TAG.UTC_TIME) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
}

/** For SEQUENCE { signedPart, AlgorithmIdentifier, BIT STRING } (certificates, CSRs, CRLs). */
export function signedParts(der: Buffer): { signed: Buffer; algorithmOid: string; signature: Buffer } {
  const outer = readTlv(der, 0);
  const [tbs, alg, sig] = children(der, outer);
  if (!tbs || !alg || !sig || sig.tag !== TAG.BIT_STRING) throw new Error('not a signed structure');
  const o = children(der, alg)[0];
  if (!o) throw new Error('no algorithm OID');
  return { signed: whole(der, tbs), algorithmOid: readOid(der, o), signature: der.subarray(sig.start + 1, sig.end) };
}
