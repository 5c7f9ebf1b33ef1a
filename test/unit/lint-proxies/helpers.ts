// Shared helpers for the Caddy and HAProxy linter tests: the three clients every verdict is proven with.
import * as fs from 'fs';
import * as path from 'path';
import { curl, CurlOptions, RunningServer } from '../../support/servers';
import type { TestPki } from '../../support/openssl';

/** Who got an HTTP 200 with "origin ok": a client without a certificate, one from the right CA, one from another CA. */
export interface Admitted {
  anonymous: boolean;
  good: boolean;
  foreign: boolean;
}

export async function admitted(server: RunningServer, pki: TestPki, options: CurlOptions = {}): Promise<Admitted> {
  const base: CurlOptions = { cacert: pki.caCert, ...options };
  const ok = (r: { status: number; body: string }) => r.status === 200 && /origin ok/.test(r.body);
  const [anonymous, good, foreign] = await Promise.all([
    curl(server.port, base),
    curl(server.port, { ...base, cert: pki.clientCert, key: pki.clientKey }),
    curl(server.port, { ...base, cert: pki.otherClientCert, key: pki.otherClientKey }),
  ]);
  return { anonymous: ok(anonymous), good: ok(good), foreign: ok(foreign) };
}

export const CLOSED: Admitted = { anonymous: false, good: true, foreign: false };

/** Replaces the PKI tokens of a config text: CERT, KEY, BUNDLE (cert + key), CA, OTHERCA, LEAF (the client certificate). */
export function materialize(text: string, pki: TestPki, bundle: string): string {
  return text
    .replace(/\bOTHERCA\b/g, pki.otherCaCert).replace(/\bBUNDLE\b/g, bundle).replace(/\bLEAF\b/g, pki.clientCert)
    .replace(/\bCA\b/g, pki.caCert).replace(/\bCERT\b/g, pki.serverCert).replace(/\bKEY\b/g, pki.serverKey);
}

interface Snippet { prefix: string | string[]; body: string[] }

/** The body of the snippet with this prefix from snippets/<file>, placeholders at their defaults, `$0` removed. */
export function snippetBody(file: string, prefix: string): string {
  const root = path.resolve(__dirname, '../../../..');
  const all = JSON.parse(fs.readFileSync(path.join(root, 'snippets', file), 'utf8')) as Record<string, Snippet>;
  const s = Object.values(all).find(x => ([] as string[]).concat(x.prefix).includes(prefix));
  if (!s) throw new Error(`no snippet ${prefix} in ${file}`);
  let text = s.body.join('\n');
  for (let k = 0; k < 5; k++) text = text.replace(/\$\{\d+:([^{}]*)\}/g, '$1');
  return text.replace(/\$\{\d+\}|\$\d+/g, '').replace(/\\\$/g, '$');
}
