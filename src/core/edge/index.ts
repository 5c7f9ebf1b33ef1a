// The local edge: a rehearsal of Cloudflare's side of the plan on 127.0.0.1, until the real edge is set up.
//
// Leg 1: it asks clients for a certificate when the hostname is associated with the workspace CA, verifies
// it against that CA (cf.tls_client_auth.cert_verified), and applies the block rule
// `(http.host eq HOST and not cf.tls_client_auth.cert_verified)` with a Cloudflare-like 403 page.
// Leg 2: it forwards to the origin over TLS with SNI and Host = the hostname, presenting the Authenticated
// Origin Pull certificate, verifying the origin's certificate as Full (Strict) does, and maps origin
// failures to Cloudflare's 52x codes. Forwarded requests carry the cf-cert-* headers of the Managed
// Transform "Add TLS client auth headers".
import * as crypto from 'crypto';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as tls from 'tls';
import { Duplex } from 'stream';
import { MtlsError } from '../errors';
import { alertFromError, formatTarget, parseAddress, Target } from '../probe/attempt';
import { makeEphemeralPair } from '../probe/certgen';
import { certFields } from '../probe/der';
import { Credential } from '../probe/types';

export interface EdgeOptions {
  /** ADDR:PORT to listen on (default 127.0.0.1:8443; port 0 picks a free one). */
  listen?: string;
  /** The origin, ADDR:PORT. */
  origin: string;
  /** The proxied hostname (SNI and Host toward the origin; the rule's http.host). */
  hostname: string;
  /** PEM of the workspace CA(s) associated with the hostname for mTLS. */
  clientCa: string;
  /** The hostname is associated with the CA, so the edge asks for client certificates (default true). */
  association?: boolean;
  /** The WAF custom rule that blocks unverified clients exists (default true). */
  wafRule?: boolean;
  /** The Authenticated Origin Pull certificate presented to the origin; none = AOP off. */
  pull?: Credential;
  /** The edge's server certificate; default a throw-away one for the hostname and 127.0.0.1. */
  server?: { certPem: string; keyPem: string };
  /** CA(s) the origin certificate may chain to besides the system roots (e.g. the Cloudflare Origin CA). */
  originCa?: string;
  /** 'strict' verifies the origin certificate (Full (Strict)); 'full' does not (default strict). */
  sslMode?: 'strict' | 'full';
  /** Origin connect/answer timeout, ms (default 15000). */
  originTimeoutMs?: number;
  /** One line per request, for logs. */
  onRequest?: (entry: EdgeLogEntry) => void;
}

export interface EdgeLogEntry {
  ray: string;
  method: string;
  host: string;
  path: string;
  certPresented: boolean;
  certVerified: boolean;
  /** 'blocked' by the rule, or the status returned. */
  status: number;
  action: 'blocked' | 'forwarded' | 'origin-error';
  detail?: string;
}

export interface RunningEdge {
  /** 127.0.0.1:PORT */
  address: string;
  port: number;
  /** PEM of the edge's server certificate (trust it to verify the edge, e.g. --edge-ca). */
  serverCertPem: string;
  /** The CA of a generated server certificate. */
  serverCaPem?: string;
  options: Readonly<EdgeOptions>;
  stop(): Promise<void>;
}

/** Client headers the edge owns: a client cannot spoof them. */
const EDGE_HEADERS = /^(cf-|x-forwarded-|x-real-ip$)/i;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'proxy-authenticate']);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** OpenSSL-style date as Cloudflare prints cf-cert-not-before/after: "Dec 22 19:39:00 2018 GMT". */
export function certDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()} GMT`;
}

/** The legacy (OpenSSL one-line) form: "/C=US/O=Example/CN=Name", from an RFC 4514 string. */
function legacyDn(rfc4514: string): string {
  return '/' + rfc4514.split(/(?<!\\),/).reverse().map(p => p.replace(/\\(.)/g, '$1')).join('/');
}

/** The cf-cert-* headers for a TLS client (Managed Transform "Add TLS client auth headers"). */
export function clientCertHeaders(socket: tls.TLSSocket): { headers: Record<string, string>; presented: boolean; verified: boolean } {
  const peer = socket.getPeerCertificate(false);
  const presented = !!(peer && peer.raw);
  const verified = presented && socket.authorized;
  const headers: Record<string, string> = {
    'cf-cert-presented': String(presented),
    'cf-cert-verified': String(verified),
    'cf-cert-revoked': 'false',
  };
  if (presented) {
    // Read with the small DER reader: crypto.X509Certificate costs a millisecond or more per request.
    const f = certFields(peer.raw);
    Object.assign(headers, {
      'cf-cert-subject-dn': f.subject,
      'cf-cert-issuer-dn': f.issuer,
      'cf-cert-subject-dn-legacy': legacyDn(f.subject),
      'cf-cert-issuer-dn-legacy': legacyDn(f.issuer),
      'cf-cert-serial': f.serial,
      'cf-cert-fingerprint-sha256': crypto.createHash('sha256').update(peer.raw).digest('hex'),
      'cf-cert-fingerprint-sha1': crypto.createHash('sha1').update(peer.raw).digest('hex'),
      'cf-cert-not-before': certDate(f.notBefore),
      'cf-cert-not-after': certDate(f.notAfter),
    });
    if (f.ski) headers['cf-cert-ski'] = f.ski;
    if (f.aki) headers['cf-cert-issuer-ski'] = f.aki;
  }
  return { headers, presented, verified };
}

function rayId(): string {
  return crypto.randomBytes(8).toString('hex') + '-LCL';
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
}

export function blockPage(host: string, ray: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Attention Required! | Cloudflare (local edge)</title></head>
<body>
<h1>Sorry, you have been blocked</h1>
<h2>You are unable to access ${escapeHtml(host)}</h2>
<p>This website is using a security service to protect itself from online attacks. The action you just performed
triggered a security solution: the WAF custom rule <code>(http.host eq "${escapeHtml(host)}" and not cf.tls_client_auth.cert_verified)</code>.
No verified client certificate was presented.</p>
<p>Cloudflare Ray ID: <strong>${ray}</strong> &middot; mTLS Workbench local edge</p>
</body></html>
`;
}

function errorPage(status: number, title: string, explanation: string, ray: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${status}: ${escapeHtml(title)} | Cloudflare (local edge)</title></head>
<body><h1>Error ${status}</h1><h2>${escapeHtml(title)}</h2><p>${escapeHtml(explanation)}</p>
<p>Cloudflare Ray ID: <strong>${ray}</strong> &middot; mTLS Workbench local edge</p></body></html>
`;
}

/** Cloudflare's answer when the origin leg fails. */
export function originErrorStatus(err: NodeJS.ErrnoException): { status: number; title: string; explanation: string } {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return { status: 521, title: 'Web server is down', explanation: `The edge could not connect to the origin (${code}).` };
  }
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') {
    return { status: 522, title: 'Connection timed out', explanation: 'The origin did not answer in time.' };
  }
  if (/^(ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_|ERR_TLS_CERT)/.test(code)) {
    return { status: 526, title: 'Invalid SSL certificate', explanation: `Full (Strict): the origin certificate was refused (${code}).` };
  }
  const alert = alertFromError(err);
  if (alert || code.startsWith('ERR_SSL') || code === 'ECONNRESET' || code === 'EPIPE') {
    return { status: 525, title: 'SSL handshake failed', explanation: `The TLS handshake with the origin failed${alert ? ` (alert ${alert})` : ` (${code})`}: does the origin trust the origin-pull certificate's CA?` };
  }
  return { status: 502, title: 'Bad gateway', explanation: `${code || 'error'}: ${err.message}` };
}

/** Starts the local edge; resolves once it listens. */
export async function startEdge(options: EdgeOptions): Promise<RunningEdge> {
  const listen = parseAddress(options.listen ?? '127.0.0.1:8443', 8443);
  const origin: Target = parseAddress(options.origin, 443);
  if (!options.hostname) throw new MtlsError('bad-option', 'The local edge needs the hostname it fronts.', 'Set mtls.hostname or pass --host.');
  if (!/-----BEGIN CERTIFICATE-----/.test(options.clientCa)) throw new MtlsError('bad-pem', 'The client CA holds no PEM certificate.', 'Give the workspace CA associated with the hostname (--ca).');
  const association = options.association !== false;
  const wafRule = options.wafRule !== false;
  const strict = (options.sslMode ?? 'strict') === 'strict';
  const host = options.hostname.toLowerCase();

  let serverCaPem: string | undefined;
  let server = options.server;
  if (!server) {
    const pair = await makeEphemeralPair({ caCn: 'mTLS Workbench Local Edge CA', cn: options.hostname, profile: 'server', sans: [options.hostname, '127.0.0.1', 'localhost'], days: 30 });
    server = { certPem: pair.certPem + pair.caPem, keyPem: pair.keyPem };
    serverCaPem = pair.caPem;
  }

  // Toward the origin: trust in the system roots plus the named CA, and the origin-pull certificate, in one
  // secure context built once (150 roots parsed per connection would cost more than the forwarding).
  const pull = options.pull;
  const upstreamContext = tls.createSecureContext({
    ca: options.originCa ? [options.originCa, ...tls.rootCertificates] : undefined,
    ...(pull?.kind === 'pem' ? { cert: pull.certPem, key: pull.keyPem } : {}),
    ...(pull?.kind === 'p12' ? { pfx: pull.pfx, passphrase: pull.passphrase } : {}),
  });
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 16,
    servername: net.isIP(options.hostname) ? undefined : options.hostname,
    rejectUnauthorized: strict,
    secureContext: upstreamContext,
  });

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket as tls.TLSSocket;
    const ray = rayId();
    const reqHost = String(req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const cert = clientCertHeaders(socket);
    const log = (status: number, action: EdgeLogEntry['action'], detail?: string) => options.onRequest?.({
      ray, method: req.method ?? 'GET', host: reqHost, path: req.url ?? '/', certPresented: cert.presented, certVerified: cert.verified, status, action, detail,
    });
    const common = { server: 'cloudflare', 'cf-ray': ray };

    // The WAF custom rule: (http.host eq HOST and not cf.tls_client_auth.cert_verified) -> Block.
    if (wafRule && reqHost === host && !cert.verified) {
      res.writeHead(403, { ...common, 'content-type': 'text/html; charset=UTF-8', 'cache-control': 'no-store' });
      res.end(blockPage(reqHost, ray));
      log(403, 'blocked', cert.presented ? `certificate not verified (${socket.authorizationError})` : 'no certificate');
      return;
    }

    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || HOP_BY_HOP.has(k) || EDGE_HEADERS.test(k)) continue;
      headers[k] = v;
    }
    const clientIp = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    Object.assign(headers, cert.headers, {
      host: options.hostname,
      'cf-ray': ray,
      'cf-connecting-ip': clientIp,
      'cf-visitor': '{"scheme":"https"}',
      'x-forwarded-for': clientIp,
      'x-forwarded-proto': 'https',
    });

    const upstream = https.request({
      host: origin.host, port: origin.port, method: req.method, path: req.url, headers, agent,
      timeout: options.originTimeoutMs ?? 15000,
    });
    upstream.on('timeout', () => upstream.destroy(Object.assign(new Error('origin timeout'), { code: 'ETIMEDOUT' })));
    upstream.on('response', ores => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(ores.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(ores.statusCode ?? 502, { ...out, ...common });
      ores.pipe(res);
      log(ores.statusCode ?? 502, 'forwarded');
    });
    upstream.on('error', err => {
      const e = originErrorStatus(err as NodeJS.ErrnoException);
      if (!res.headersSent) {
        res.writeHead(e.status, { ...common, 'content-type': 'text/html; charset=UTF-8' });
        res.end(errorPage(e.status, e.title, e.explanation, ray));
      } else {
        res.destroy();
      }
      log(e.status, 'origin-error', e.explanation);
    });
    req.pipe(upstream);
  };

  const srv = https.createServer({
    cert: server.certPem,
    key: server.keyPem,
    // Cloudflare asks for a certificate only on hostnames associated with a CA, and never fails the
    // handshake over it: verification is a field (cert_verified) for the rules.
    requestCert: association,
    rejectUnauthorized: false,
    ca: options.clientCa,
    minVersion: 'TLSv1.2',
  }, handler);
  srv.on('tlsClientError', () => undefined);
  const sockets = new Set<Duplex>();
  srv.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)); });

  await new Promise<void>((resolve, reject) => {
    srv.once('error', err => {
      const code = (err as NodeJS.ErrnoException).code;
      reject(code === 'EADDRINUSE'
        ? new MtlsError('edge-listen', `${formatTarget(listen)} is already in use.`, 'Pick another --listen address or stop what runs there.')
        : err);
    });
    srv.listen(listen.port, listen.host, () => resolve());
  });
  const port = (srv.address() as net.AddressInfo).port;
  return {
    address: formatTarget({ host: listen.host, port }),
    port,
    serverCertPem: server.certPem,
    serverCaPem,
    options,
    stop: () => new Promise<void>(resolve => {
      agent.destroy();
      for (const s of sockets) s.destroy();
      srv.close(() => resolve());
    }),
  };
}
