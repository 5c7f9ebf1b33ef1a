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
  /** TLS ended by the server: an alert in or right after the handshake, or a reset. */
  | { kind: 'tls-refused'; error: ProbeError }
  | { kind: 'http'; status: number; statusMessage: string; title: string };

/** Status codes that mean "refused for lack of a (valid) client certificate or by a rule". */
export const REFUSAL_STATUSES = new Set([400, 401, 403, 495, 496]);

export function outcomeOf(a: AttemptResult): Outcome {
  if (a.http) return { kind: 'http', status: a.http.status, statusMessage: a.http.statusMessage, title: pageTitle(a.http.body) };
  const error = a.error ?? { code: 'ERROR', message: 'no answer', phase: 'tls' as const };
  if (error.code === 'ETIMEDOUT') return { kind: 'timeout', error };
  if (error.code === 'ERR_CLIENT_CREDENTIAL') return { kind: 'client', error };
  if (error.phase === 'tcp') return { kind: 'network', error };
  return { kind: 'tls-refused', error };
}

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
    case 'timeout': return o.error.message;
    case 'client': return o.error.message;
    case 'network': return `${o.error.code}: ${o.error.message}`;
  }
}

export interface Explained {
  explanation: string;
  fix: string;
  action?: FixAction;
}

/** Why a connection did not happen at all. */
export function explainNetwork(o: Outcome & { kind: 'network' | 'timeout' | 'client' }, leg: 'leg1' | 'leg2', target: string, timeoutMs: number): Explained {
  const e = o.error;
  if (o.kind === 'client') {
    return { explanation: `The probe could not use the configured certificate: ${e.message}.`, fix: 'Check the certificate, key and PKCS#12 password in the settings (mtls.clientCertificate / mtls.originPullCertificate).', action: 'settings' };
  }
  if (o.kind === 'timeout') {
    return leg === 'leg2'
      ? { explanation: `No answer from ${target} within ${timeoutMs} ms. A firewall may drop the probe, e.g. an origin allowlist of Cloudflare IP ranges (which is right for production: then only Cloudflare can reach the origin).`, fix: 'Check mtls.originAddress; run the probe from a host the origin firewall admits, or raise mtls.probe.timeoutMs.', action: 'settings' }
      : { explanation: `No answer from ${target} within ${timeoutMs} ms.`, fix: 'Check mtls.edgeAddress (or that the local edge is running), the network, or raise mtls.probe.timeoutMs.', action: 'settings' };
  }
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

/** Errors Cloudflare's edge (or the local edge) returns when it cannot reach or trust the origin. */
export function explainGateway(status: number, title: string): Explained | undefined {
  if (status === 525) return { explanation: '525 SSL handshake failed between Cloudflare and the origin: usually an AOP CA mismatch, the origin refuses the certificate Cloudflare presents (or they share no TLS version/cipher).', fix: 'Make the origin trust the CA that issued the origin-pull certificate Cloudflare presents (ssl_client_certificate / SSLCACertificateFile), then run Leg 2.', action: 'origin-config' };
  if (status === 526) return { explanation: '526 Invalid SSL certificate: with Full (Strict) Cloudflare does not accept the origin\'s certificate (untrusted issuer, wrong name or expired).', fix: 'Install a certificate for the hostname from a public CA or the Cloudflare Origin CA on the origin; run Leg 2 for the details.', action: 'origin-config' };
  if (status === 521) return { explanation: '521 Web server is down: Cloudflare could not connect to the origin.', fix: 'Start the origin web server and check the DNS record\'s origin address and its firewall.', action: 'origin-config' };
  if (status === 522 || status === 524) return { explanation: `${status}: the origin did not answer Cloudflare in time.`, fix: 'Check the origin is reachable from Cloudflare\'s IP ranges and not overloaded.', action: 'origin-config' };
  if (status === 520 || status === 502) return { explanation: `${status}: the origin answered Cloudflare with something it could not use.`, fix: 'Look at the origin\'s error log.', action: 'origin-config' };
  if (status === 400 && /No required SSL certificate/i.test(title)) return { explanation: '400 "No required SSL certificate was sent": AOP is required on the origin but not enabled in Cloudflare, so Cloudflare is not sending its certificate.', fix: 'Enable Authenticated Origin Pulls in Cloudflare (SSL/TLS > Origin Server), with the certificate whose CA the origin trusts.', action: 'guide-aop' };
  if (status === 400 && /SSL certificate error/i.test(title)) return { explanation: '400 "The SSL certificate error": the origin refused the certificate Cloudflare presented: AOP CA mismatch.', fix: 'Make the origin trust the CA of the origin-pull certificate Cloudflare presents (ssl_client_certificate / SSLCACertificateFile).', action: 'origin-config' };
  return undefined;
}
