// How a probe's outcome reads in the guide's terms (section 5, Troubleshooting): what happened, why, and
// what to do. Pure functions of an AttemptResult, so they are tested without a network.
import { AttemptResult, ProbeError } from './attempt';
import { FixAction } from './types';

export type Outcome =
  /** No TLS conversation: DNS, refused, unreachable, timeout before TCP. */
  | { kind: 'network'; error: ProbeError }
  | { kind: 'timeout'; error: ProbeError }
  /** The probe's own certificate could not be used (bad file, wrong password). */
  | { kind: 'client'; error: ProbeError }
  /** TLS ended by the server over the client certificate: an alert in or right after the handshake, or a hang-up. */
  | { kind: 'tls-refused'; error: ProbeError }
  /** TLS failed for another reason (not a TLS server, no common version, internal error...). */
  | { kind: 'tls-error'; error: ProbeError }
  | { kind: 'http'; status: number; statusMessage: string; title: string };

/** Status codes that mean "refused for lack of a (valid) client certificate or by a rule". */
export const REFUSAL_STATUSES = new Set([400, 401, 403, 495, 496]);

export function outcomeOf(a: AttemptResult): Outcome {
  if (a.http) return { kind: 'http', status: a.http.status, statusMessage: a.http.statusMessage, title: pageTitle(a.http.body) };
  const error = a.error ?? { code: 'ERROR', message: 'no answer', phase: 'tls' as const };
  if (error.code === 'ETIMEDOUT') return { kind: 'timeout', error };
  if (error.code === 'ERR_CLIENT_CREDENTIAL') return { kind: 'client', error };
  if (error.phase === 'tcp') return { kind: 'network', error };
  if (error.alert) return { kind: CERT_ALERTS.has(error.alert) ? 'tls-refused' : 'tls-error', error };
  // A hang-up without an alert is a refusal once the server has seen what the client offers: after the
  // handshake (TLS 1.3 checks the certificate then), or after it asked for a certificate.
  if (/^(ECONNRESET|EPIPE|ECLOSED)$/.test(error.code) && (error.phase === 'http' || a.handshake.certificateRequested)) return { kind: 'tls-refused', error };
  return { kind: 'tls-error', error };
}

/** Alerts a server sends when it does not get (or does not like) a client certificate. */
export const CERT_ALERTS = new Set([
  'handshake_failure', 'bad_certificate', 'unsupported_certificate', 'certificate_revoked', 'certificate_expired',
  'certificate_unknown', 'unknown_ca', 'access_denied', 'certificate_required', 'decrypt_error',
]);

/** The <title> or first line of an error page: "400 No required SSL certificate was sent". */
export function pageTitle(body: string): string {
  const t = /<title>([^<]*)<\/title>/i.exec(body)?.[1] ?? /<h1[^>]*>([^<]*)<\/h1>/i.exec(body)?.[1] ?? body.split('\n')[0];
  return t.trim().replace(/\s+/g, ' ').slice(0, 120);
}

export function isRefusal(o: Outcome): boolean {
  return o.kind === 'tls-refused' || (o.kind === 'http' && REFUSAL_STATUSES.has(o.status));
}

/** The page was served (the request got through to the application). */
export function isServed(o: Outcome): boolean {
  return o.kind === 'http' && !REFUSAL_STATUSES.has(o.status) && o.status < 500;
}

export function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'http': {
      if (o.title.startsWith(String(o.status))) return `HTTP ${o.title}`;
      const head = `HTTP ${o.status}${o.statusMessage ? ' ' + o.statusMessage : ''}`;
      return o.title && o.status >= 400 ? `${head} ("${o.title}")` : head;
    }
    case 'tls-refused':
      return o.error.alert
        ? `TLS alert ${o.error.alert}${o.error.phase === 'http' ? ' right after the handshake' : ' in the handshake'}`
        : `connection closed by the server (${o.error.code})`;
    case 'tls-error':
      return o.error.alert ? `TLS alert ${o.error.alert}` : `TLS failed (${o.error.code}: ${o.error.message.replace(/\s+/g, ' ').trim().slice(0, 160)})`;
    case 'timeout': return `${o.error.message} (${STALLED_PHASE[o.error.phase]})`;
    case 'client': return o.error.message;
    case 'network': return `${o.error.code}: ${o.error.message}`;
  }
}

export interface Explained {
  explanation: string;
  fix: string;
  action?: FixAction;
  /** With action 'settings': the setting to change. */
  setting?: string;
}

/** Why a connection did not happen at all, or TLS could not be spoken. */
export function explainNetwork(o: Outcome & { kind: 'network' | 'timeout' | 'client' | 'tls-error' }, leg: 'leg1' | 'leg2', target: string, timeoutMs: number): Explained {
  const r = networkCause(o, leg, target, timeoutMs);
  if (r.action === 'settings' && !r.setting) r.setting = o.kind === 'client' ? undefined : leg === 'leg2' ? 'mtls.originAddress' : 'mtls.edgeAddress';
  return r;
}

function networkCause(o: Outcome & { kind: 'network' | 'timeout' | 'client' | 'tls-error' }, leg: 'leg1' | 'leg2', target: string, timeoutMs: number): Explained {
  const e = o.error;
  const where = leg === 'leg2' ? 'mtls.originAddress' : 'mtls.edgeAddress';
  if (o.kind === 'tls-error') {
    if (e.alert === 'protocol_version' || /UNSUPPORTED_PROTOCOL|NO_PROTOCOLS/.test(e.code)) {
      return { explanation: `${target} and the probe share no TLS version: the server speaks only TLS older than 1.2, which Cloudflare and browsers refuse.`, fix: 'Enable TLS 1.2 and 1.3 on the server (ssl_protocols / SSLProtocol).', action: 'origin-config' };
    }
    if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|EPROTO/.test(e.code)) {
      return { explanation: `${target} does not speak TLS there (plain HTTP, or another protocol).`, fix: `Point ${where} at the HTTPS port (usually 443).`, action: 'settings' };
    }
    if (e.alert === 'unrecognized_name') {
      return { explanation: `${target} has no site for this hostname (SNI unrecognized_name).`, fix: 'Add the hostname to the server\'s server_name / ServerName, or check mtls.hostname.', action: 'origin-config' };
    }
    return { explanation: `TLS with ${target} failed before any certificate question: ${e.alert ? `alert ${e.alert}` : e.code}.`, fix: 'Check the server\'s TLS configuration and its error log.', action: 'origin-config' };
  }
  if (o.kind === 'client') {
    return { explanation: `The probe could not use the configured certificate: ${e.message}.`, fix: 'Check the certificate, key and PKCS#12 password in the settings (mtls.clientCertificate / mtls.originPullCertificate).', action: 'settings' };
  }
  if (o.kind === 'timeout') return explainTimeout(e, leg, target, timeoutMs);
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' || e.code === 'EAI_NONAME') {
    return { explanation: `DNS: ${target.replace(/:\d+$/, '')} does not resolve (${e.code}).`, fix: leg === 'leg1' ? 'Create the DNS record for the hostname in Cloudflare and proxy it (orange cloud), or set mtls.edgeAddress.' : 'Set mtls.originAddress to the origin\'s IP address (with port), as the DNS name points at Cloudflare.', action: 'settings' };
  }
  if (e.code === 'ECONNREFUSED') {
    return leg === 'leg2'
      ? { explanation: `Connection refused: nothing listens on ${target}.`, fix: 'Check mtls.originAddress and that the web server runs and listens for HTTPS there.', action: 'settings' }
      : { explanation: `Connection refused: nothing listens on ${target}.`, fix: 'Check mtls.edgeAddress, or start the local edge (mTLS: Start Local Edge).', action: 'settings' };
  }
  return { explanation: `The connection to ${target} failed: ${e.code} (${e.message}).`, fix: 'Check the address and the network path to it.', action: 'settings' };
}

/** Which phase of a probe stalled, in words. */
export const STALLED_PHASE: Record<ProbeError['phase'], string> = {
  tcp: 'the TCP connection was never accepted',
  tls: 'TCP connected, but the TLS handshake stalled',
  http: 'the TLS handshake completed and the request was sent, but no response came',
};

/**
 * A timeout, by the phase that stalled, with the Cloudflare error a visitor would see when Cloudflare meets
 * the same stall on its way to the origin: 522 Connection timed out for a TCP connection or TLS handshake
 * that does not complete, 524 A timeout occurred when the origin does not answer the request in time.
 */
export function explainTimeout(e: ProbeError, leg: 'leg1' | 'leg2', target: string, timeoutMs: number): Explained {
  const stalled = `No answer from ${target} within ${timeoutMs} ms: ${STALLED_PHASE[e.phase]}.`;
  if (leg === 'leg2') {
    if (e.phase === 'tcp') {
      return { explanation: `${stalled} Through Cloudflare visitors would get 522 Connection timed out. A firewall may drop the probe, e.g. an origin allowlist of Cloudflare IP ranges (right for production: then only Cloudflare can reach the origin).`, fix: 'Check mtls.originAddress; run the probe from a host the origin firewall admits, or raise mtls.probe.timeoutMs.', action: 'settings', setting: 'mtls.originAddress' };
    }
    if (e.phase === 'tls') {
      return { explanation: `${stalled} Something accepts TCP there but does not speak TLS back (a plain-HTTP or non-HTTP service, a stuck server, a middlebox). Through Cloudflare visitors would get 522 Connection timed out.`, fix: 'Check that mtls.originAddress is the HTTPS port of the web server and that the server is not overloaded (its error log).', action: 'settings', setting: 'mtls.originAddress' };
    }
    return { explanation: `${stalled} The application behind TLS is slow or hangs. Through Cloudflare visitors would get 524 A timeout occurred (Cloudflare waits 100 seconds by default).`, fix: 'Look at the application and its upstreams (the origin\'s error log), or raise mtls.probe.timeoutMs for slow pages.', action: 'origin-config' };
  }
  if (e.phase === 'http') {
    return { explanation: `${stalled} The edge took the request but did not answer: it is waiting on the origin (Cloudflare answers 522 or 524 when the origin stalls; run Leg 2 to see where).`, fix: 'Run Leg 2 against the origin, or raise mtls.probe.timeoutMs.', action: 'settings', setting: 'mtls.probe.timeoutMs' };
  }
  return { explanation: `${stalled}`, fix: 'Check mtls.edgeAddress (or that the local edge is running), the network, or raise mtls.probe.timeoutMs.', action: 'settings', setting: 'mtls.edgeAddress' };
}

/** Errors Cloudflare's edge (or the local edge) returns when it cannot reach or trust the origin. */
export function explainGateway(status: number, title: string, body = ''): Explained | undefined {
  if (status === 526 && /local edge/i.test(body)) {
    const stale = /changed since: ([^.]*)\./.exec(body)?.[1];
    return {
      explanation: `526 Invalid SSL certificate from the local edge (Full (Strict)): it does not accept the origin's certificate with the CAs it trusts (the system roots and mtls.trustedOriginCa${stale ? `, as it was when the edge started; changed since: ${stale}` : ''}).`,
      fix: stale ? 'Restart the local edge (mTLS: Restart Local Edge) so it uses the current mtls.trustedOriginCa, then run Test Leg again.' : 'Set mtls.trustedOriginCa to the CA that signed the origin certificate (restart the local edge after changing it), or install a certificate from a public CA or the Cloudflare Origin CA; run Leg 2 for the details.',
      action: 'settings',
      setting: 'mtls.trustedOriginCa',
    };
  }
  if (status === 525) return { explanation: '525 SSL handshake failed between Cloudflare and the origin: usually an AOP CA mismatch, the origin refuses the certificate Cloudflare presents (or they share no TLS version/cipher).', fix: 'Make the origin trust the CA that issued the origin-pull certificate Cloudflare presents (ssl_client_certificate / SSLCACertificateFile), then run Leg 2.', action: 'origin-config' };
  if (status === 526) return { explanation: '526 Invalid SSL certificate: with Full (Strict) Cloudflare does not accept the origin\'s certificate (untrusted issuer, wrong name or expired).', fix: 'Install a certificate for the hostname from a public CA or the Cloudflare Origin CA on the origin; run Leg 2 for the details.', action: 'origin-config' };
  if (status === 521) return { explanation: '521 Web server is down: Cloudflare could not connect to the origin.', fix: 'Start the origin web server and check the DNS record\'s origin address and its firewall.', action: 'origin-config' };
  if (status === 522) return { explanation: '522 Connection timed out: the TCP connection or TLS handshake between Cloudflare and the origin did not complete.', fix: 'Check the origin is reachable from Cloudflare\'s IP ranges (firewall allowlist) and its HTTPS port answers; run Leg 2.', action: 'origin-config' };
  if (status === 524) return { explanation: '524 A timeout occurred: Cloudflare reached the origin and sent the request, but the application did not answer in time.', fix: 'Look at the application and its upstreams (the origin\'s error log); run Leg 2.', action: 'origin-config' };
  if (status === 520 || status === 502) return { explanation: `${status}: the origin answered Cloudflare with something it could not use.`, fix: 'Look at the origin\'s error log.', action: 'origin-config' };
  if (status === 400 && /No required SSL certificate/i.test(title)) return { explanation: '400 "No required SSL certificate was sent": AOP is required on the origin but not enabled in Cloudflare, so Cloudflare is not sending its certificate.', fix: 'Enable Authenticated Origin Pulls in Cloudflare (SSL/TLS > Origin Server), with the certificate whose CA the origin trusts.', action: 'guide-aop' };
  if (status === 400 && /SSL certificate error/i.test(title)) return { explanation: '400 "The SSL certificate error": the origin refused the certificate Cloudflare presented: AOP CA mismatch.', fix: 'Make the origin trust the CA of the origin-pull certificate Cloudflare presents (ssl_client_certificate / SSLCACertificateFile).', action: 'origin-config' };
  return undefined;
}
