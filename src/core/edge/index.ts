// The local edge: a rehearsal of Cloudflare's side of the plan on 127.0.0.1, until the real edge is set up.
//
// Leg 1: it serves only the fronted hostname (Host normalised as Cloudflare routes it: case, trailing dot,
// port; anything else, or no Host, is refused before the rule and never reaches the origin), asks clients
// for a certificate when the hostname is associated with the workspace CA, verifies it against that CA
// (cf.tls_client_auth.cert_verified), and applies the block rule
// `(http.host eq HOST and not cf.tls_client_auth.cert_verified)` (plus the revoked fingerprints, or
// cf.tls_client_auth.cert_revoked for a Cloudflare-managed CA) with a Cloudflare-like 403 page. Headers
// Cloudflare sets (CF-Connecting-IP, True-Client-IP, Forwarded, X-Forwarded-*...) are never taken from the client.
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
  /**
   * SHA-256 fingerprints (hex, colons allowed) the rule blocks by cf.tls_client_auth.cert_fingerprint_sha256,
   * as `mtls cloudflare apply --revoked` writes them: how revocation works with your own CA.
   */
  ruleRevokedFingerprints?: string[];
  /**
   * Rehearse the Cloudflare-managed CA: Cloudflare knows which of its certificates are revoked, so
   * cf.tls_client_auth.cert_revoked (and the cf-cert-revoked header) is true for `revokedFingerprints` and
   * the rule `... or cf.tls_client_auth.cert_revoked` blocks them. With your own CA it is always false.
   */
  managedCa?: boolean;
  /** SHA-256 fingerprints of the certificates revoked in the store (see managedCa). */
  revokedFingerprints?: string[];
  /** Where originCa came from (a setting name), named by the 526 page. */
  originCaSource?: string;
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
  /** 'refused': not the fronted hostname (or no Host), never forwarded. */
  action: 'refused' | 'blocked' | 'forwarded' | 'origin-error';
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
  /** The WAF rule as the edge applies it (undefined without the rule). */
  rule?: string;
  /** Settings that changed since the edge started (set by the adapter): its answers say so. */
  staleSettings: string[];
  stop(): Promise<void>;
}

/**
 * Client headers the edge owns: whatever a client sends under these names is dropped, and the edge sets
 * its own (Cloudflare's CF-Connecting-IP, CF-Ray, CF-Visitor, cf-cert-*, X-Forwarded-For/Proto, CDN-Loop)
 * or none (True-Client-IP without its Managed Transform, Forwarded, X-Real-IP). Underscore spellings
 * count too: some origins read CF_CONNECTING_IP as CF-Connecting-IP.
 */
export function isEdgeOwnedHeader(name: string): boolean {
  return /^(cf-|x-forwarded-|x-real-ip$|true-client-ip$|forwarded$|cdn-loop$|x-original-forwarded-for$)/i.test(name.replace(/_/g, '-'));
}
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
export function clientCertHeaders(socket: tls.TLSSocket, revoked: ReadonlySet<string> = new Set()): { headers: Record<string, string>; presented: boolean; verified: boolean; revoked: boolean; fingerprint?: string } {
  const peer = socket.getPeerCertificate(false);
  const presented = !!(peer && peer.raw);
  const verified = presented && socket.authorized;
  const fingerprint = presented ? crypto.createHash('sha256').update(peer.raw).digest('hex') : undefined;
  const isRevoked = !!fingerprint && revoked.has(fingerprint);
  const headers: Record<string, string> = {
    'cf-cert-presented': String(presented),
    'cf-cert-verified': String(verified),
    'cf-cert-revoked': String(isRevoked),
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
      'cf-cert-fingerprint-sha256': fingerprint!,
      'cf-cert-fingerprint-sha1': crypto.createHash('sha1').update(peer.raw).digest('hex'),
      'cf-cert-not-before': certDate(f.notBefore),
      'cf-cert-not-after': certDate(f.notAfter),
    });
    if (f.ski) headers['cf-cert-ski'] = f.ski;
    if (f.aki) headers['cf-cert-issuer-ski'] = f.aki;
  }
  return { headers, presented, verified, revoked: isRevoked, fingerprint };
}

/** A SHA-256 fingerprint in cert_fingerprint_sha256's form (64 lowercase hex digits). */
function fingerprintKey(fp: string): string {
  const n = fp.replace(/[\s:]/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(n)) throw new MtlsError('bad-option', `"${fp}" is not a SHA-256 fingerprint (64 hex digits).`);
  return n;
}

/** The WAF custom rule the edge rehearses, in Cloudflare's expression language. */
export function edgeRule(host: string, ruleFingerprints: string[], managedCa: boolean): string {
  const h = `http.host eq "${host}"`;
  const clauses = [`(${h} and not cf.tls_client_auth.cert_verified)`];
  if (managedCa) clauses.push(`(${h} and cf.tls_client_auth.cert_revoked)`);
  if (ruleFingerprints.length) clauses.push(`(${h} and cf.tls_client_auth.cert_fingerprint_sha256 in {${ruleFingerprints.map(f => `"${f}"`).join(' ')}})`);
  return clauses.join(' or ');
}

export type HostVerdict =
  | { ok: true; host: string }
  | { ok: false; status: 400 | 421; reason: string };

/**
 * The Host a request is routed by, as Cloudflare reads it: lower case, without a trailing dot or a port.
 * A missing Host (HTTP/1.0), several Host headers, a malformed one (bad port, spaces, userinfo), or
 * another hostname is refused: Cloudflare routes by Host, so such a request never reaches this origin.
 */
export function routeHost(rawHeaders: string[], url: string | undefined, fronted: string): HostVerdict {
  const hosts: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === 'host') hosts.push(rawHeaders[i + 1]);
  let authority = hosts[0];
  if (hosts.length > 1) return { ok: false, status: 400, reason: `${hosts.length} Host headers` };
  // An absolute-form target (GET https://host/path) names the host itself (RFC 9112 3.2.2).
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url ?? '');
  if (absolute) authority = absolute[1];
  if (authority === undefined || authority.trim() === '') return { ok: false, status: 400, reason: 'no Host header' };
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/i.exec(authority.trim());
  if (!m) return { ok: false, status: 400, reason: `malformed Host "${authority.slice(0, 100)}"` };
  if (m[2] !== undefined && !(Number(m[2]) >= 1 && Number(m[2]) <= 65535)) return { ok: false, status: 400, reason: `bad port in Host "${authority.slice(0, 100)}"` };
  const host = m[1].toLowerCase().replace(/\.$/, '');
  const want = fronted.toLowerCase().replace(/\.$/, '');
  if (host !== want) return { ok: false, status: 421, reason: `Host "${host}" is not the fronted hostname ${want}` };
  return { ok: true, host };
}

function rayId(): string {
  return crypto.randomBytes(8).toString('hex') + '-LCL';
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
}

export function blockPage(host: string, ray: string, rule = `(http.host eq "${host}" and not cf.tls_client_auth.cert_verified)`, reason = 'No verified client certificate was presented.'): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Attention Required! | Cloudflare (local edge)</title></head>
<body>
<h1>Sorry, you have been blocked</h1>
<h2>You are unable to access ${escapeHtml(host)}</h2>
<p>This website is using a security service to protect itself from online attacks. The action you just performed
triggered a security solution: the WAF custom rule <code>${escapeHtml(rule)}</code>.
${escapeHtml(reason)}</p>
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
export function originErrorStatus(err: NodeJS.ErrnoException, originCaSource?: string): { status: number; title: string; explanation: string } {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return { status: 521, title: 'Web server is down', explanation: `The edge could not connect to the origin (${code}).` };
  }
  if (code === 'ERESPONSETIMEOUT') {
    return { status: 524, title: 'A timeout occurred', explanation: 'The edge connected to the origin and sent the request, but the origin did not answer in time.' };
  }
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') {
    return { status: 522, title: 'Connection timed out', explanation: 'The TCP connection or TLS handshake with the origin did not complete in time.' };
  }
  if (/^(ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_|ERR_TLS_CERT)/.test(code)) {
    const trust = originCaSource ? ` The edge trusts the system roots and the CA from ${originCaSource} as it was when the edge started.` : ' The edge trusts the system roots only (no trusted origin CA, mtls.trustedOriginCa / --origin-ca).';
    return { status: 526, title: 'Invalid SSL certificate', explanation: `Full (Strict): the origin certificate was refused (${code}).${trust}` };
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

  const ruleFingerprints = [...new Set((options.ruleRevokedFingerprints ?? []).map(fingerprintKey))].sort();
  const managedCa = !!options.managedCa;
  const revoked = new Set(managedCa ? (options.revokedFingerprints ?? []).map(fingerprintKey) : []);
  const rule = wafRule ? edgeRule(host, ruleFingerprints, managedCa) : undefined;
  const staleSettings: string[] = [];
  const staleNote = () => staleSettings.length
    ? ` This local edge still runs with the settings it started with; changed since: ${staleSettings.join(', ')}. Restart it (mTLS: Restart Local Edge).`
    : '';

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket as tls.TLSSocket;
    const ray = rayId();
    const route = routeHost(req.rawHeaders, req.url, host);
    const cert = clientCertHeaders(socket, revoked);
    const path = route.ok && /^[a-z][a-z0-9+.-]*:\/\//i.test(req.url ?? '') ? (req.url!.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '') || '/') : (req.url ?? '/');
    const log = (status: number, action: EdgeLogEntry['action'], detail?: string) => options.onRequest?.({
      ray, method: req.method ?? 'GET', host: route.ok ? route.host : String(req.headers.host ?? ''), path, certPresented: cert.presented, certVerified: cert.verified, status, action, detail,
    });
    const common = { server: 'cloudflare', 'cf-ray': ray };

    // Routing first: Cloudflare serves a hostname only if it is the one proxied; nothing else is forwarded.
    if (!route.ok) {
      const title = route.status === 400 ? 'Bad Request' : 'Misdirected Request';
      res.writeHead(route.status, { ...common, 'content-type': 'text/html; charset=UTF-8', 'cache-control': 'no-store', connection: 'close' });
      res.end(errorPage(route.status, title, `${route.reason}: this edge serves only ${host}; the request was not forwarded to the origin.`, ray));
      log(route.status, 'refused', route.reason);
      return;
    }

    // The WAF custom rule, on every request that reached the zone.
    const why = !cert.verified
      ? (cert.presented ? `certificate not verified (${socket.authorizationError})` : 'no certificate')
      : cert.revoked ? 'certificate revoked (cf.tls_client_auth.cert_revoked)'
        : cert.fingerprint && ruleFingerprints.includes(cert.fingerprint) ? 'certificate fingerprint listed as revoked in the rule' : undefined;
    if (rule && why) {
      res.writeHead(403, { ...common, 'content-type': 'text/html; charset=UTF-8', 'cache-control': 'no-store' });
      res.end(blockPage(route.host, ray, rule, cert.verified ? 'The client certificate is revoked.' : 'No verified client certificate was presented.'));
      log(403, 'blocked', why);
      return;
    }

    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || HOP_BY_HOP.has(k) || isEdgeOwnedHeader(k)) continue;
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
      'cdn-loop': 'cloudflare',
    });

    const upstream = https.request({
      host: origin.host, port: origin.port, method: req.method, path, headers, agent,
      timeout: options.originTimeoutMs ?? 15000,
    });
    // Cloudflare's split: the connection or TLS handshake stalled -> 522; the request was sent and no answer came -> 524.
    upstream.on('timeout', () => {
      const sock = upstream.socket as tls.TLSSocket | null;
      const handshook = !!sock && typeof sock.getProtocol === 'function' && !!sock.getProtocol();
      upstream.destroy(Object.assign(new Error(handshook ? 'the origin did not answer the request in time' : 'origin connection timeout'), { code: handshook ? 'ERESPONSETIMEOUT' : 'ETIMEDOUT' }));
    });
    upstream.on('response', ores => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(ores.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(ores.statusCode ?? 502, { ...out, ...common });
      ores.pipe(res);
      log(ores.statusCode ?? 502, 'forwarded');
    });
    upstream.on('error', err => {
      const e = originErrorStatus(err as NodeJS.ErrnoException, options.originCa ? options.originCaSource ?? 'the trusted origin CA file' : undefined);
      e.explanation += staleNote();
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
    // A request without Host reaches the handler, which refuses it with the edge's own page and log line.
    requireHostHeader: false,
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
    rule,
    staleSettings,
    stop: () => new Promise<void>(resolve => {
      agent.destroy();
      for (const s of sockets) s.destroy();
      srv.close(() => resolve());
    }),
  };
}
