// Reading the store's certificate files for a scan, and checking which CA signed which certificate. Both are
// per-item work (a file in, what it holds out; a certificate and a CA key in, a verdict out). A large cold scan
// gets one helper thread (scanWorker.ts) that checks signatures while this thread reads and parses, and reads
// shares of files itself whenever it has nothing to check. Small scans stay in this thread.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Worker } from 'worker_threads';
import { MtlsError } from '../errors';
import { readRegularFileSync } from '../fsutil';
import type { CertificateInfo } from './types';
import { firstCertificateDer, hasPrivateKeyBlock, pemIfCanonical } from './pem';
import { inspectDer, verifyCertificateSignature } from './inspect';
import { parseCertificateDer, publicKeyFromSpki } from './x509';

/** Folder name that marks origin-pull certificates (same EKU as client certificates, different purpose). */
export const ORIGIN_PULL_DIR = 'origin-pull';

/** The profile only the store knows: a clientAuth leaf under `origin-pull/` is an origin-pull certificate. */
export function withStoreProfile(info: CertificateInfo, certPath: string): CertificateInfo {
  if (info.profile === 'client' && (path.sep + path.dirname(certPath) + path.sep).includes(path.sep + ORIGIN_PULL_DIR + path.sep)) info.profile = 'origin-pull';
  return info;
}

/** What a scan learnt from one file, kept while the file's identity, size and mtime stay the same. */
export interface ScannedCert {
  info: CertificateInfo;
  der: Buffer;
  /** Subject and issuer as decoded text (matches across string encodings, like OpenSSL's canonical names). */
  subject: string;
  issuer: string;
  /** The DER SubjectPublicKeyInfo, kept for CAs (their key verifies the others). */
  spki?: Buffer;
  /** The public key of a CA, made from `spki` when it first verifies something. */
  publicKey?: crypto.KeyObject;
  /** `info` with the validity figures of the latest scan (shared by scans while they are the same). */
  current?: CertificateInfo;
  /** CA sha256 -> whether that CA's key verifies this certificate (lives as long as the file is unchanged). */
  verdicts?: Map<string, boolean>;
}

export interface ScannedFile {
  stamp: string;
  cert?: ScannedCert;
  /** Derived from the path once: the entry's name, its key file's folder and name, whether it is archived. */
  place?: { name: string; dir: string; keyPath: string; keyName: string; archived: boolean };
  /** Not a certificate (a key or a CSR saved as .pem). */
  skip?: boolean;
  problem?: string;
}

/** A file's identity, size and times: while they stay the same, what the last scan read from it still holds. */
export function fileStamp(st: fs.Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/**
 * Reads and parses one certificate file of the store under `dir`. The file is opened without following a
 * link (the walk saw a regular file; one swapped for a link since is refused) and its stamp comes from the
 * open file, so a first read costs no separate lstat.
 */
export function scanFile(file: string, dir: string): ScannedFile {
  let stamp = '';
  let data: Buffer;
  try {
    data = readRegularFileSync(file, { noFollow: true, onStat: st => { stamp = fileStamp(st); } });
  } catch (err) {
    const code = err instanceof MtlsError ? err.code : undefined;
    const cause = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    return { stamp, problem: code === 'not-regular' || cause === 'ELOOP' ? 'Not a regular file; skipped.' : (err as Error).message };
  }
  try {
    return parseScanned(data, file, dir, stamp);
  } catch (err) {
    return { stamp, problem: err instanceof MtlsError ? err.message : `Cannot read: ${(err as Error).message}` };
  }
}

function parseScanned(data: Buffer, file: string, dir: string, stamp: string): ScannedFile {
  const text = data.toString('latin1');
  // Most files start with the certificate; the others are told apart from keys and CSRs saved as .pem.
  if (!text.startsWith('-----BEGIN CERTIFICATE-----')) {
    // DER starts with a SEQUENCE tag; anything else is PEM text, decoded once and handed on as text.
    const isDer = data.length > 0 && data[0] === 0x30 && !text.slice(0, 64).includes('-----BEGIN');
    if (!isDer && hasPrivateKeyBlock(text) && !/-----BEGIN (X509 |TRUSTED )?CERTIFICATE-----/.test(text)) return { stamp, skip: true }; // a key saved as .pem
    if (/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(text) && !/-----BEGIN CERTIFICATE-----/.test(text)) return { stamp, skip: true }; // a CSR
    if (isDer) return parsedCertificate(firstCertificateDer(data, relativeName(dir, file)), file, dir, stamp);
  }
  const der = firstCertificateDer(text, relativeName(dir, file));
  return parsedCertificate(der, file, dir, stamp, pemIfCanonical(text, 'CERTIFICATE', der));
}

function relativeName(dir: string, file: string): string {
  return file.startsWith(dir + path.sep) ? file.slice(dir.length + 1) : path.relative(dir, file);
}

function parsedCertificate(der: Buffer, file: string, dir: string, stamp: string, pem?: string): ScannedFile {
  const info = withStoreProfile(inspectDer(der, relativeName(dir, file), undefined, pem), file);
  if (!info.isCa) return { stamp, cert: { info, der, subject: info.subject, issuer: info.issuer } };
  // A CA whose key cannot be loaded verifies nothing: it is a problem of its file, found here.
  const spki = parseCertificateDer(der).spki;
  const publicKey = publicKeyFromSpki(spki);
  return { stamp, cert: { info, der, subject: info.subject, issuer: info.issuer, spki, publicKey } };
}

/** scanFile over a list (what one thread does with its share). */
export function scanFiles(files: string[], dir: string): ScannedFile[] {
  return files.map(f => scanFile(f, dir));
}

/**
 * A share of signature checks as it crosses to the worker: the certificates' DER back to back in one buffer
 * (one copy of about 130 KB), where each one ends, and which of the CA keys (DER SubjectPublicKeyInfo) checks it.
 * Buffers are copied, never transferred: the first transfer detaches an ArrayBuffer, which makes V8 throw
 * away the optimized code of every function that reads Buffers (the DER reader, the formatting) in the
 * middle of the scan and compile it again.
 */
export interface VerifyShare { spkis: Uint8Array[]; ders: Uint8Array; ends: Uint32Array; cas: Uint16Array }

/** Whether each certificate of the share verifies with its CA's key. */
export function verifyShare({ spkis, ders, ends, cas }: VerifyShare): boolean[] {
  const keys = spkis.map(k => publicKeyFromSpki(asBuffer(k)));
  const all = asBuffer(ders);
  const out: boolean[] = new Array(ends.length);
  for (let i = 0, start = 0; i < ends.length; start = ends[i++]) out[i] = verifyCertificateSignature(all.subarray(start, ends[i]), keys[cas[i]]);
  return out;
}

/** A Buffer over bytes that came through postMessage (a plain Uint8Array there). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Whether `ca` can have issued `cert` without checking the signature: the certificate names the CA's subject as
 * its issuer and, when both carry key identifiers, its authority key identifier is the CA's subject key
 * identifier (OpenSSL skips such an issuer too: X509_check_akid). Only these candidates are verified.
 */
export function mayHaveIssued(cert: ScannedCert, ca: ScannedCert): boolean {
  return cert.issuer === ca.subject && cert.info.sha256 !== ca.info.sha256 && (!cert.info.aki || !ca.info.ski || cert.info.aki === ca.info.ski);
}

/** The public key of a scanned CA (made once). */
export function caPublicKey(ca: ScannedCert): crypto.KeyObject {
  return (ca.publicKey ??= publicKeyFromSpki(ca.spki ?? parseCertificateDer(ca.der).spki));
}

// ---- the helper thread ------------------------------------------------------------------------

/** Files read and parsed by the helper, as they cross back: DER back to back in one buffer, the rest as data. */
export interface ScannedShare { files: ScannedFile[]; ders: Uint8Array; ends: Uint32Array }

/** What the helper is asked: to read and parse a share of files, or to check a share of signatures. */
export type HelperJob = { kind: 'scan'; files: string[]; dir: string } | ({ kind: 'verify' } & VerifyShare);
export type HelperRequest = HelperJob & { id: number };
export type HelperResponse = { id: number; result: ScannedShare | boolean[]; error?: undefined } | { id: number; error: string };

/** The helper's answer to a scan job: the DER as one buffer; a CA's key object stays behind (made again on arrival). */
export function scannedShare(files: ScannedFile[]): ScannedShare {
  const { ders, ends } = packDers(files.map(f => f.cert?.der));
  const out = files.map(f => {
    if (!f.cert) return f;
    const { info, subject, issuer } = f.cert;
    return { stamp: f.stamp, cert: { info, subject, issuer } as ScannedCert };
  });
  return { files: out, ders, ends };
}

/** DER blobs back to back in one new buffer (to cross to another thread), and where each one ends. */
function packDers(blobs: (Buffer | undefined)[]): { ders: Uint8Array; ends: Uint32Array } {
  const ends = new Uint32Array(blobs.length);
  let total = 0;
  blobs.forEach((b, i) => { ends[i] = total += b?.length ?? 0; });
  const ders = new Uint8Array(total);
  blobs.forEach((b, i) => { if (b) ders.set(b, i ? ends[i - 1] : 0); });
  return { ders, ends };
}

/** A scan job's answer, whole again: each certificate's DER is a view of the share's buffer. */
function receivedShare({ files, ders, ends }: ScannedShare): ScannedFile[] {
  const all = asBuffer(ders);
  return files.map((f, i) => {
    if (f.cert) {
      f.cert.der = all.subarray(i ? ends[i - 1] : 0, ends[i]);
      if (f.cert.info.isCa) f.cert.spki = parseCertificateDer(f.cert.der).spki;
    }
    return f;
  });
}

/** Items per message: large enough that a message costs little beside the work, small enough to share out. */
const SHARE = 200;
/** Below this many files to read a scan starts no thread (one takes tens of milliseconds to start). */
export const THREAD_THRESHOLD = 600;

/** The worker entry beside this module: out/src/core/pki/scanWorker.js in tests, dist/scanWorker.js in the bundles. */
const WORKER_SCRIPT = path.join(__dirname, 'scanWorker.js');

/** Whether a large scan has a helper thread: when the machine has a core beside this one. */
export function defaultScanThreads(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return cores > 1 ? 1 : 0;
}

/** A certificate and a CA whose key may have signed it. */
export interface SignaturePair { cert: ScannedCert; ca: ScannedCert }

/**
 * The helper thread of one large scan. Checking signatures (OpenSSL, about 0.1 ms per ECDSA P-256 certificate)
 * is the largest single cost of a cold scan and needs nothing from JavaScript, so while this thread reads and
 * parses files, the pairs whose CA is already known go to the helper (`queue`); when it has nothing to check it
 * reads and parses a share of files too (`scan`), so both threads stay busy. `finish` shares out what is left,
 * this thread taking shares from one end of the queue while the helper takes them from the other.
 * Verdicts come back through `record`. Without the worker script (a custom bundle), a spare core or a large
 * scan, everything runs in this thread, with the same results.
 */
export class ScanHelper {
  private worker?: Worker;
  private dead = false;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Verify shares posted to the helper and not answered yet. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Shares of checks not posted yet, and the share being filled. */
  private readonly shares: SignaturePair[][] = [];
  private filling: SignaturePair[] = [];
  /** Every check queued so far, by certificate. */
  private readonly asked = new Map<ScannedCert, ScannedCert[]>();
  private scansOut = 0;

  constructor(private readonly record: (pair: SignaturePair, verified: boolean) => void, private readonly threads = defaultScanThreads()) {}

  /** Starts the helper for a scan that reads `fileCount` files (not for a small one). */
  prepare(fileCount: number): void {
    if (this.worker || this.dead || this.threads <= 0 || fileCount < THREAD_THRESHOLD || !fs.existsSync(WORKER_SCRIPT)) return;
    // Required here, not at the top: a scan that needs no thread does not load the module.
    const { Worker: WorkerClass } = require('worker_threads') as typeof import('worker_threads');
    let w: Worker;
    try {
      w = new WorkerClass(WORKER_SCRIPT);
    } catch {
      this.dead = true; // no threads here (resource limits): this thread does the work
      return;
    }
    w.unref();
    w.on('message', (m: HelperResponse) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    const fail = (err: Error) => {
      this.dead = true;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', code => fail(new Error(`the scan helper thread stopped (exit code ${code})`)));
    this.worker = w;
  }

  /** Whether the helper runs (checks can be queued for it). */
  get available(): boolean {
    return !!this.worker && !this.dead;
  }

  private request<R>(job: HelperJob): Promise<R> {
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker!.postMessage({ ...job, id });
    });
  }

  /**
   * Reads and parses `files` in the helper when it is idle (nothing to check, no share of files), else
   * undefined: then this thread reads them. A share the helper fails on is read here.
   */
  scan(files: string[], dir: string): Promise<ScannedFile[]> | undefined {
    if (!this.available || this.scansOut > 0 || this.inFlight.size > 1 || this.shares.length > 0) return undefined;
    this.scansOut++;
    return this.request<ScannedShare>({ kind: 'scan', files, dir }).then(receivedShare, () => scanFiles(files, dir)).finally(() => { this.scansOut--; });
  }

  /** Posts one share of checks; the helper's answer records the verdicts and posts the next share. */
  private send(pairs: SignaturePair[]): void {
    const spkis: Uint8Array[] = [];
    const index = new Map<ScannedCert, number>();
    const cas = new Uint16Array(pairs.length);
    pairs.forEach(({ ca }, i) => {
      let k = index.get(ca);
      if (k === undefined) {
        k = spkis.length;
        spkis.push(new Uint8Array(ca.spki ?? parseCertificateDer(ca.der).spki)); // a copy: a pooled Buffer would post its whole pool
        index.set(ca, k);
      }
      cas[i] = k;
    });
    const { ders, ends } = packDers(pairs.map(p => p.cert.der));
    const done = this.request<boolean[]>({ kind: 'verify', spkis, ders, ends, cas }).then(
      verdicts => pairs.forEach((p, i) => this.record(p, verdicts[i])),
      () => { this.shares.push(pairs); }, // the helper failed: this thread checks them
    ).finally(() => {
      this.inFlight.delete(done);
      this.pump();
    });
    this.inFlight.add(done);
  }

  /** Keeps the helper fed: two shares at most are posted, so what is not posted yet can still be shared out. */
  private pump(): void {
    while (this.available && this.inFlight.size < 2 && this.shares.length) this.send(this.shares.shift()!);
  }

  private local(pairs: SignaturePair[]): void {
    for (const p of pairs) {
      let verified: boolean;
      try {
        verified = verifyCertificateSignature(p.cert.der, caPublicKey(p.ca));
      } catch {
        verified = false;
      }
      this.record(p, verified);
    }
  }

  private add(pairs: SignaturePair[]): void {
    for (const p of pairs) {
      const cas = this.asked.get(p.cert);
      if (cas) cas.push(p.ca);
      else this.asked.set(p.cert, [p.ca]);
      this.filling.push(p);
      if (this.filling.length >= SHARE) {
        this.shares.push(this.filling);
        this.filling = [];
      }
    }
  }

  /** Queues checks for the helper (a share at a time) while this thread goes on scanning; without a helper, nothing. */
  queue(pairs: SignaturePair[]): void {
    if (!this.available) return;
    this.add(pairs);
    this.pump();
  }

  /** Whether the check of `cert` by `ca` is queued already (its verdict comes by the end of `finish`). */
  queued(cert: ScannedCert, ca: ScannedCert): boolean {
    return !!this.asked.get(cert)?.includes(ca);
  }

  /**
   * Checks `pairs` and everything still queued: this thread takes shares from one end while the helper takes
   * them from the other as it becomes free; returns when every verdict is recorded.
   */
  async finish(pairs: SignaturePair[]): Promise<void> {
    this.add(pairs);
    if (this.filling.length) this.shares.push(this.filling);
    this.filling = [];
    this.pump();
    for (;;) {
      const share = this.shares.pop();
      if (share) {
        this.local(share);
        // Lets the helper's answers in (and its next share out), and keeps an editor responsive.
        await new Promise(resolve => setImmediate(resolve));
      } else if (this.inFlight.size) {
        await Promise.race(this.inFlight);
      } else {
        break;
      }
    }
  }

  close(): void {
    this.dead = true;
    void this.worker?.terminate();
    this.worker = undefined;
  }
}
