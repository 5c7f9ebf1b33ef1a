// A minimal DER walker for the few places where the exact bytes matter (signed parts are verified as they
// were received, never re-encoded).

export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  offset: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset after the last content byte. */
  end: number;
}

export function readTlv(buf: Buffer, offset: number): Tlv {
  if (offset + 2 > buf.length) throw new Error('truncated DER');
  const tag = buf[offset];
  let i = offset + 1;
  let len = buf[i++];
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + buf[i++];
  }
  if (i + len > buf.length) throw new Error('truncated DER');
  return { tag, offset, start: i, end: i + len };
}

/** The elements inside a constructed TLV. */
export function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let o = parent.start; o < parent.end;) {
    const t = readTlv(buf, o);
    out.push(t);
    o = t.end;
  }
  return out;
}

export function oidToString(bytes: Buffer): string {
  const parts = [Math.floor(bytes[0] / 40), bytes[0] % 40];
  let v = 0;
  for (let k = 1; k < bytes.length; k++) {
    v = v * 128 + (bytes[k] & 0x7f);
    if (!(bytes[k] & 0x80)) { parts.push(v); v = 0; }
  }
  return parts.join('.');
}

/** For SEQUENCE { signedPart, AlgorithmIdentifier, BIT STRING } (certificates, CSRs, CRLs). */
export function signedParts(der: Buffer): { signed: Buffer; algorithmOid: string; signature: Buffer } {
  const outer = readTlv(der, 0);
  const [tbs, alg, sig] = children(der, outer);
  if (!tbs || !alg || !sig || sig.tag !== 0x03) throw new Error('not a signed structure');
  const oid = children(der, alg)[0];
  if (!oid || oid.tag !== 0x06) throw new Error('no algorithm OID');
  return {
    signed: der.subarray(tbs.offset, tbs.end),
    algorithmOid: oidToString(der.subarray(oid.start, oid.end)),
    signature: der.subarray(sig.start + 1, sig.end), // drop the unused-bits byte
  };
}
