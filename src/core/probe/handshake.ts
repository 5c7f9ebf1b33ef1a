// What Node's TLS API does not tell a client: whether the server sent a CertificateRequest and which CA
// names it listed. The probes record the raw bytes of the connection (RecordingSocket below, passed as
// `socket` to tls.connect) and parse the handshake here. TLS 1.2 handshakes are in the clear; TLS 1.3
// encrypts everything after the ServerHello, so the server's handshake flight is decrypted with the
// SERVER_HANDSHAKE_TRAFFIC_SECRET Node hands out through the socket's 'keylog' event (RFC 8446 7.1-7.3).
import * as crypto from 'crypto';
import * as net from 'net';
import { Duplex } from 'stream';

/** A Duplex around a connected TCP socket that keeps every byte the server sent. */
export class RecordingSocket extends Duplex {
  readonly inbound: Buffer[] = [];

  constructor(private readonly raw: net.Socket) {
    super();
    raw.on('data', (d: Buffer) => {
      this.inbound.push(d);
      if (!this.push(d)) raw.pause();
    });
    raw.on('end', () => this.push(null));
    raw.on('error', err => this.destroy(err));
    raw.on('close', () => { if (!this.destroyed) this.push(null); });
  }

  override _read(): void { this.raw.resume(); }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.raw.write(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void { this.raw.end(() => cb()); }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.raw.destroy();
    cb(err);
  }
}

export interface TlsRecord {
  type: number;
  header: Buffer;
  payload: Buffer;
}

export function parseRecords(data: Buffer): TlsRecord[] {
  const out: TlsRecord[] = [];
  let p = 0;
  while (p + 5 <= data.length) {
    const len = data.readUInt16BE(p + 3);
    if (p + 5 + len > data.length) break; // a partial record at the end
    out.push({ type: data[p], header: data.subarray(p, p + 5), payload: data.subarray(p + 5, p + 5 + len) });
    p += 5 + len;
  }
  return out;
}

export interface HandshakeMessage {
  type: number;
  body: Buffer;
}

function parseMessages(data: Buffer): HandshakeMessage[] {
  const out: HandshakeMessage[] = [];
  let p = 0;
  while (p + 4 <= data.length) {
    const len = data.readUIntBE(p + 1, 3);
    if (p + 4 + len > data.length) break;
    out.push({ type: data[p], body: data.subarray(p + 4, p + 4 + len) });
    p += 4 + len;
  }
  return out;
}

export const ALERT_NAMES: Record<number, string> = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 40: 'handshake_failure', 42: 'bad_certificate',
  43: 'unsupported_certificate', 44: 'certificate_revoked', 45: 'certificate_expired', 46: 'certificate_unknown',
  47: 'illegal_parameter', 48: 'unknown_ca', 49: 'access_denied', 50: 'decode_error', 51: 'decrypt_error',
  70: 'protocol_version', 71: 'insufficient_security', 80: 'internal_error', 86: 'inappropriate_fallback',
  90: 'user_canceled', 109: 'missing_extension', 110: 'unsupported_extension', 112: 'unrecognized_name',
  116: 'certificate_required', 120: 'no_application_protocol',
};

export interface CapturedHandshake {
  /** 'TLSv1.2' or 'TLSv1.3', from the ServerHello; undefined when no ServerHello arrived. */
  version?: string;
  /** The server's handshake could be read (TLS 1.2, or TLS 1.3 with the key log). */
  readable: boolean;
  /** A CertificateRequest was in the server's handshake flight. */
  certificateRequested: boolean;
  /** DER Names from the CertificateRequest's certificate_authorities (empty when it listed none). */
  certificateAuthorities: Buffer[];
  /** The server's certificate chain (DER), leaf first. */
  serverCertificates: Buffer[];
  /** A plaintext alert the server sent during the handshake. */
  alert?: { level: number; description: number; name: string };
}

// ---------------------------------------------------------------- TLS 1.3 key schedule (client side, decrypt only)

const SUITES: Record<number, { cipher: string; keyLen: number; hash: string; hashLen: number }> = {
  0x1301: { cipher: 'aes-128-gcm', keyLen: 16, hash: 'sha256', hashLen: 32 },
  0x1302: { cipher: 'aes-256-gcm', keyLen: 32, hash: 'sha384', hashLen: 48 },
  0x1303: { cipher: 'chacha20-poly1305', keyLen: 32, hash: 'sha256', hashLen: 32 },
};

function hkdfExpandLabel(hash: string, secret: Buffer, label: string, length: number): Buffer {
  // HKDF-Expand (RFC 5869 2.3) with an empty context; key and IV lengths never exceed one hash block.
  const info = Buffer.from(`\0${String.fromCharCode(length)}${String.fromCharCode(6 + label.length)}tls13 ${label}\0\x01`, 'latin1');
  return crypto.createHmac(hash, secret).update(info).digest().subarray(0, length);
}

function decryptRecord(suite: typeof SUITES[number], key: Buffer, iv: Buffer, seq: number, rec: TlsRecord): { type: number; data: Buffer } | undefined {
  if (rec.payload.length < 17) return undefined;
  const nonce = Buffer.from(iv);
  for (let i = 0; i < 8; i++) nonce[nonce.length - 1 - i] ^= Number((BigInt(seq) >> BigInt(8 * i)) & 0xffn);
  const tag = rec.payload.subarray(rec.payload.length - 16);
  const body = rec.payload.subarray(0, rec.payload.length - 16);
  try {
    const d = crypto.createDecipheriv(suite.cipher as crypto.CipherGCMTypes, key, nonce, { authTagLength: 16 } as crypto.CipherGCMOptions);
    d.setAAD(rec.header);
    d.setAuthTag(tag);
    const plain = Buffer.concat([d.update(body), d.final()]);
    let end = plain.length;
    while (end > 0 && plain[end - 1] === 0) end--;
    if (end === 0) return undefined;
    return { type: plain[end - 1], data: plain.subarray(0, end - 1) };
  } catch {
    return undefined; // not this key (e.g. already application data)
  }
}

// ---------------------------------------------------------------- parsers

function readVector(buf: Buffer, p: number, lenBytes: number): [Buffer, number] {
  const len = buf.readUIntBE(p, lenBytes);
  return [buf.subarray(p + lenBytes, p + lenBytes + len), p + lenBytes + len];
}

function splitNames(list: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let p = 0;
  while (p + 2 <= list.length) {
    const [dn, next] = readVector(list, p, 2);
    out.push(Buffer.from(dn));
    p = next;
  }
  return out;
}

function parseCertificateRequest12(body: Buffer): Buffer[] {
  let p = 0;
  [, p] = readVector(body, p, 1); // certificate_types
  [, p] = readVector(body, p, 2); // supported_signature_algorithms (TLS 1.2)
  const [cas] = readVector(body, p, 2);
  return splitNames(cas);
}

function parseCertificateRequest13(body: Buffer): Buffer[] {
  let p = 0;
  [, p] = readVector(body, p, 1); // certificate_request_context
  const [exts] = readVector(body, p, 2);
  let q = 0;
  while (q + 4 <= exts.length) {
    const type = exts.readUInt16BE(q);
    const [data, next] = readVector(exts, q + 2, 2);
    if (type === 47) return splitNames(readVector(data, 0, 2)[0]); // certificate_authorities
    q = next;
  }
  return [];
}

function parseCertificate(body: Buffer, tls13: boolean): Buffer[] {
  let p = 0;
  if (tls13) [, p] = readVector(body, p, 1);
  const [list] = readVector(body, p, 3);
  const out: Buffer[] = [];
  let q = 0;
  while (q + 3 <= list.length) {
    const [cert, next] = readVector(list, q, 3);
    out.push(Buffer.from(cert));
    q = next;
    if (tls13) [, q] = readVector(list, q, 2); // per-certificate extensions
  }
  return out;
}

function serverHelloInfo(body: Buffer): { version: string; suite: number } {
  let p = 2 + 32; // legacy_version, random
  [, p] = readVector(body, p, 1); // session id
  const suite = body.readUInt16BE(p);
  p += 3; // cipher suite, compression
  let version = body.readUInt16BE(0) === 0x0303 ? 'TLSv1.2' : 'TLS(' + body.readUInt16BE(0).toString(16) + ')';
  if (p + 2 <= body.length) {
    const [exts] = readVector(body, p, 2);
    let q = 0;
    while (q + 4 <= exts.length) {
      const type = exts.readUInt16BE(q);
      const [data, next] = readVector(exts, q + 2, 2);
      if (type === 43 && data.readUInt16BE(0) === 0x0304) version = 'TLSv1.3';
      q = next;
    }
  }
  return { version, suite };
}

/**
 * Reads the server's side of a recorded handshake. `keylog` lines (from the socket's 'keylog' event) let
 * a TLS 1.3 handshake be decrypted; without them a TLS 1.3 flight stays unreadable.
 */
export function analyzeHandshake(inbound: Buffer, keylog: string[] = []): CapturedHandshake {
  const result: CapturedHandshake = { readable: false, certificateRequested: false, certificateAuthorities: [], serverCertificates: [] };
  const records = parseRecords(inbound);
  let clear = Buffer.alloc(0);
  let i = 0;
  // Plaintext part: handshake records up to ChangeCipherSpec (1.2) or the first encrypted record (1.3).
  for (; i < records.length; i++) {
    const r = records[i];
    if (r.type === 21 && r.payload.length >= 2) {
      result.alert = { level: r.payload[0], description: r.payload[1], name: ALERT_NAMES[r.payload[1]] ?? `alert ${r.payload[1]}` };
      continue;
    }
    if (r.type !== 22) break;
    clear = Buffer.concat([clear, r.payload]);
  }
  const messages = parseMessages(clear);
  const hello = messages.find(m => m.type === 2);
  if (!hello) return result;
  const { version, suite } = serverHelloInfo(hello.body);
  result.version = version;
  let flight: HandshakeMessage[] = messages;
  if (version === 'TLSv1.3') {
    const params = SUITES[suite];
    const line = keylog.find(l => l.startsWith('SERVER_HANDSHAKE_TRAFFIC_SECRET '));
    if (!params || !line) return result;
    const secret = Buffer.from(line.trim().split(' ')[2], 'hex');
    const key = hkdfExpandLabel(params.hash, secret, 'key', params.keyLen);
    const iv = hkdfExpandLabel(params.hash, secret, 'iv', 12);
    let seq = 0;
    let hs = Buffer.alloc(0);
    for (; i < records.length; i++) {
      const r = records[i];
      if (r.type === 20) continue; // middlebox-compatibility ChangeCipherSpec
      if (r.type !== 23) continue;
      const plain = decryptRecord(params, key, iv, seq, r);
      if (!plain) break; // past the handshake keys
      seq++;
      if (plain.type === 22) hs = Buffer.concat([hs, plain.data]);
      if (plain.type === 21 && plain.data.length >= 2) {
        result.alert = { level: plain.data[0], description: plain.data[1], name: ALERT_NAMES[plain.data[1]] ?? `alert ${plain.data[1]}` };
      }
      if (parseMessages(hs).some(m => m.type === 20)) break; // server Finished: end of its flight
    }
    flight = parseMessages(hs);
  }
  result.readable = true;
  for (const m of flight) {
    if (m.type === 13) {
      result.certificateRequested = true;
      result.certificateAuthorities = version === 'TLSv1.3' ? parseCertificateRequest13(m.body) : parseCertificateRequest12(m.body);
    }
    if (m.type === 11) result.serverCertificates = parseCertificate(m.body, version === 'TLSv1.3');
  }
  return result;
}
