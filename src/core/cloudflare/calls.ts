// One API call in the three forms a user may want: method + path + body, the SDK spelling, and curl.
import { PlannedCall } from './types';

/** A name in SDK text (e.g. `caPem`) instead of a long literal. */
export class Ident {
  constructor(readonly name: string) {}
}

/** JavaScript literal text for SDK examples: `{ zone_id: '...', enabled: true }`. */
export function lit(v: unknown): string {
  if (v instanceof Ident) return v.name;
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(lit).join(', ')}]`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (!entries.length) return '{}';
  return `{ ${entries.map(([k, x]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : `'${k}'`}: ${lit(x)}`).join(', ')} }`;
}

/** Single-quoted for a POSIX shell. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export const REDACTED_KEY = '<private key PEM: not shown>';

/** Replaces private keys in a body shown to the user. */
export function redactBody(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(redactBody);
  if (!body || typeof body !== 'object') return body;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) out[k] = k === 'private_key' ? REDACTED_KEY : redactBody(v);
  return out;
}

export function curlFor(method: string, url: string, body?: unknown): string {
  const lines = [`curl -sS -X ${method} ${shellQuote(url)}`, `  -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN"`];
  const b = body as Record<string, unknown> | undefined;
  if (b && typeof b === 'object' && b.private_key !== undefined && typeof b.certificate === 'string') {
    // Never put a key on a command line: build the body from the files with jq.
    lines.push(`  -H 'Content-Type: application/json'`);
    lines.push(`  --data "$(jq -n --rawfile certificate "$PULL_CERT_FILE" --rawfile private_key "$PULL_KEY_FILE" '{certificate: $certificate, private_key: $private_key}')"`);
  } else if (body !== undefined) {
    lines.push(`  -H 'Content-Type: application/json'`);
    lines.push(`  --data ${shellQuote(JSON.stringify(body))}`);
  }
  return lines.join(' \\\n');
}

export interface CallSpec {
  method: PlannedCall['method'];
  /** Path below the API base, query included. */
  path: string;
  /** The body actually sent (private keys included). */
  body?: unknown;
  /** SDK method path, e.g. `mtlsCertificates.create`. */
  sdkMethod: string;
  /** SDK arguments in order; Ident for PEM variables. */
  sdkArgs: unknown[];
  description: string;
}

export function plannedCall(spec: CallSpec, baseURL: string): PlannedCall {
  const shown = spec.body === undefined ? undefined : redactBody(spec.body);
  return {
    method: spec.method,
    path: spec.path,
    body: shown,
    sdk: `await client.${spec.sdkMethod}(${spec.sdkArgs.map(lit).join(', ')})`,
    curl: curlFor(spec.method, baseURL.replace(/\/+$/, '') + spec.path, shown),
    description: spec.description,
  };
}

export function pathSeg(s: string): string {
  return encodeURIComponent(s);
}
