// Types of the Test Leg probes. Free of `vscode`: the CLI, the extension and the guide share them.

import type { CheckId, FixAction, LegId } from './checks';

export type { CheckId, FixAction, LegId } from './checks';
export type LegSelection = LegId | 'both';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  id: CheckId;
  /** Short human title ("Edge asks for a client certificate"). */
  title: string;
  status: CheckStatus;
  /** What was observed, in one or two sentences. */
  detail: string;
  /** Wall time of this probe's connection(s), milliseconds. */
  ms: number;
  /** Why it failed, in the guide's terms (section 5, Troubleshooting). */
  explanation?: string;
  /** What to do about it. */
  fix?: string;
  /** Machine-readable hints for adapters: which action fixes it. */
  action?: FixAction;
  /** With action 'settings': the setting to change (e.g. mtls.originAddress). */
  setting?: string;
  /** Extra facts: status code, headers echoed by the origin, CA names... */
  data?: Record<string, unknown>;
}

export interface LegReport {
  leg: LegId;
  title: string;
  /** Where the probes connected (host:port) and the hostname sent as SNI and Host. */
  target: string;
  hostname: string;
  ok: boolean;
  ms: number;
  checks: CheckResult[];
}

export interface ProbeReport {
  ok: boolean;
  /** Wall time of the whole run (all probes in parallel). */
  ms: number;
  legs: LegReport[];
}

/** A client certificate in memory: PEM pair or PKCS#12. */
export type Credential =
  | { kind: 'pem'; certPem: string; keyPem: string; source?: string }
  | { kind: 'p12'; pfx: Buffer; passphrase?: string; source?: string };

export interface ProbeOptions {
  legs: LegSelection;
  /** The public hostname: SNI and Host header of every probe. */
  hostname: string;
  /** Where Leg 1 connects: ADDR[:PORT] (default hostname:443; the local edge's address when rehearsing). */
  edgeAddress?: string;
  /** Where Leg 2 connects: the origin's ADDR[:PORT], bypassing Cloudflare (default hostname:443). */
  originAddress?: string;
  /** The client certificate for Leg 1 (edge-allows-with-cert). */
  client?: Credential;
  /** The Authenticated Origin Pull certificate for Leg 2 (origin-accepts-pull-cert). */
  pull?: Credential;
  /** CA PEM(s) the origin certificate must chain to (e.g. the Cloudflare Origin CA); default the system roots. */
  originCa?: string;
  /** CA PEM(s) that should verify the edge's server certificate (a local edge's own); default the system roots. */
  edgeCa?: string;
  /** CA PEM(s) the origin should name in its CertificateRequest; default the pull certificate's issuer, else Cloudflare's origin-pull CA. */
  expectedPullCa?: string;
  /** Per-probe timeout, ms (default 8000). */
  timeoutMs?: number;
  /** Path requested on each probe (default "/"). */
  path?: string;
  /** Only these checks (default all of the selected legs). */
  only?: CheckId[];
  /** Called as each check finishes (adapters stream results into the Test Explorer). */
  onCheck?: (leg: LegId, result: CheckResult) => void;
}
