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
  peer: tls.DetailedPeerCertificate;
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

function chainOf(peer: tls.DetailedPeerCertificate): Buffer[] {
  const out: Buffer[] = [];
  const seen = new Set<string>();
  for (let c: tls.DetailedPeerCertificate | undefined = peer; c && c.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    out.push(c.raw);
  }
  return out;
}

/** Runs one probe connection; never throws: failures are in `error`. */
export function attempt(o: AttemptOptions): Promise<AttemptResult> {
  const t0 = performance.now();
  return new Promise(resolve => {
    let raw: net.Socket | undefined;
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
      if (error && !error.alert && handshake.alert && handshake.alert.description !== 0) error.alert = handshake.alert.name;
      resolve({ ...result, error, handshake, ms: Math.round((performance.now() - t0) * 10) / 10 });
    };
    const fail = (err: unknown) => {
      const e = err as NodeJS.ErrnoException;
      finish({ code: e.code ?? 'ERROR', message: e.message ?? String(err), alert: alertFromError(e), phase });
    };
    const timer = setTimeout(() => finish({ code: 'ETIMEDOUT', message: `no answer within ${o.timeoutMs} ms`, phase }), o.timeoutMs);

    raw = net.connect({ host: o.target.host, port: o.target.port });
    raw.once('error', fail);
    raw.once('connect', () => {
      if (done) return;
      phase = 'tls';
      recorder = new RecordingSocket(raw!);
      const cred = o.credential;
      const opts: tls.ConnectionOptions = {
        socket: recorder,
        servername: net.isIP(o.hostname) ? undefined : o.hostname,
        rejectUnauthorized: false,
        ca: o.ca,
        maxVersion: o.maxVersion,
        minVersion: 'TLSv1.2',
        ALPNProtocols: ['http/1.1'],
        ...(cred?.kind === 'pem' ? { cert: cred.certPem, key: cred.keyPem } : {}),
        ...(cred?.kind === 'p12' ? { pfx: cred.pfx, passphrase: cred.passphrase } : {}),
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
        const peer = s.getPeerCertificate(true);
        // authorizationError is a code string at run time (UNABLE_TO_VERIFY_LEAF_SIGNATURE, ERR_TLS_CERT_ALTNAME_INVALID...).
        const authError = s.authorizationError ? String(s.authorizationError) : undefined;
        const chainError = authError === 'ERR_TLS_CERT_ALTNAME_INVALID' ? undefined : authError;
        result.tls = {
          protocol: s.getProtocol(),
          cipher: s.getCipher()?.name ?? '',
          chainTrusted: !chainError,
          chainError,
          chain: peer && peer.raw ? chainOf(peer) : [],
          peer,
        };
        if (o.http === false) { finish(); return; }
        phase = 'http';
        const req = http.request({
          createConnection: () => s,
          method: 'GET',
          path: o.path ?? '/',
          headers: { Host: o.hostname, 'User-Agent': 'mtls-workbench-probe/0.1', Accept: '*/*', Connection: 'close' },
        });
        req.on('error', fail);
        req.on('response', res => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (d: Buffer) => { if (size < MAX_BODY) { chunks.push(d); size += d.length; } });
          res.on('error', fail);
          res.on('end', () => {
            result.http = { status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY) };
            finish();
          });
          res.on('aborted', () => fail(Object.assign(new Error('the server closed the connection mid-answer'), { code: 'ECONNRESET' })));
        });
        req.end();
      });
    });
  });
}
