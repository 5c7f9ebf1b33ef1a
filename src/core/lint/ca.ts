// Reads a client-CA file the way the servers do (PEM certificates, in order) and says what is wrong with it
// for Leg 2. Uses Node's crypto.X509Certificate only.
import { X509Certificate } from 'crypto';
import { CaProblem } from './types';
import { pemBlocks } from '../pki/pem';

/** SHA-256 of Cloudflare's shared origin-pull CA (CN=origin-pull.cloudflare.net). */
export const ORIGIN_PULL_CA_SHA256 = '9A:1A:C2:B4:BE:15:F9:F2:7E:EE:20:A7:34:CB:A4:E9:89:8F:61:00:1B:3B:D7:C8:4B:69:B5:6A:3E:25:A2:B9';

export interface CaCertInfo {
  subject: string;
  issuer: string;
  ca: boolean;
  selfSigned: boolean;
  notBefore: Date;
  notAfter: Date;
  fingerprint256: string;
  x509: X509Certificate;
}

export interface CaFileAnalysis {
  certs: CaCertInfo[];
  /** PEM blocks that are certificates but could not be read. */
  badCerts: number;
  hasPrivateKey: boolean;
  empty: boolean;
}

export interface CaVerdict {
  problem: CaProblem;
  /** 'error' only for what the servers refuse to load; the rest are warnings or information. */
  severity: 'error' | 'warning' | 'information';
  message: string;
  subject?: string;
  fingerprint256?: string;
  notAfter?: string;
}


export function analyzeCaFile(bytes: Uint8Array): CaFileAnalysis {
  const text = Buffer.from(bytes).toString('latin1');
  const out: CaFileAnalysis = { certs: [], badCerts: 0, hasPrivateKey: false, empty: text.trim().length === 0 };
  for (const { label, der } of pemBlocks(text)) {
    if (/PRIVATE KEY/.test(label)) { out.hasPrivateKey = true; continue; }
    if (label !== 'CERTIFICATE' && label !== 'TRUSTED CERTIFICATE' && label !== 'X509 CERTIFICATE') continue;
    try {
      const x = new X509Certificate(der);
      const selfSigned = x.subject === x.issuer && safeCheckIssued(x, x);
      out.certs.push({
        subject: x.subject,
        issuer: x.issuer,
        // X.509 v1 self-signed roots have no basicConstraints; OpenSSL still treats them as CAs.
        ca: x.ca || (selfSigned && !hasBasicConstraints(x)),
        selfSigned,
        notBefore: new Date(x.validFrom),
        notAfter: new Date(x.validTo),
        fingerprint256: x.fingerprint256,
        x509: x,
      });
    } catch {
      out.badCerts++;
    }
  }
  return out;
}

function safeCheckIssued(a: X509Certificate, b: X509Certificate): boolean {
  try { return a.checkIssued(b); } catch { return false; }
}

function hasBasicConstraints(x: X509Certificate): boolean {
  // basicConstraints OID 2.5.29.19 = 06 03 55 1D 13
  const der = x.raw;
  for (let i = 0; i + 4 < der.length; i++) {
    if (der[i] === 0x06 && der[i + 1] === 0x03 && der[i + 2] === 0x55 && der[i + 3] === 0x1d && der[i + 4] === 0x13) return true;
  }
  return false;
}

function cn(subject: string): string {
  const m = /(?:^|\n)CN=([^\n]*)/.exec(subject);
  return m ? m[1] : subject.replace(/\n/g, ', ');
}

export function isCloudflareOriginCa(c: CaCertInfo): boolean {
  const s = c.subject + '\n' + c.issuer;
  return /CloudFlare Origin (SSL( ECC)? Certificate Authority|CA|Certificate)/i.test(s) && /Cloudflare/i.test(s);
}

export function isOriginPullCa(c: CaCertInfo): boolean {
  return c.fingerprint256.toUpperCase() === ORIGIN_PULL_CA_SHA256 || /(?:^|\n)CN=origin-pull\.cloudflare\.net(?:\n|$)/.test(c.subject);
}

/** How deep a client chain must be verified for the certificates in this bundle (1 = issued directly by a CA in it). */
export function neededDepth(a: CaFileAnalysis): number {
  let max = 1;
  for (const c of a.certs) {
    if (!c.ca) continue;
    let depth = 1;
    let cur = c;
    const seen = new Set<CaCertInfo>([c]);
    for (;;) {
      if (cur.selfSigned) break;
      const parent = a.certs.find(p => !seen.has(p) && p.ca && p.subject === cur.issuer && safeCheckIssued(cur.x509, p.x509));
      if (!parent) break;
      seen.add(parent);
      depth++;
      cur = parent;
    }
    max = Math.max(max, depth);
  }
  return max;
}

/**
 * The problems of a CA file for Leg 2, most serious first. `loadFails` problems (missing, empty, no
 * certificate) are errors because the servers refuse to start with them.
 */
export function judgeCaFile(a: CaFileAnalysis | undefined, now: Date, shownPath: string): CaVerdict[] {
  if (!a) return [{ problem: 'missing', severity: 'error', message: `The client CA file ${shownPath} does not exist or cannot be read; the server refuses to start.` }];
  if (a.empty) return [{ problem: 'empty', severity: 'error', message: `The client CA file ${shownPath} is empty; the server refuses to load it. Put the origin-pull CA certificate (PEM) in it.` }];
  if (a.certs.length === 0) {
    if (a.hasPrivateKey) return [{ problem: 'key-only', severity: 'error', message: `The client CA file ${shownPath} holds only a private key, no certificate; the server refuses to load it. It must hold the CA certificate (and never a key).` }];
    return [{ problem: 'no-certificate', severity: 'error', message: `The client CA file ${shownPath} holds no PEM certificate; the server refuses to load it. Put the origin-pull CA certificate in it.` }];
  }
  const out: CaVerdict[] = [];
  const cfOrigin = a.certs.find(isCloudflareOriginCa);
  if (cfOrigin) {
    out.push({
      problem: 'cloudflare-origin-ca', severity: 'warning', subject: cn(cfOrigin.subject), fingerprint256: cfOrigin.fingerprint256,
      message: `${shownPath} holds the Cloudflare Origin CA ("${cn(cfOrigin.subject)}"), which signs origin server certificates. Cloudflare's client certificate for Authenticated Origin Pulls is signed by a different CA: use the origin-pull CA (or your own AOP CA), or every request from Cloudflare fails verification.`,
    });
  }
  const cas = a.certs.filter(c => c.ca);
  if (cas.length === 0) {
    const c = a.certs[0];
    out.push({
      problem: 'not-ca', severity: 'warning', subject: cn(c.subject), fingerprint256: c.fingerprint256,
      message: `${shownPath} holds "${cn(c.subject)}", which is not a CA certificate (no basicConstraints CA:TRUE), so no client certificate can be verified against it. Use the CA that issued the client certificate (for Cloudflare: the origin-pull CA).`,
    });
  }
  for (const c of cas.length ? cas : a.certs) {
    if (c.notAfter.getTime() < now.getTime()) {
      out.push({
        problem: 'expired', severity: 'warning', subject: cn(c.subject), notAfter: c.notAfter.toISOString(), fingerprint256: c.fingerprint256,
        message: `The CA "${cn(c.subject)}" in ${shownPath} expired on ${c.notAfter.toISOString().slice(0, 10)}; client certificates it issued no longer verify. Replace it with the current CA.`,
      });
      break;
    }
    if (c.notBefore.getTime() > now.getTime()) {
      out.push({
        problem: 'not-yet-valid', severity: 'warning', subject: cn(c.subject), notAfter: c.notAfter.toISOString(), fingerprint256: c.fingerprint256,
        message: `The CA "${cn(c.subject)}" in ${shownPath} is not valid before ${c.notBefore.toISOString().slice(0, 10)}; check the clock or the certificate.`,
      });
      break;
    }
  }
  const pull = a.certs.find(isOriginPullCa);
  if (pull) {
    out.push({
      problem: 'origin-pull-shared', severity: 'information', subject: cn(pull.subject), fingerprint256: pull.fingerprint256, notAfter: pull.notAfter.toISOString(),
      message: `${shownPath} holds Cloudflare's shared origin-pull CA: this origin accepts connections from any Cloudflare customer's zone, not only yours. For a Leg 2 that only your zone passes, use Authenticated Origin Pulls with your own certificate (zone-level or per-hostname) and trust its CA here.`,
    });
  }
  return out;
}
