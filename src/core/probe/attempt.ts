// One probe connection: TCP to the connect address, TLS with SNI = hostname (optionally presenting a
// client certificate), then an HTTP/1.1 GET with Host = hostname, read to the end. In TLS 1.3 a server
// that wants a certificate and got none only says so (certificate_required) after the handshake, so a
// probe never declares success before the HTTP answer has arrived. Every byte is recorded so the
// handshake (CertificateRequest, CA names, server chain) can be read afterwards.
import * as http from 'http';
import * as net from 'net';
import * as tls from 'tls';
import { MtlsError } from '../errors';
import { analyzeHandshake, CapturedHandshake, RecordingSocket } from './handshake';
import { Credential } from './types';

export interface Target {
  host: string;
  port: number;
}

/** "host", "host:port", "1.2.3.4:8443", "[::1]:443", "::1". */
export function parseAddress(address: string, defaultPort = 443): Target {
  const a = address.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  if (!a) throw new MtlsError('bad-option', 'Empty address.', 'Give ADDR or ADDR:PORT, e.g. 203.0.113.7:443.');
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(a);
  if (bracket) return { host: bracket[1], port: bracket[2] ? Number(bracket[2]) : defaultPort };
  if (net.isIPv6(a)) return { host: a, port: defaultPort };
  const m = /^([^:]+)(?::(\d+))?$/.exec(a);
  if (!m) throw new MtlsError('bad-option', `Cannot read the address "${address}".`, 'Give ADDR or ADDR:PORT, e.g. 203.0.113.7:443 or [2001:db8::1]:443.');
  const port = m[2] ? Number(m[2]) : defaultPort;
  if (!(port >= 0 && port < 65536)) throw new MtlsError('bad-option', `Bad port in "${address}".`);
  return { host: m[1], port };
}

export function formatTarget(t: Target): string {
  return net.isIPv6(t.host) ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

export interface AttemptOptions {
  target: Target;
  /** SNI and Host header. */
  hostname: string;
  path?: string;
  credential?: Credential;
  /** Trust anchors for the server certificate (PEM); default Node's bundled roots. */
  ca?: string;
  maxVersion?: tls.SecureVersion;
  timeoutMs: number;
  /** Send the HTTP request (default true). */
  http?: boolean;
}

export interface ProbeError {
  /** ECONNREFUSED, ENOTFOUND, ETIMEDOUT, ECONNRESET, ERR_SSL_..., ... */
  code: string;
  message: string;
  /** TLS alert name, when the server (or Node) reported one: certificate_required, handshake_failure, unknown_ca... */
  alert?: string;
  /** Where it happened. */
  phase: 'tcp' | 'tls' | 'http';
}

export interface TlsInfo {
  protocol: string | null;
  cipher: string;
  /** The chain verified against `ca` (or the bundled roots). Name checks are separate. */
  chainTrusted: boolean;
  chainError?: string;
  /** Peer chain as DER, leaf first. */
  chain: Buffer[];
}

export interface HttpAnswer {
  status: number;
  statusMessage: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface AttemptResult {
  ms: number;
  error?: ProbeError;
  tls?: TlsInfo;
  http?: HttpAnswer;
  handshake: CapturedHandshake;
}

const MAX_BODY = 64 * 1024;

export function alertFromError(err: NodeJS.ErrnoException & { reason?: string }): string | undefined {
  const code = err.code ?? '';
  const m = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_(.+)$/.exec(code);
  if (m) return m[1].toLowerCase();
  if (code === 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME') return 'unrecognized_name';
  const r = /(?:sslv3|tlsv1|tlsv13) alert ([a-z ]+)/i.exec(err.message ?? '');
  return r ? r[1].trim().replace(/ /g, '_').toLowerCase() : undefined;
}

/** TLS 1.3 suites whose handshake analyzeHandshake can decrypt. */
const DECRYPTABLE = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);

function chainOf(peer: tls.DetailedPeerCertificate): Buffer[] {
  const out: Buffer[] = [];
  const seen = new Set<string>();
  for (let c: tls.DetailedPeerCertificate | undefined = peer; c && c.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    out.push(c.raw);
  }
  return out;
}

// A secure context costs 1.5-3.5 ms of CPU to build (root store, key parsing): more than the handshake
// on loopback. They are built once per credential, CA and version and shared by the parallel probes.
const contexts = new Map<string, tls.SecureContext>();
const credentialContexts = new WeakMap<Credential, Map<string, tls.SecureContext>>();

export function contextFor(cred: Credential | undefined, ca: string | undefined, maxVersion: tls.SecureVersion | undefined): tls.SecureContext {
  const key = `${maxVersion ?? ''}|${ca ?? ''}`;
  let cache = contexts;
  if (cred) {
    cache = credentialContexts.get(cred) ?? new Map();
    credentialContexts.set(cred, cache);
  }
  let ctx = cache.get(key);
  if (!ctx) {
    ctx = tls.createSecureContext({
      ca, maxVersion, minVersion: 'TLSv1.2',
      ...(cred?.kind === 'pem' ? { cert: cred.certPem, key: cred.keyPem } : {}),
      ...(cred?.kind === 'p12' ? { pfx: cred.pfx, passphrase: cred.passphrase } : {}),
    });
    if (!cred && cache.size > 32) cache.clear(); // distinct CAs: keep the shared cache small
    cache.set(key, ctx);
  }
  return ctx;
}

/** Runs one probe connection; never throws: failures are in `error`. */
export function attempt(o: AttemptOptions): Promise<AttemptResult> {
  const t0 = performance.now();
  return new Promise(resolve => {
    let recorder: RecordingSocket | undefined;
    let socket: tls.TLSSocket | undefined;
    const keylog: string[] = [];
    let phase: ProbeError['phase'] = 'tcp';
    let done = false;
    const result: Partial<AttemptResult> = {};

    const finish = (error?: ProbeError) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket?.destroy();
      recorder?.destroy();
      raw?.destroy();
      const inbound = Buffer.concat(recorder?.inbound ?? []);
      const handshake = analyzeHandshake(inbound, keylog);
      if (result.tls && !result.tls.chain.length) result.tls.chain = handshake.serverCertificates;
      if (error && !error.alert && handshake.alert && handshake.alert.description !== 0) error.alert = handshake.alert.name;
      resolve({ ...result, error, handshake, ms: Math.round((performance.now() - t0) * 10) / 10 });
    };
    const fail = (err: unknown) => {
      const e = err as NodeJS.ErrnoException;
      finish({ code: e.code ?? 'ERROR', message: e.message ?? String(err), alert: alertFromError(e), phase });
    };
    const timer = setTimeout(() => finish({ code: 'ETIMEDOUT', message: `no answer within ${o.timeoutMs} ms`, phase }), o.timeoutMs);

    const raw = net.connect({ host: o.target.host, port: o.target.port, noDelay: true }); // no Nagle: small TLS records, loopback latency
    raw.once('error', fail);
    raw.once('connect', () => {
      if (done) return;
      phase = 'tls';
      recorder = new RecordingSocket(raw);
      const cred = o.credential;
      let secureContext: tls.SecureContext;
      try {
        secureContext = contextFor(cred, o.ca, o.maxVersion);
      } catch (err) {
        // e.g. a wrong PKCS#12 password: not the server's fault, but the probe cannot run.
        finish({ code: 'ERR_CLIENT_CREDENTIAL', message: `cannot use the client certificate: ${(err as Error).message}`, phase });
        return;
      }
      const opts: tls.ConnectionOptions = {
        socket: recorder,
        servername: net.isIP(o.hostname) ? undefined : o.hostname,
        rejectUnauthorized: false,
        secureContext,
        ALPNProtocols: ['http/1.1'],
      };
      try {
        socket = tls.connect(opts);
      } catch (err) {
        // e.g. a wrong PKCS#12 password: not the server's fault, but the probe cannot run.
        const e = err as Error;
        finish({ code: 'ERR_CLIENT_CREDENTIAL', message: `cannot use the client certificate: ${e.message}`, phase });
        return;
      }
      socket.on('keylog', line => keylog.push(line.toString('latin1')));
      socket.on('error', fail);
      socket.once('secureConnect', () => {
        if (done) return;
        const s = socket!;
        // authorizationError is a code string at run time (UNABLE_TO_VERIFY_LEAF_SIGNATURE, ERR_TLS_CERT_ALTNAME_INVALID...).
        const authError = s.authorizationError ? String(s.authorizationError) : undefined;
        const chainError = authError === 'ERR_TLS_CERT_ALTNAME_INVALID' ? undefined : authError;
        // The chain is read from the recorded handshake when the probe ends (getPeerCertificate(true)
        // costs milliseconds); only a handshake that will not be readable asks Node for it now.
        const protocol = s.getProtocol();
        const cipher = s.getCipher();
        const chain = protocol === 'TLSv1.3' && !DECRYPTABLE.has(cipher?.standardName ?? '') ? chainOf(s.getPeerCertificate(true)) : [];
        result.tls = { protocol, cipher: cipher?.name ?? '', chainTrusted: !chainError, chainError, chain };
        if (o.http === false) { finish(); return; }
        phase = 'http';
        // HTTP/1.1 by hand on the TLS socket: the extension host patches http.request for its proxy
        // support, which would ignore a custom socket; and the probe needs no more than one GET.
        const host = net.isIPv6(o.hostname) ? `[${o.hostname}]` : o.hostname;
        s.write(`GET ${o.path ?? '/'} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: mtls-workbench-probe/0.1\r\nAccept: */*\r\nConnection: close\r\n\r\n`);
        const reader = new ResponseReader();
        s.on('data', (d: Buffer) => {
          if (done) return;
          try {
            const answer = reader.push(d);
            if (answer) { result.http = answer; finish(); }
          } catch (err) {
            fail(err);
          }
        });
        s.on('end', () => {
          if (done) return;
          const answer = reader.end();
          if (answer) { result.http = answer; finish(); return; }
          fail(Object.assign(new Error(reader.started ? 'the server closed the connection mid-answer' : 'the server closed the connection without an answer'), { code: reader.started ? 'ECONNRESET' : 'ECLOSED' }));
        });
      });
    });
  });
}

/** Reads one HTTP/1.1 response: status line, headers, then a body by content-length, chunks, or to the end. */
export class ResponseReader {
  private buf = Buffer.alloc(0);
  private head?: { status: number; statusMessage: string; headers: http.IncomingHttpHeaders };
  private body: Buffer[] = [];
  private bodySize = 0;
  private chunked = false;
  private remaining = -1; // content-length left, -1 = to the end
  private chunkLeft = -1; // bytes left in the current chunk (+2 for its CRLF), -1 = at a size line
  started = false;

  push(data: Buffer): HttpAnswer | undefined {
    this.started = true;
    this.buf = Buffer.concat([this.buf, data]);
    if (!this.head) {
      const i = this.buf.indexOf('\r\n\r\n');
      if (i < 0) {
        if (this.buf.length > 64 * 1024) throw Object.assign(new Error('response headers too large'), { code: 'EPROTO' });
        return undefined;
      }
      const lines = this.buf.subarray(0, i).toString('latin1').split('\r\n');
      const m = /^HTTP\/\d(?:\.\d)? (\d{3})(?: (.*))?$/.exec(lines[0]);
      if (!m) throw Object.assign(new Error(`not an HTTP answer: ${lines[0].slice(0, 60)}`), { code: 'EPROTO' });
      const headers: http.IncomingHttpHeaders = {};
      for (const line of lines.slice(1)) {
        const c = line.indexOf(':');
        if (c <= 0) continue;
        const k = line.slice(0, c).trim().toLowerCase();
        const v = line.slice(c + 1).trim();
        if (k === 'set-cookie') (headers['set-cookie'] ??= []).push(v);
        else headers[k] = headers[k] !== undefined ? `${headers[k]}, ${v}` : v;
      }
      this.buf = this.buf.subarray(i + 4);
      const status = Number(m[1]);
      if (status >= 100 && status < 200) return this.push(Buffer.alloc(0)); // informational: the real answer follows
      this.head = { status, statusMessage: m[2] ?? '', headers };
      this.chunked = /\bchunked\b/i.test(String(headers['transfer-encoding'] ?? ''));
      if (!this.chunked && headers['content-length'] !== undefined) this.remaining = Number(headers['content-length']);
      if (status === 204 || status === 304) this.remaining = 0;
    }
    return this.consume();
  }

  private take(b: Buffer): void {
    if (this.bodySize < MAX_BODY) { this.body.push(b); this.bodySize += b.length; }
  }

  private answer(): HttpAnswer {
    return { ...this.head!, body: Buffer.concat(this.body).toString('utf8').slice(0, MAX_BODY) };
  }

  private consume(): HttpAnswer | undefined {
    if (!this.chunked) {
      if (this.remaining < 0) { this.take(this.buf); this.buf = Buffer.alloc(0); return this.bodySize >= MAX_BODY ? this.answer() : undefined; }
      const n = Math.min(this.remaining, this.buf.length);
      this.take(this.buf.subarray(0, n));
      this.buf = this.buf.subarray(n);
      this.remaining -= n;
      return this.remaining === 0 || this.bodySize >= MAX_BODY ? this.answer() : undefined;
    }
    for (;;) {
      if (this.chunkLeft < 0) {
        const i = this.buf.indexOf('\r\n');
        if (i < 0) return undefined;
        const size = parseInt(this.buf.subarray(0, i).toString('latin1'), 16);
        if (Number.isNaN(size)) throw Object.assign(new Error('bad chunk size'), { code: 'EPROTO' });
        this.buf = this.buf.subarray(i + 2);
        if (size === 0) return this.answer(); // trailers are not needed
        this.chunkLeft = size + 2;
      }
      if (!this.buf.length) return undefined;
      const n = Math.min(this.chunkLeft, this.buf.length);
      const dataPart = Math.max(0, Math.min(n, this.chunkLeft - 2));
      this.take(this.buf.subarray(0, dataPart));
      this.buf = this.buf.subarray(n);
      this.chunkLeft -= n;
      if (this.chunkLeft === 0) this.chunkLeft = -1;
      if (this.bodySize >= MAX_BODY) return this.answer();
    }
  }

  /** The connection ended: the answer when the body runs to the end, else undefined. */
  end(): HttpAnswer | undefined {
    if (!this.head) return undefined;
    if (!this.chunked && this.remaining < 0) return this.answer();
    return undefined;
  }
}
