// The WAF custom rule that enforces the client certificate (leg 1). Pure: same input, same string, so a
// second run can compare it with what Cloudflare holds and leave an identical rule alone.
import { MtlsError } from '../errors';

export interface WafExpressionOptions {
  hostnames: string[];
  /** Issuer SKI (hex, any case, colons allowed) to pin: certificates from another issuer are blocked. */
  issuerSki?: string;
  /** SHA-256 fingerprints (hex, any case, colons allowed) of revoked client certificates to block. */
  revokedFingerprints?: string[];
  /**
   * The Cloudflare-managed CA: Cloudflare knows its revocations, so the first clause also blocks
   * `cf.tls_client_auth.cert_revoked` (which is always false for an uploaded CA).
   */
  nativeRevocation?: boolean;
}

/** Cloudflare's limit on a rule expression's length. */
export const MAX_EXPRESSION_LENGTH = 4096;

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Lowercase, trimmed, without a trailing dot; throws for anything that is not a plain hostname. */
export function normalizeHostname(h: string): string {
  const n = h.trim().toLowerCase().replace(/\.$/, '');
  if (n.includes('*')) {
    throw new MtlsError('usage', `"${h}" is a wildcard; the WAF rule matches exact hostnames (http.host).`, 'List each hostname instead.');
  }
  if (!HOSTNAME.test(n)) throw new MtlsError('usage', `"${h}" is not a valid hostname.`);
  return n;
}

/** Sorted, de-duplicated, normalized hostnames. */
export function normalizeHostnames(hostnames: string[]): string[] {
  return [...new Set(hostnames.map(normalizeHostname))].sort();
}

/** A SHA-256 fingerprint as Cloudflare shows cert_fingerprint_sha256: 64 lowercase hex digits. */
export function normalizeFingerprint(fp: string): string {
  const n = fp.replace(/[\s:]/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(n)) throw new MtlsError('usage', `"${fp}" is not a SHA-256 fingerprint (64 hex digits).`);
  return n;
}

/** A Subject Key Identifier as Cloudflare shows cert_issuer_ski: uppercase hex. */
export function normalizeSki(ski: string): string {
  const n = ski.replace(/[\s:]/g, '').toUpperCase();
  if (!/^([0-9A-F]{2})+$/.test(n)) throw new MtlsError('usage', `"${ski}" is not a hex Subject Key Identifier.`);
  return n;
}

const set = (values: string[]) => `{${values.map(v => `"${v}"`).join(' ')}}`;

/**
 * `(http.host in {"h1" "h2"} and not cf.tls_client_auth.cert_verified)` (with nativeRevocation:
 * `(... and (not cf.tls_client_auth.cert_verified or cf.tls_client_auth.cert_revoked))`), plus, when asked,
 * `or (http.host in {...} and cf.tls_client_auth.cert_issuer_ski ne "<SKI>")` and
 * `or (http.host in {...} and cf.tls_client_auth.cert_fingerprint_sha256 in {"<fp>" ...})`.
 * The rule's action is block: any clause that matches blocks the request.
 */
export function buildWafExpression(opts: WafExpressionOptions): string {
  const hosts = normalizeHostnames(opts.hostnames);
  if (!hosts.length) throw new MtlsError('usage', 'At least one hostname is needed for the WAF rule.');
  const hostSet = `http.host in ${set(hosts)}`;
  const clauses = [opts.nativeRevocation
    ? `(${hostSet} and (not cf.tls_client_auth.cert_verified or cf.tls_client_auth.cert_revoked))`
    : `(${hostSet} and not cf.tls_client_auth.cert_verified)`];
  if (opts.issuerSki) clauses.push(`(${hostSet} and cf.tls_client_auth.cert_issuer_ski ne "${normalizeSki(opts.issuerSki)}")`);
  const revoked = [...new Set((opts.revokedFingerprints ?? []).map(normalizeFingerprint))].sort();
  if (revoked.length) clauses.push(`(${hostSet} and cf.tls_client_auth.cert_fingerprint_sha256 in ${set(revoked)})`);
  const expression = clauses.join(' or ');
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw new MtlsError('expression-too-long', `The WAF rule expression would be ${expression.length} characters; Cloudflare allows ${MAX_EXPRESSION_LENGTH}.`,
      'Block fewer revoked certificates in the rule (renew the CA instead), or associate fewer hostnames per rule.');
  }
  return expression;
}

/** Whitespace-insensitive comparison form of an expression. */
export function normalizeExpression(e: string): string {
  return e.replace(/\s+/g, ' ').replace(/\(\s+/g, '(').replace(/\s+\)/g, ')').trim();
}
