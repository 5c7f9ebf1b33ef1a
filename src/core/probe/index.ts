// Test Leg: probes that prove each leg of the mTLS plan from outside, in parallel, each with a timeout.
//
// Leg 1 (client -> Cloudflare) connects to the edge address; Leg 2 (Cloudflare -> origin) connects straight
// to the origin, bypassing Cloudflare. Both send the public hostname as SNI and Host. A handful of
// connections per leg (no certificate, the configured certificate, a throw-away foreign one, and for
// Leg 2 one forced to TLS 1.2 to read the CertificateRequest in the clear) feed all the checks.
import * as crypto from 'crypto';
import * as tls from 'tls';
import { MtlsError } from '../errors';
import { attempt, AttemptResult, formatTarget, parseAddress, Target } from './attempt';
import { foreignClientCert } from './certgen';
import { credentialChain, credentialNames } from './credentials';
import { certFields, nameToString, normalizeDn, pemToDers } from './der';
import {
  describeOutcome, Explained, explainGateway, explainNetwork, isRefusal, isServed, Outcome, outcomeOf,
} from './explain';
import { CheckId, CheckResult, CheckStatus, Credential, LegId, LegReport, ProbeOptions, ProbeReport } from './types';

export * from './types';
export * from './checks';
import { CHECKS, INPUT_SETTINGS, LEG_TITLES } from './checks';
export { parseAddress, formatTarget } from './attempt';
export { loadCredential } from './credentials';
export { formatReport } from './format';

export const DEFAULT_TIMEOUT_MS = 8000;

/** Cloudflare's shared origin-pull CA (zone-level "global" AOP), RFC 4514. */
export const CLOUDFLARE_ORIGIN_PULL_CA_DN = 'CN=origin-pull.cloudflare.net,ST=California,L=San Francisco,OU=Origin Pull,O=CloudFlare\\, Inc.,C=US';

interface Ctx {
  o: ProbeOptions;
  leg: LegId;
  target: string;
  timeoutMs: number;
}

function result(id: CheckId, status: CheckStatus, detail: string, ms: number, ex?: Partial<Explained>, data?: Record<string, unknown>): CheckResult {
  const r: CheckResult = { id, title: CHECKS[id].title, status, detail, ms };
  if (ex?.explanation) r.explanation = ex.explanation;
  if (ex?.fix) r.fix = ex.fix;
  if (ex?.action) r.action = ex.action;
  if (ex?.setting) r.setting = ex.setting;
  if (data && Object.keys(data).length) r.data = data;
  return r;
}

/** A check whose input was not given is skipped, naming the setting and the CLI option that give it. */
function notConfigured(id: CheckId, input: 'client' | 'pull'): CheckResult {
  const i = INPUT_SETTINGS[input];
  return { ...result(id, 'skip', `No ${i.what} configured (${i.setting}, or ${i.cli}).`, 0), setting: i.setting };
}

/** A check that could not reach the server fails with the network diagnosis. */
function unreachable(id: CheckId, ctx: Ctx, a: AttemptResult, o: Outcome): CheckResult | undefined {
  if (o.kind !== 'network' && o.kind !== 'timeout' && o.kind !== 'client' && o.kind !== 'tls-error') return undefined;
  return result(id, 'fail', describeOutcome(o), a.ms, explainNetwork(o, ctx.leg, ctx.target, ctx.timeoutMs));
}

/** cf-cert-* values a test page echoed, as response headers (cf-cert-x / x-cf-cert-x) or "cf-cert-x: v" lines in the body. */
export function echoedCfHeaders(a: AttemptResult): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a.http?.headers ?? {})) {
    const m = /^(?:x-)?(cf-(?:client-)?cert-[a-z0-9-]+)$/.exec(k);
    if (m && v !== undefined) out[m[1]] = String(v);
  }
  for (const line of (a.http?.body ?? '').split(/\r?\n/)) {
    const m = /^\s*(cf-(?:client-)?cert-[a-z0-9-]+)\s*[:=]\s*(.*?)\s*$/i.exec(line);
    if (m && !(m[1].toLowerCase() in out)) out[m[1].toLowerCase()] = m[2];
  }
  return out;
}

function casText(cas: Buffer[]): string {
  return cas.length ? cas.map(nameToString).map(n => `"${n}"`).join(', ') : 'no CA names';
}

// ---------------------------------------------------------------- Leg 1

function edgeRequestsClientCert(ctx: Ctx, a: AttemptResult): CheckResult {
  const id = 'edge-requests-client-cert';
  const o = outcomeOf(a);
  const hs = a.handshake;
  const data: Record<string, unknown> = { tlsVersion: hs.version, requestedCas: hs.certificateAuthorities.map(nameToString) };
  if (hs.readable && hs.certificateRequested) {
    return result(id, 'pass', `The edge asked for a client certificate (${hs.version}), naming ${casText(hs.certificateAuthorities)}.`, a.ms, undefined, data);
  }
  if (hs.readable) {
    return result(id, 'fail', `The ${hs.version} handshake completed without a CertificateRequest: the edge never asks for a client certificate.`, a.ms, {
      explanation: 'The hostname is not associated with the CA for mTLS, so Cloudflare never asks for a certificate: browsers never prompt and cf.tls_client_auth.cert_verified is always false.',
      fix: `Associate ${ctx.o.hostname} with the uploaded CA (SSL/TLS > Client Certificates > Hosts; the guide's "Associate the hostnames" step).`,
      action: 'guide-association',
    }, data);
  }
  const down = unreachable(id, ctx, a, o);
  if (down) return down;
  if (o.kind === 'tls-refused' && (o.error.alert === 'certificate_required' || o.error.alert === 'handshake_failure')) {
    return result(id, 'pass', `The edge ended the handshake with ${o.error.alert} when no certificate was sent: it demands one.`, a.ms, undefined, data);
  }
  return result(id, 'warn', `Could not read the edge's handshake (${describeOutcome(o)}), so whether it asks for a certificate is unknown.`, a.ms, undefined, data);
}

function notBlocked(ctx: Ctx, o: Outcome): Explained {
  const gateway = o.kind === 'http' && o.status >= 500 ? ` (It reached the origin, which then failed: ${describeOutcome(o)}.)` : '';
  return {
    explanation: `Everyone gets through: the CA is registered but the enforcing WAF rule (not cf.tls_client_auth.cert_verified) is missing or does not cover ${ctx.o.hostname}.${gateway}`,
    fix: `Add a WAF custom rule (Security > WAF > Custom rules): (http.host eq "${ctx.o.hostname}" and not cf.tls_client_auth.cert_verified) -> Block.`,
    action: 'guide-waf',
  };
}

function refusalDetail(o: Outcome, what: string): string {
  if (o.kind === 'http' && o.status === 403) return `${what} was blocked: ${describeOutcome(o)} (the WAF rule).`;
  return `${what} was refused: ${describeOutcome(o)}.`;
}

function edgeBlocksWithoutCert(ctx: Ctx, a: AttemptResult): CheckResult {
  const id = 'edge-blocks-without-cert';
  const o = outcomeOf(a);
  const down = unreachable(id, ctx, a, o);
  if (down) return down;
  const data = o.kind === 'http' ? { status: o.status } : { alert: o.error.alert };
  if (isRefusal(o)) return result(id, 'pass', refusalDetail(o, 'A request without a certificate'), a.ms, undefined, data);
  return result(id, 'fail', `A request without a certificate got through: ${describeOutcome(o)}.`, a.ms, notBlocked(ctx, o), data);
}

function edgeAllowsWithCert(ctx: Ctx, a: AttemptResult | undefined): CheckResult {
  const id = 'edge-allows-with-cert';
  if (!a) return notConfigured(id, 'client');
  const o = outcomeOf(a);
  const down = unreachable(id, ctx, a, o);
  if (down) return down;
  const headers = echoedCfHeaders(a);
  const data: Record<string, unknown> = o.kind === 'http' ? { status: o.status } : { alert: o.error.alert };
  if (Object.keys(headers).length) data.cfCertHeaders = headers;
  const headerText = Object.keys(headers).length ? ` The origin saw ${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('; ')}.` : '';
  if (isServed(o)) return result(id, 'pass', `With the client certificate: ${describeOutcome(o)}.${headerText}`, a.ms, undefined, data);
  const gw = o.kind === 'http' ? explainGateway(o.status, o.title, a.http?.body) : undefined;
  if (gw) return result(id, 'fail', `With the client certificate the edge let the request through, but the origin leg failed: ${describeOutcome(o)}.`, a.ms, gw, data);
  const who = ctx.o.client ? credentialNames(ctx.o.client) : undefined;
  if (a.handshake.readable && !a.handshake.certificateRequested) {
    return result(id, 'fail', `The edge never asked for the client certificate, so it was not sent: ${describeOutcome(o)}.`, a.ms, {
      explanation: 'The hostname is not associated with the CA for mTLS: Cloudflare does not ask for certificates, so even a good one is never presented and the rule blocks everyone.',
      fix: `Associate ${ctx.o.hostname} with the uploaded CA (SSL/TLS > Client Certificates > Hosts).`,
      action: 'guide-association',
    }, data);
  }
  return result(id, 'fail', `Blocked even with the client certificate${who ? ` "${who.subject}" (issued by "${who.issuer}")` : ''}: ${describeOutcome(o)}.`, a.ms, {
    explanation: 'Cloudflare did not verify the certificate: it was not issued by the CA uploaded and associated with this hostname, or it expired, or the rule asks for more than cert_verified.',
    fix: 'Issue a client certificate from the CA that is uploaded to Cloudflare (mTLS: Issue Client Certificate), or upload and associate the CA that issued this one.',
    action: 'issue-client-cert',
  }, data);
}

function edgeRejectsForeignCert(ctx: Ctx, a: AttemptResult): CheckResult {
  const id = 'edge-rejects-foreign-cert';
  const o = outcomeOf(a);
  const down = unreachable(id, ctx, a, o);
  if (down) return down;
  const data = o.kind === 'http' ? { status: o.status } : { alert: o.error.alert };
  if (isRefusal(o)) return result(id, 'pass', refusalDetail(o, 'A certificate from an unrelated, throw-away CA'), a.ms, undefined, data);
  return result(id, 'fail', `A certificate from an unrelated, throw-away CA got through: ${describeOutcome(o)}.`, a.ms, {
    explanation: 'The edge lets in certificates it cannot verify: the WAF rule checks that a certificate is presented (cf.tls_client_auth.cert_presented) rather than verified, or it is missing.',
    fix: `Block on (http.host eq "${ctx.o.hostname}" and not cf.tls_client_auth.cert_verified).`,
    action: 'guide-waf',
  }, data);
}

// ---------------------------------------------------------------- Leg 2

/** A hang-up without an alert from a server whose (readable) handshake never asked for a certificate. */
function closesWithoutAsking(a: AttemptResult, o: Outcome): o is Outcome & { kind: 'tls-refused' } {
  return o.kind === 'tls-refused' && !o.error.alert && a.handshake.readable && !a.handshake.certificateRequested;
}

const ORIGIN_CONFIG_FIX = 'Make the origin require and verify the client certificate: nginx `ssl_client_certificate <origin-pull CA>; ssl_verify_client on;`, Apache `SSLVerifyClient require` + `SSLCACertificateFile <origin-pull CA>`.';

function originRequiresClientCert(ctx: Ctx, a: AttemptResult): CheckResult {
  const id = 'origin-requires-client-cert';
  const o = outcomeOf(a);
  const down = unreachable(id, ctx, a, o);
  if (down) return down;
  const data = o.kind === 'http' ? { status: o.status } : { alert: o.error.alert };
  if (closesWithoutAsking(a, o)) {
    return result(id, 'fail', `The origin closed the connection ${o.error.phase === 'http' ? 'after the handshake' : 'in the handshake'} without ever asking for a client certificate (no CertificateRequest in its ${a.handshake.version} handshake).`, a.ms, {
      explanation: 'This is not client-certificate enforcement: nobody can present a certificate to an origin that does not ask for one, so it refuses everyone alike, Cloudflare included (visitors get 520 Web server returns an unknown error). Something closes every connection: the application, `return 444`, a firewall or proxy in front of TLS.',
      fix: `${ORIGIN_CONFIG_FIX} Then find what closes the connections (the origin's error log).`,
      action: 'origin-config',
    }, { ...data, certificateRequested: false });
  }
  if (isRefusal(o)) {
    const note = o.kind === 'http' && /No required SSL certificate/i.test(o.title) ? ' This is what the guide expects; Cloudflare with AOP enabled gets through.' : '';
    return result(id, 'pass', `Without a certificate the origin refused: ${describeOutcome(o)}.${note}`, a.ms, undefined, data);
  }
  if (o.kind === 'http' && o.status >= 500) {
    return result(id, 'warn', `Without a certificate the origin answered ${describeOutcome(o)}: not a refusal, not the page either.`, a.ms, { explanation: 'The origin failed on its own; whether it requires a certificate is unclear.', fix: 'Look at the origin\'s error log.', action: 'origin-config' }, data);
  }
  const optional = a.handshake.readable && a.handshake.certificateRequested;
  return result(id, 'fail', `Without a certificate the origin served the page: ${describeOutcome(o)}.`, a.ms, {
    explanation: optional
      ? 'Leg 2 is open: the origin asks for a client certificate but does not require one (ssl_verify_client optional / SSLVerifyClient optional), so anyone who finds the origin address bypasses Cloudflare.'
      : 'Leg 2 is open: the origin does not ask for a client certificate, so anyone who finds the origin address bypasses Cloudflare.',
    fix: ORIGIN_CONFIG_FIX,
    action: 'origin-config',
  }, data);
}

function originRejectsForeignCert(ctx: Ctx, a: AttemptResult): CheckResult {
  const id = 'origin-rejects-foreign-cert';
  const o = outcomeOf(a);
  const down = unreachable(id, ctx, a, o);
  if (down) return down;
  const data = o.kind === 'http' ? { status: o.status } : { alert: o.error.alert };
  if (closesWithoutAsking(a, o)) {
    return result(id, 'warn', `The origin closed the connection without asking for a client certificate (no CertificateRequest), so the foreign certificate was never presented: ${describeOutcome(o)}.`, a.ms, {
      explanation: 'The origin refuses everyone alike; it does not check client certificates.', fix: ORIGIN_CONFIG_FIX, action: 'origin-config',
    }, data);
  }
  if (isRefusal(o)) return result(id, 'pass', `A certificate from an unrelated, throw-away CA was refused: ${describeOutcome(o)}.`, a.ms, undefined, data);
  if (o.kind === 'http' && o.status >= 500) {
    return result(id, 'warn', `With a foreign certificate the origin answered ${describeOutcome(o)}.`, a.ms, { explanation: 'The origin failed on its own.', fix: 'Look at the origin\'s error log.', action: 'origin-config' }, data);
  }
  const asked = a.handshake.readable && a.handshake.certificateRequested;
  return result(id, 'fail', `A certificate from an unrelated, throw-away CA got the page: ${describeOutcome(o)}.`, a.ms, {
    explanation: asked
      ? 'The origin accepts a client certificate from any CA (ssl_verify_client optional_no_ca / SSLVerifyClient optional_no_ca, or a config that never checks the result): anyone can mint one and bypass Cloudflare.'
      : 'The origin does not ask for a client certificate at all, so any client gets the page.',
    fix: ORIGIN_CONFIG_FIX,
    action: 'origin-config',
  }, data);
}

function originAcceptsPullCert(ctx: Ctx, a: AttemptResult | undefined, requestedCas: Buffer[] | undefined): CheckResult {
  const id = 'origin-accepts-pull-cert';
  if (!a) return notConfigured(id, 'pull');
  const o = outcomeOf(a);
  const down = unreachable(id, ctx, a, o);
  if (down) return down;
  const data = o.kind === 'http' ? { status: o.status } : { alert: o.error.alert };
  if (isServed(o)) return result(id, 'pass', `With the origin-pull certificate the origin served the page: ${describeOutcome(o)}.`, a.ms, undefined, data);
  if (o.kind === 'http' && o.status >= 500) {
    return result(id, 'fail', `With the origin-pull certificate the origin answered ${describeOutcome(o)}.`, a.ms, { explanation: 'The origin accepted the connection but failed to serve the page; through Cloudflare visitors see this error too.', fix: 'Look at the origin\'s error log.', action: 'origin-config' }, data);
  }
  return result(id, 'fail', `The origin refused the origin-pull certificate${pullIssuer(ctx)}: ${describeOutcome(o)}.${trustsText(requestedCas)}`, a.ms, pullRefusal(ctx, a, o, requestedCas), data);
}

function pullIssuer(ctx: Ctx): string {
  const names = ctx.o.pull ? credentialNames(ctx.o.pull) : undefined;
  return names ? ` (issued by "${names.issuer}")` : '';
}

function trustsText(requestedCas: Buffer[] | undefined): string {
  return requestedCas && requestedCas.length ? ` The origin trusts ${casText(requestedCas)}.` : '';
}

/**
 * Why the origin refused the pull certificate, from what the probe saw: an expired certificate, no
 * CertificateRequest at all, per-directory verification (renegotiation / post-handshake auth), the
 * application hanging up after a good handshake, or a CA mismatch. The CA is blamed only when the origin
 * names CAs and none of them is an ancestor of the pull certificate.
 */
function pullRefusal(ctx: Ctx, a: AttemptResult, o: Outcome, requestedCas: Buffer[] | undefined): Explained {
  const chain = ctx.o.pull ? credentialChain(ctx.o.pull).map(certFields) : [];
  const leaf = chain[0];
  const now = Date.now();
  const hs = a.handshake;
  if (leaf && (leaf.notAfter.getTime() < now || leaf.notBefore.getTime() > now)) {
    const when = leaf.notAfter.getTime() < now ? `expired on ${leaf.notAfter.toISOString().slice(0, 10)}` : `is not valid before ${leaf.notBefore.toISOString().slice(0, 10)}`;
    return {
      explanation: `The origin-pull certificate ${when}: the origin refuses it (alert certificate_expired, or nginx 400), and so it would refuse Cloudflare presenting it: visitors get 525 SSL handshake failed or the origin's 400.`,
      fix: 'Issue a new origin-pull certificate (mTLS: Issue Origin-Pull Certificate), upload it to Cloudflare for Authenticated Origin Pulls, and point mtls.originPullCertificate at it.',
      action: 'issue-pull-cert',
    };
  }
  if (hs.readable && !hs.certificateRequested) {
    // Apache answers 403 ("Cannot perform Post-Handshake Authentication" in its log, sometimes in the page);
    // a renegotiation a client refuses ends the connection with a message naming it.
    const perDirectory = (o.kind === 'http' && o.status === 403 && /apache/i.test(String(a.http?.headers.server ?? '')))
      || /post-handshake|renegotiat/i.test(o.kind === 'http' ? `${o.title} ${a.http?.body ?? ''}` : o.kind === 'tls-refused' || o.kind === 'tls-error' ? o.error.message : '');
    if (perDirectory) {
      return {
        explanation: `The origin did not ask for a certificate in the ${hs.version} handshake and refused the request afterwards: it verifies client certificates per directory or location (Apache \`SSLVerifyClient require\` inside <Directory>/<Location>), which needs a renegotiation (TLS 1.2) or post-handshake authentication (TLS 1.3). Cloudflare does neither, so through Cloudflare every request is refused (403).`,
        fix: 'Move `SSLVerifyClient require` (with SSLVerifyDepth and SSLCACertificateFile) to the <VirtualHost> level, so the certificate is asked for in the handshake.',
        action: 'origin-config',
      };
    }
    if (o.kind === 'tls-refused' && !o.error.alert) {
      return {
        explanation: `The origin never asked for a client certificate (no CertificateRequest in its ${hs.version} handshake), so the certificate was not even sent; then it closed the connection without an answer. That is not a certificate problem: the application (or \`return 444\`, a firewall, a proxy) closes the connection, and through Cloudflare visitors get 520.`,
        fix: `${ORIGIN_CONFIG_FIX} Then find what closes the connections (the origin's error log).`,
        action: 'origin-config',
      };
    }
    return {
      explanation: `The origin never asked for a client certificate (no CertificateRequest in its ${hs.version} handshake), so the origin-pull certificate was not sent and this refusal is not about it: Authenticated Origin Pulls are not configured on the origin.`,
      fix: ORIGIN_CONFIG_FIX,
      action: 'origin-config',
    };
  }
  if (o.kind === 'tls-refused' && !o.error.alert && o.error.phase === 'http' && hs.certificateRequested) {
    return {
      explanation: 'The TLS handshake with the origin-pull certificate completed without an alert, so the origin\'s TLS layer accepted it; then the application closed the connection without an answer (nginx `return 444`, a backend that drops the request, a proxy). Through Cloudflare visitors get 520 Web server returns an unknown error.',
      fix: 'Look at the application behind TLS and the origin\'s error and access logs for this request.',
      action: 'origin-config',
    };
  }
  const expected = expectedPullCas(ctx.o);
  const trusted = trustedAncestors(requestedCas, expected);
  if (trusted.length) {
    const notCa = `The origin names ${trusted.map(n => `"${n}"`).join(', ')}, which vouches for the origin-pull certificate, so this is not a CA mismatch.`;
    const der = ctx.o.pull ? credentialChain(ctx.o.pull)[0] : undefined;
    const eku = der ? new crypto.X509Certificate(der).keyUsage : undefined; // Node names the Extended Key Usage OIDs "keyUsage"
    if (eku && !eku.includes('1.3.6.1.5.5.7.3.2') && !eku.includes('2.5.29.37.0')) {
      return {
        explanation: `${notCa} The certificate itself is refused: its Extended Key Usage does not include clientAuth (TLS Web Client Authentication), so the origin rejects it for this purpose (nginx 400 "The SSL certificate error", Apache handshake failure), as it would when Cloudflare presents it.`,
        fix: 'Issue an origin-pull certificate with Extended Key Usage clientAuth (mTLS: Issue Origin-Pull Certificate) and upload it to Cloudflare.',
        action: 'issue-pull-cert',
      };
    }
    const viaIntermediate = expected.directIssuer && !trusted.some(n => normalizeDn(n) === normalizeDn(expected.directIssuer!));
    if (viaIntermediate && chain.length > 1) {
      return {
        explanation: `${notCa} The pull certificate is issued by the intermediate "${expected.directIssuer}" and sent with it: the origin must accept a chain of ${chain.length} certificates below the root it trusts.`,
        fix: `Raise the verify depth to at least ${chain.length}: nginx \`ssl_verify_depth ${chain.length};\`, Apache \`SSLVerifyDepth ${chain.length}\`; the origin's error log names the verification error.`,
        action: 'origin-config',
      };
    }
    return {
      explanation: `${notCa} The refusal has another cause: the origin's error log names the verification error (depth, purpose, revocation list).`,
      fix: 'Fix what the origin\'s error log names for the pull certificate.',
      action: 'origin-config',
    };
  }
  if (requestedCas && !requestedCas.length && hs.certificateRequested) {
    return {
      explanation: 'The origin asks for a certificate but names no CA, so it cannot be told whether it trusts the pull certificate\'s issuer; it refused it. Through Cloudflare visitors get 525 (handshake refused) or 400.',
      fix: 'Put the CA that issued the origin-pull certificate in ssl_client_certificate (nginx) or SSLCACertificateFile (Apache).',
      action: 'origin-config',
    };
  }
  return {
    explanation: 'AOP CA mismatch: the origin does not trust the CA that issued the certificate Cloudflare presents. Through Cloudflare visitors get 525 (handshake refused) or 400 (nginx "The SSL certificate error").',
    fix: 'Put the CA that issued the origin-pull certificate in ssl_client_certificate (nginx) or SSLCACertificateFile (Apache), or upload an origin-pull certificate issued by the CA the origin trusts.',
    action: 'origin-config',
  };
}

function originCertValid(ctx: Ctx, attempts: (AttemptResult | undefined)[]): CheckResult {
  const id = 'origin-cert-valid';
  const withTls = attempts.find(a => a?.tls && a.tls.chain.length);
  const any = attempts.find(a => a && a.handshake.serverCertificates.length) ?? attempts.find(a => a);
  const a = withTls ?? any!;
  const o = outcomeOf(a);
  if (!withTls && !a.handshake.serverCertificates.length) {
    const down = unreachable(id, ctx, a, o);
    if (down) return down;
    const alert = o.kind === 'tls-refused' ? o.error.alert : undefined;
    return result(id, 'fail', `No certificate could be read from the origin: ${describeOutcome(o)}.`, a.ms, alert === 'protocol_version'
      ? { explanation: 'The origin speaks only TLS versions older than 1.2, which Cloudflare and browsers refuse.', fix: 'Enable TLS 1.2 and 1.3 on the origin (ssl_protocols / SSLProtocol).', action: 'origin-config' }
      : { explanation: 'The origin did not complete a TLS handshake, so Cloudflare cannot connect either (525).', fix: 'Check the origin\'s TLS configuration and error log.', action: 'origin-config' });
  }
  const chain = withTls ? withTls.tls!.chain : a.handshake.serverCertificates;
  const leaf = new crypto.X509Certificate(chain[0]);
  const problems: string[] = [];
  const warnings: string[] = [];
  const facts: string[] = [];
  // Chain: Node's verdict against the trusted CAs, or (handshake refused before Node could decide) our own walk.
  let trusted: boolean;
  let chainError: string | undefined;
  if (withTls && (withTls.tls!.chainTrusted || !ctx.o.originCa)) {
    // Node's verdict against the system roots.
    trusted = withTls.tls!.chainTrusted;
    chainError = withTls.tls!.chainError;
  } else {
    // The named CA (e.g. the Cloudflare Origin CA) adds to the system roots, as for Full (Strict).
    ({ trusted, error: chainError } = verifyChain(chain, ctx.o.originCa, !withTls));
  }
  const issuer = leaf.issuer.split('\n').reverse().join(',');
  // An incomplete chain: the last certificate sent is not a root (not self-issued), nothing trusted signed
  // it, and its issuer is an intermediate: the person named the root they trust (mtls.trustedOriginCa), or
  // the certificate points at its issuer's certificate (AIA caIssuers, as public CAs' certificates do).
  // The Cloudflare Origin CA signs origin certificates directly with its roots: that is a CA to name, not a gap.
  const top = new crypto.X509Certificate(chain[chain.length - 1]);
  const missing = top.issuer.split('\n').reverse().join(',');
  const incomplete = !trusted && top.issuer !== top.subject
    && /UNABLE_TO_(GET_ISSUER_CERT|VERIFY_LEAF_SIGNATURE)/.test(chainError ?? 'UNABLE_TO_GET_ISSUER_CERT')
    && !/CloudFlare Origin/i.test(missing)
    && (!!ctx.o.originCa || /CA Issuers/i.test(top.infoAccess ?? ''));
  if (trusted) facts.push(`chain trusted (issuer "${issuer}")`);
  else if (incomplete) problems.push(`the chain is incomplete: the origin sends ${chain.length === 1 ? 'only its own certificate' : `${chain.length} certificates`}, without the intermediate "${missing}" that links it to a trusted root`);
  else problems.push(`the chain is not trusted (${chainError ?? 'unknown issuer'}; issuer "${issuer}")${ctx.o.originCa ? '' : ': not a public CA, and no trusted origin CA is configured'}`);
  const nameErr = tls.checkServerIdentity(ctx.o.hostname, { subject: subjectObject(leaf), subjectaltname: leaf.subjectAltName ?? '' } as unknown as tls.PeerCertificate);
  if (nameErr) problems.push(`the name does not match ${ctx.o.hostname} (${leaf.subjectAltName ?? 'no SAN'})`);
  else facts.push(`name matches ${ctx.o.hostname}`);
  const notAfter = new Date(leaf.validTo);
  const notBefore = new Date(leaf.validFrom);
  const daysLeft = Math.floor((notAfter.getTime() - Date.now()) / 86400_000);
  if (notAfter.getTime() < Date.now()) problems.push(`expired on ${notAfter.toISOString().slice(0, 10)}`);
  else if (notBefore.getTime() > Date.now()) problems.push(`not valid before ${notBefore.toISOString().slice(0, 10)}`);
  else if (daysLeft < 14) warnings.push(`expires in ${daysLeft} days`);
  else facts.push(`${daysLeft} days left`);
  const key = leaf.publicKey;
  const keyType = key.asymmetricKeyType;
  const bits = keyType === 'rsa' ? key.asymmetricKeyDetails?.modulusLength : keyType === 'ec' ? curveBits(key.asymmetricKeyDetails?.namedCurve) : undefined;
  if (keyType === 'rsa' && (bits ?? 0) < 2048) problems.push(`RSA key of ${bits} bits (needs 2048 or more)`);
  else facts.push(`${keyType?.toUpperCase()}${bits ? ' ' + bits : ''} key`);
  const protocol = withTls?.tls?.protocol ?? a.handshake.version;
  if (protocol) facts.push(protocol);
  const data = { issuer, subjectAltName: leaf.subjectAltName, notAfter: notAfter.toISOString(), daysLeft, protocol, keyType, keyBits: bits, chainTrusted: trusted };
  if (problems.length) {
    const untrustedOnly = problems.length === 1 && !trusted;
    if (untrustedOnly && incomplete) {
      return result(id, 'fail', `The origin certificate fails Full (Strict): ${problems.join('; ')}.${facts.length ? ' OK: ' + facts.join(', ') + '.' : ''}`, a.ms, {
        explanation: `Incomplete chain: Cloudflare verifies the chain the origin sends, and without the intermediate "${missing}" it cannot reach a trusted root, so with Full (Strict) visitors get 526 Invalid SSL certificate (browsers that cache intermediates may not notice).`,
        fix: 'Serve the intermediate (full chain): nginx `ssl_certificate` with the certificate followed by its intermediate(s) (fullchain.pem); Apache `SSLCertificateFile` with the chain appended (or `SSLCertificateChainFile`).',
        action: 'origin-config',
      }, { ...data, incompleteChain: true, missingIssuer: missing });
    }
    return result(id, 'fail', `The origin certificate fails Full (Strict): ${problems.join('; ')}.${facts.length ? ' OK: ' + facts.join(', ') + '.' : ''}`, a.ms, {
      explanation: 'With SSL mode Full (Strict) Cloudflare refuses this origin certificate: visitors get 526 Invalid SSL certificate.',
      ...(untrustedOnly ? { setting: 'mtls.trustedOriginCa' } : {}),
      fix: untrustedOnly
        ? 'Install a certificate from a public CA or the Cloudflare Origin CA; if it is one (Cloudflare Origin CA is not in the system roots), name that CA in mtls.trustedOriginCa (--origin-ca).'
        : `Install a certificate for ${ctx.o.hostname} from a public CA or the Cloudflare Origin CA, valid now, with an RSA 2048+ or EC key.`,
      action: untrustedOnly ? 'settings' : 'origin-config',
    }, data);
  }
  if (warnings.length) {
    return result(id, 'warn', `The origin certificate is valid, but ${warnings.join('; ')}. ${facts.join(', ')}.`, a.ms, { explanation: 'Cloudflare will answer 526 once it expires.', fix: 'Renew the origin certificate.', action: 'origin-config' }, data);
  }
  return result(id, 'pass', `The origin certificate is valid for Full (Strict): ${facts.join(', ')}.`, a.ms, undefined, data);
}

function curveBits(curve?: string): number | undefined {
  const m = /(\d{3})/.exec(curve ?? '');
  return m ? Number(m[1]) : undefined;
}

function subjectObject(cert: crypto.X509Certificate): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of cert.subject.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

let rootAnchors: crypto.X509Certificate[] | undefined;

/**
 * Chain check by hand: leaf up through the sent chain to an anchor from `extraCa` (PEM) or, with
 * `withRoots`, the system roots. Used where Node's own verdict is missing or did not include the named CA
 * (passing 150 roots plus a CA as `ca` to every connection would cost more than the probes themselves).
 */
const anchorCache = new Map<string, crypto.X509Certificate[]>();

export function verifyChain(chain: Buffer[], extraCa?: string, withRoots = true): { trusted: boolean; error?: string } {
  let named = extraCa ? anchorCache.get(extraCa) : [];
  if (!named) {
    named = pemToDers(extraCa!).map(d => new crypto.X509Certificate(d));
    if (anchorCache.size > 16) anchorCache.clear();
    anchorCache.set(extraCa!, named);
  }
  const anchors = [...named];
  if (withRoots) anchors.push(...(rootAnchors ??= tls.rootCertificates.flatMap(pemToDers).map(d => new crypto.X509Certificate(d))));
  const certs = chain.map(d => new crypto.X509Certificate(d));
  const now = Date.now();
  let current = certs[0];
  for (let depth = 0; depth < 10; depth++) {
    const anchor = anchors.find(c => current.checkIssued(c) && current.verify(c.publicKey));
    if (anchor) {
      const expired = [...certs.slice(0, depth + 1), anchor].find(c => new Date(c.validTo).getTime() < now);
      return expired ? { trusted: false, error: 'CERT_HAS_EXPIRED' } : { trusted: true };
    }
    const next = certs.find(c => c !== current && current.checkIssued(c) && current.verify(c.publicKey));
    if (!next) return { trusted: false, error: current.checkIssued(current) ? 'DEPTH_ZERO_SELF_SIGNED_CERT' : 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' };
    current = next;
  }
  return { trusted: false, error: 'CERT_CHAIN_TOO_LONG' };
}

interface ExpectedCas {
  /** DNs the origin may name: the configured CA(s), or every CA above the pull certificate. */
  names: string[];
  source: string;
  /** For the pull certificate's chain: which of `names` is its direct issuer (the rest are ancestors). */
  directIssuer?: string;
}

/**
 * The CAs an origin may name in its CertificateRequest for the pull certificate to be accepted: the
 * configured expected CA, else any ancestor of the pull certificate (its issuer, and for a certificate
 * issued by an intermediate that it sends along, the intermediate's issuers up to the root), else
 * Cloudflare's shared origin-pull CA.
 */
function expectedPullCas(o: ProbeOptions): ExpectedCas {
  if (o.expectedPullCa) {
    const ders = pemToDers(o.expectedPullCa);
    if (!ders.length) throw new MtlsError('bad-pem', 'The expected origin-pull CA holds no PEM certificate.');
    return { names: ders.map(d => certFields(d).subject), source: 'the configured origin-pull CA' };
  }
  const chain = o.pull ? credentialChain(o.pull).map(certFields) : [];
  if (chain.length) {
    const names = [chain[0].issuer];
    for (const c of chain.slice(1)) names.push(c.subject, c.issuer);
    return { names: [...new Set(names)], source: 'the issuer of the origin-pull certificate', directIssuer: chain[0].issuer };
  }
  return { names: [CLOUDFLARE_ORIGIN_PULL_CA_DN], source: 'Cloudflare\'s shared origin-pull CA (global AOP)' };
}

/** The requested CA names that vouch for the pull certificate (its issuer or an ancestor). */
function trustedAncestors(requested: Buffer[] | undefined, expected: ExpectedCas): string[] {
  const want = new Set(expected.names.map(normalizeDn));
  return (requested ?? []).map(nameToString).filter(n => want.has(normalizeDn(n)));
}

function originRequestedCas(ctx: Ctx, a12: AttemptResult, fallback: AttemptResult): CheckResult {
  const id = 'origin-requested-cas';
  const a = a12.handshake.readable ? a12 : fallback;
  const hs = a.handshake;
  const o = outcomeOf(a);
  if (!hs.readable) {
    const down = unreachable(id, ctx, a, o);
    if (down) return down;
    return result(id, 'warn', `Could not read the origin's handshake (${describeOutcome(o)}).`, a.ms);
  }
  const listed = hs.certificateAuthorities.map(nameToString);
  const expected = expectedPullCas(ctx.o);
  const data = { tlsVersion: hs.version, requestedCas: listed, expected: expected.names };
  if (!hs.certificateRequested) {
    return result(id, 'fail', `The origin sent no CertificateRequest (${hs.version}): it never asks for a client certificate.`, a.ms, {
      explanation: 'The origin does not ask for Cloudflare\'s certificate, so Authenticated Origin Pulls protect nothing.',
      fix: ORIGIN_CONFIG_FIX,
      action: 'origin-config',
    }, data);
  }
  if (!listed.length) {
    return result(id, 'warn', `The origin asks for a client certificate (${hs.version}) but names no CA; expected ${expected.source} "${expected.names[0]}".`, a.ms, {
      explanation: 'Without CA names in the request the origin probably does not verify the issuer (ssl_verify_client optional_no_ca, or only ssl_trusted_certificate).',
      fix: 'Name the origin-pull CA in ssl_client_certificate (nginx) or SSLCACertificateFile (Apache).',
      action: 'origin-config',
    }, data);
  }
  const hit = trustedAncestors(hs.certificateAuthorities, expected)[0];
  if (hit) {
    const how = expected.directIssuer && normalizeDn(hit) !== normalizeDn(expected.directIssuer)
      ? `an ancestor of the origin-pull certificate (issued by "${expected.directIssuer}", which chains up to it)`
      : expected.source;
    return result(id, 'pass', `The origin asks for a certificate from "${hit}" (${hs.version}), ${how}.${listed.length > 1 ? ` It also names ${listed.filter(n => n !== hit).map(n => `"${n}"`).join(', ')}.` : ''}`, a.ms, undefined, data);
  }
  return result(id, 'fail', `The origin names ${listed.map(n => `"${n}"`).join(', ')}, not ${expected.source} "${expected.names[0]}".`, a.ms, {
    explanation: 'AOP CA mismatch: the origin trusts a different CA than the one that issued the certificate Cloudflare presents, so Cloudflare\'s handshake fails (525) or the origin answers 400.',
    fix: `Put the CA "${expected.names[0]}" in ssl_client_certificate (nginx) or SSLCACertificateFile (Apache), or upload an origin-pull certificate issued by the CA the origin trusts.`,
    action: 'origin-config',
  }, data);
}

// ---------------------------------------------------------------- runner

let foreign: Promise<Credential> | undefined;

/** One credential object per process, so its secure context is built once too. */
function foreignCredential(): Promise<Credential> {
  foreign ??= foreignClientCert().then(
    (f): Credential => ({ kind: 'pem', certPem: f.certPem, keyPem: f.keyPem, source: 'throw-away foreign certificate' }),
    err => { foreign = undefined; throw err; },
  );
  return foreign;
}

function wanted(o: ProbeOptions, ids: CheckId[]): boolean {
  return !o.only || ids.some(id => o.only!.includes(id));
}

async function runLeg1(o: ProbeOptions, timeoutMs: number): Promise<LegReport> {
  const t0 = performance.now();
  const target: Target = parseAddress(o.edgeAddress || o.hostname);
  const ctx: Ctx = { o, leg: 'leg1', target: formatTarget(target), timeoutMs };
  const base = { target, hostname: o.hostname, path: o.path, ca: o.edgeCa, timeoutMs };
  const emit = (r: CheckResult) => { o.onCheck?.('leg1', r); return r; };
  const none = wanted(o, ['edge-requests-client-cert', 'edge-blocks-without-cert']) ? attempt(base) : undefined;
  const client = o.client && wanted(o, ['edge-allows-with-cert']) ? attempt({ ...base, credential: o.client }) : undefined;
  const foreign = wanted(o, ['edge-rejects-foreign-cert']) ? foreignCredential().then(credential => attempt({ ...base, credential })) : undefined;
  const checks = await Promise.all([
    none?.then(a => emit(edgeRequestsClientCert(ctx, a))),
    none?.then(a => emit(edgeBlocksWithoutCert(ctx, a))),
    o.client ? client?.then(a => emit(edgeAllowsWithCert(ctx, a)))
      : wanted(o, ['edge-allows-with-cert']) ? Promise.resolve(emit(edgeAllowsWithCert(ctx, undefined))) : undefined,
    foreign?.then(a => emit(edgeRejectsForeignCert(ctx, a))),
  ]);
  return leg('leg1', ctx, o, checks, t0);
}

async function runLeg2(o: ProbeOptions, timeoutMs: number): Promise<LegReport> {
  const t0 = performance.now();
  const target: Target = parseAddress(o.originAddress || o.hostname);
  const ctx: Ctx = { o, leg: 'leg2', target: formatTarget(target), timeoutMs };
  // Node checks the chain against the system roots; origin-cert-valid adds the named CA (Full (Strict)
  // trusts public CAs and the Cloudflare Origin CA) with verifyChain.
  const base = { target, hostname: o.hostname, path: o.path, timeoutMs };
  const emit = (r: CheckResult) => { o.onCheck?.('leg2', r); return r; };
  // Only the connections the selected checks need: `none` feeds origin-requires-client-cert (and
  // origin-cert-valid without a pull certificate), `tls12` origin-requested-cas; each runs once.
  const lazy = (make: () => Promise<AttemptResult>) => { let p: Promise<AttemptResult> | undefined; return () => (p ??= make()); };
  const none = lazy(() => attempt(base));
  const tls12 = lazy(() => attempt({ ...base, maxVersion: 'TLSv1.2', http: false }));
  if (wanted(o, ['origin-requires-client-cert']) || (!o.pull && wanted(o, ['origin-cert-valid']))) void none();
  if (wanted(o, ['origin-requested-cas'])) void tls12();
  const foreign = wanted(o, ['origin-rejects-foreign-cert']) ? foreignCredential().then(credential => attempt({ ...base, credential })) : undefined;
  const pull = o.pull && wanted(o, ['origin-accepts-pull-cert', 'origin-cert-valid']) ? attempt({ ...base, credential: o.pull }) : undefined;
  const checks = await Promise.all([
    wanted(o, ['origin-requires-client-cert']) ? none().then(a => emit(originRequiresClientCert(ctx, a))) : undefined,
    foreign?.then(a => emit(originRejectsForeignCert(ctx, a))),
    o.pull
      ? (pull && wanted(o, ['origin-accepts-pull-cert']) ? pull.then(a => emit(originAcceptsPullCert(ctx, a, a.handshake.readable ? a.handshake.certificateAuthorities : undefined))) : undefined)
      : wanted(o, ['origin-accepts-pull-cert']) ? Promise.resolve(emit(originAcceptsPullCert(ctx, undefined, undefined))) : undefined,
    wanted(o, ['origin-cert-valid']) ? (pull ?? none()).then(async a => emit(originCertValid(ctx, a.tls || a.handshake.serverCertificates.length ? [a] : [a, await none()]))) : undefined,
    // TLS 1.2 shows the CertificateRequest in the clear; an origin that refuses 1.2 is read from the (decrypted) 1.3 probe.
    wanted(o, ['origin-requested-cas']) ? tls12().then(async b => emit(originRequestedCas(ctx, b, b.handshake.readable ? b : await none()))) : undefined,
  ]);
  return leg('leg2', ctx, o, checks, t0);
}

function leg(id: LegId, ctx: Ctx, o: ProbeOptions, checks: (CheckResult | undefined)[], t0: number): LegReport {
  const list = checks.filter((c): c is CheckResult => !!c).filter(c => !o.only || o.only.includes(c.id));
  return {
    leg: id, title: LEG_TITLES[id], target: ctx.target, hostname: o.hostname,
    ok: list.every(c => c.status !== 'fail'),
    ms: Math.round(performance.now() - t0),
    checks: list,
  };
}

/** Runs the probes of the selected legs, all in parallel; never throws for network failures (they are check results). */
export async function runProbes(options: ProbeOptions): Promise<ProbeReport> {
  if (!options.hostname) throw new MtlsError('bad-option', 'No hostname to probe.', 'Set mtls.hostname or pass --host.');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const t0 = performance.now();
  const legs = await Promise.all([
    options.legs !== 'leg2' ? runLeg1(options, timeoutMs) : undefined,
    options.legs !== 'leg1' ? runLeg2(options, timeoutMs) : undefined,
  ]);
  const list = legs.filter((l): l is LegReport => !!l);
  return { ok: list.every(l => l.ok), ms: Math.round(performance.now() - t0), legs: list };
}
