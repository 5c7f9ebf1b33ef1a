// Cloudflare errors in plain words: the code and message Cloudflare sent, and what they mean here.
import { MtlsError } from '../errors';
import { STEP_PERMISSIONS } from './meta';
import { CloudflarePermission, ExplainedError, StepId } from './types';

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
};

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
      code: code ? Number(code) : undefined,
      message: err.message,
      meaning: err.hint ?? (code ? KNOWN_CODES[Number(code)] ?? err.message : err.message),
    };
  }
  const e = (err ?? {}) as ApiErrorLike;
  const kind = e.constructor?.name ?? e.name ?? '';
  if (kind === 'APIConnectionTimeoutError') {
    return { message: 'The request to the Cloudflare API timed out.', meaning: 'Nothing more was sent. Check the network or proxy and try again.' };
  }
  if (kind === 'APIConnectionError') {
    const cause = (err as { cause?: { message?: string; code?: string } }).cause;
    return {
      message: `Could not reach the Cloudflare API${cause?.message ? `: ${cause.message}` : '.'}`,
      meaning: 'Check the network, a proxy, or the API base URL (setting mtls.cloudflare.apiBaseUrl or CLOUDFLARE_BASE_URL).',
    };
  }
  const status = typeof e.status === 'number' ? e.status : undefined;
  const first = e.errors?.find(x => typeof x?.code === 'number') ?? e.errors?.[0];
  const code = typeof first?.code === 'number' ? first.code : undefined;
  const message = first?.message ?? stripStatus(e.message) ?? String(err);

  if (code !== undefined && KNOWN_CODES[code]) {
    const isPermission = code === 10000 || code === 9109;
    return {
      code, status, message,
      meaning: KNOWN_CODES[code] + (isPermission ? needs : ''),
      permission: isPermission ? perm : undefined,
    };
  }
  if (status === 403) {
    return { code, status, message, permission: perm, meaning: `Permission denied: the token lacks the permission for this call.${needs} Edit the token under My Profile > API Tokens.` };
  }
  if (status === 401) {
    return { code, status, message, meaning: 'The token was not accepted: it is wrong, expired or revoked. Set a new token (mTLS: Set Cloudflare API Token, or CLOUDFLARE_API_TOKEN).' };
  }
  if (status === 404) {
    return { code, status, message, meaning: 'Not found: the zone, account or object does not exist, or the token cannot see it.' };
  }
  if (status === 429) {
    return { code, status, message, meaning: 'Rate limited by Cloudflare: wait a minute and apply again; steps already done stay done.' };
  }
  if (status !== undefined && status >= 500) {
    return { code, status, message, meaning: 'Cloudflare had an internal error. Apply again later; every step reads first, so a repeat does not duplicate anything.' };
  }
  if (status !== undefined) {
    return { code, status, message, meaning: `Cloudflare refused the request (HTTP ${status}${code !== undefined ? `, code ${code}` : ''}); see its message.` };
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
