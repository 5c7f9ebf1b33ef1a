// Cloudflare errors in plain words: the code and message Cloudflare sent, and what they mean here.
import { MtlsError } from '../errors';
import { STEP_PERMISSIONS } from './meta';
import { CloudflarePermission, ExplainedError, StepId } from './types';

/** Node's codes for "the network did not get us to the API". */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'CERT_HAS_EXPIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT']);

interface ApiErrorLike {
  status?: number;
  errors?: { code?: number; message?: string }[];
  message?: string;
  name?: string;
  constructor?: { name?: string };
}

/** Meaning of the Cloudflare error codes the setup runs into. */
export const KNOWN_CODES: Record<number, string> = {
  1489: 'The account already holds the most CAs it may (5) in its mTLS certificate store. Delete a CA no hostname uses ' +
    '(Manage Account > mTLS certificates, or DELETE /accounts/{account_id}/mtls_certificates/{id}), or use the Cloudflare-managed CA instead. ' +
    'Bringing your own CA also needs an Enterprise plan.',
  1412: 'Per-hostname Authenticated Origin Pulls accept only a leaf certificate (basicConstraints CA:FALSE), not a CA. ' +
    'Issue a leaf certificate with the origin-pull profile from the workspace CA and upload that one.',
  10000: 'Authentication error: the token was accepted, but it is not allowed to make this call. Edit the token ' +
    '(My Profile > API Tokens) and add the permission named below for this zone (and account, for the mTLS certificate store).',
  9109: 'Invalid access token, or no access to this account or zone: the token is wrong, expired or revoked, or it does not cover ' +
    'the account or zone being changed. Check CLOUDFLARE_API_TOKEN (or the stored token) and the token\'s zone and account resources.',
  1000: 'Invalid API token: Cloudflare does not know this token. Create one under My Profile > API Tokens.',
  10003: 'Not found: the ruleset or rule does not exist (any more). Read the status again.',
  1418: 'Cloudflare refused the CA: it must have basicConstraints CA:TRUE and an RSA or ECDSA signature with SHA-1/256/384/512.',
  1413: 'The zone already has the most per-hostname origin-pull certificates it may (10). Delete one that no hostname uses.',
  7003: 'Cloudflare could not route the request: the zone or object id in the path is not valid for this token, or the API is not ' +
    'available on this zone. Check the zone name and that the token covers this zone.',
  20217: 'The zone already has the most rulesets it may in this phase. Add the rule to the existing custom-rules entrypoint instead ' +
    '(read the status again: the guide then edits the entrypoint).',
};

/** Advice for refusals that Cloudflare words rather than numbers: plan gating and quotas. */
function adviceFromMessage(message: string, step?: StepId): string | undefined {
  if (/not entitled|entitlement|upgrade your plan|not available (on|for) (your|this) plan|requires? an? (enterprise|business|pro) plan/i.test(message)) {
    return step === 'upload-ca'
      ? 'This zone\'s plan does not include bringing your own CA (Enterprise only). Use the Cloudflare-managed CA instead (--managed, or "Cloudflare-managed CA" in the guide).'
      : 'This zone\'s plan does not include this feature. Check the plan under Overview > Plan, or choose an option the plan includes.';
  }
  if (/exceed|quota|maximum number of rules|limit of \d+ rules/i.test(message) && (step === 'waf-rule' || /rule/i.test(message))) {
    return 'The zone has used up its custom-rule quota (Free 5, Pro 20, Business 100, Enterprise 1000 rules). Delete or merge a custom ' +
      'rule you no longer need (Security > WAF > Custom rules), then apply again; the mTLS rule is one rule however many hostnames it covers.';
  }
  return undefined;
}

/** Whether an error means the API was not reached or did not answer (as opposed to a refusal). */
export function isNetworkError(err: unknown): boolean {
  const e = (err ?? {}) as ApiErrorLike & { cause?: { code?: string }; code?: string };
  const kind = e.constructor?.name ?? e.name ?? '';
  if (kind === 'APIConnectionTimeoutError' || kind === 'APIConnectionError') return true;
  const code = e.code ?? e.cause?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

/** Whether an error is a timeout (the SDK's, or a socket's). */
export function isTimeoutError(err: unknown): boolean {
  const e = (err ?? {}) as ApiErrorLike & { cause?: { code?: string }; code?: string };
  const kind = e.constructor?.name ?? e.name ?? '';
  return kind === 'APIConnectionTimeoutError' || e.code === 'ETIMEDOUT' || e.cause?.code === 'ETIMEDOUT' || e.cause?.code === 'UND_ERR_CONNECT_TIMEOUT';
}

/**
 * Turns anything thrown by the SDK (an APIError subclass with `.status` and `.errors`), by the network or
 * by local checks into code + message + meaning. The token never appears: callers pass it to redact it
 * from messages that echo a request.
 */
export function explainCloudflareError(err: unknown, step?: StepId, permission?: CloudflarePermission, token?: string): ExplainedError {
  const out = explain(err, step, permission);
  if (token && token.length >= 8) {
    out.message = out.message.split(token).join('$CLOUDFLARE_API_TOKEN');
    out.meaning = out.meaning.split(token).join('$CLOUDFLARE_API_TOKEN');
  }
  return out;
}

function explain(err: unknown, step?: StepId, permission?: CloudflarePermission): ExplainedError {
  const perm = permission ?? (step ? STEP_PERMISSIONS[step][0] : undefined);
  const needs = perm ? ` Needed: "${perm}".` : '';
  if (err instanceof MtlsError) {
    const code = /^cf-(\d+)$/.exec(err.code)?.[1];
    return {
      kind: err.code === 'cloudflare-timeout' ? 'timeout' : err.code === 'cloudflare-unknown-outcome' ? 'unknown-outcome' : code ? 'api' : 'local',
      code: code ? Number(code) : undefined,
      message: err.message,
      meaning: err.hint ?? (code ? KNOWN_CODES[Number(code)] ?? err.message : err.message),
    };
  }
  const e = (err ?? {}) as ApiErrorLike;
  if (isTimeoutError(err)) {
    return {
      kind: 'timeout', message: 'Cannot reach the Cloudflare API: the request timed out.',
      meaning: 'Cloudflare did not answer in time (see --timeout / mtls.cloudflare.timeoutMs). Nothing more was sent. Check the network or proxy and try again.',
    };
  }
  if (isNetworkError(err)) {
    const cause = (err as { cause?: { message?: string; code?: string }; code?: string });
    const detail = cause.cause?.code ?? cause.code ?? cause.cause?.message;
    return {
      kind: 'network',
      message: `Cannot reach the Cloudflare API${detail ? ` (${detail})` : ''}.`,
      meaning: 'This is a network problem, not a token problem: check the network, a proxy, or the API base URL (setting mtls.cloudflare.apiBaseUrl or CLOUDFLARE_BASE_URL).',
    };
  }
  const status = typeof e.status === 'number' ? e.status : undefined;
  const first = e.errors?.find(x => typeof x?.code === 'number') ?? e.errors?.[0];
  const code = typeof first?.code === 'number' ? first.code : undefined;
  const message = first?.message ?? stripStatus(e.message) ?? String(err);

  if (status === 401 || code === 1000) {
    return { kind: 'auth', code, status, message, meaning: 'The token was not accepted: it is wrong, expired or revoked. Set a new token (mTLS: Set Cloudflare API Token, or CLOUDFLARE_API_TOKEN).' };
  }
  if (code !== undefined && KNOWN_CODES[code]) {
    const isPermission = code === 10000 || code === 9109;
    return {
      kind: isPermission ? 'permission' : 'api', code, status, message,
      meaning: KNOWN_CODES[code] + (isPermission ? needs : ''),
      permission: isPermission ? perm : undefined,
    };
  }
  const advice = adviceFromMessage(message, step);
  if (advice) return { kind: 'api', code, status, message, meaning: advice };
  if (status === 403) {
    return { kind: 'permission', code, status, message, permission: perm, meaning: `Permission denied: the token lacks the permission for this call.${needs} Edit the token under My Profile > API Tokens.` };
  }
  if (status === 404) {
    return { kind: 'api', code, status, message, meaning: 'Not found: the zone, account or object does not exist, or the token cannot see it.' };
  }
  if (status === 429) {
    return { kind: 'api', code, status, message, meaning: 'Rate limited by Cloudflare: wait a minute and apply again; steps already done stay done.' };
  }
  if (status !== undefined && status >= 500) {
    return { kind: 'api', code, status, message, meaning: 'Cloudflare had an internal error. Apply again later; every step reads first, so a repeat does not duplicate anything.' };
  }
  if (status !== undefined) {
    return { kind: 'api', code, status, message, meaning: `Cloudflare refused the request (HTTP ${status}${code !== undefined ? `, code ${code}` : ''}): ${message}` };
  }
  return { code, message, meaning: 'An unexpected error; see the message.' };
}

/** The SDK prefixes messages with the status ("403 {...}"): keep only the words. */
function stripStatus(m: string | undefined): string | undefined {
  if (!m) return undefined;
  return m.replace(/^\d{3}\s+/, '');
}

/** Whether an error means "no permission" (so the step lists missing permissions). */
export function isPermissionError(err: unknown): boolean {
  const e = (err ?? {}) as ApiErrorLike;
  const codes = (e.errors ?? []).map(x => x?.code);
  return e.status === 403 || codes.includes(10000) || codes.includes(9109);
}

export function isNotFound(err: unknown): boolean {
  return (err as ApiErrorLike)?.status === 404;
}
