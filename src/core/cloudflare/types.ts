// Public types of the Cloudflare setup plan. Shared by the CLI, the extension's guide and tests.
// Keep these stable: the guide (webview + extension adapters) is built against them.
import type { CaMode, CloudflarePermission, StepId, StepStatus } from './steps';

export { STEP_IDS } from './steps';
export type { CaMode, CloudflarePermission, StepId, StepStatus } from './steps';

export type AopMode = 'global' | 'zone' | 'hostname';

/** One HTTP call against the Cloudflare API, in the three forms a user may want to see or run. */
export interface PlannedCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the API base, with the query string if any, e.g. `/zones/abc/settings/ssl`. */
  path: string;
  /** JSON body (absent for GET/DELETE). Private keys are replaced by a placeholder when shown. */
  body?: unknown;
  /** The call in the `cloudflare` SDK's spelling, e.g. `client.mtlsCertificates.create({...})`. */
  sdk: string;
  /** A curl command; the token is always shown as `$CLOUDFLARE_API_TOKEN`, never the real one. */
  curl: string;
  /** One line: what the call does. */
  description?: string;
}

/** A call that was actually sent (applySteps), with its outcome. */
export interface PerformedCall extends PlannedCall {
  step: StepId;
  ok: boolean;
  /** HTTP status when the call failed. */
  status?: number;
  /** A create that failed with a timeout or 5xx and was found by a re-read: it did take effect. */
  confirmedAfterError?: boolean;
  /** The outcome of the call is not known (it failed, and the re-read that would tell also failed). */
  outcomeUnknown?: boolean;
  /** True in a dry run: the call was planned, not sent. */
  dryRun?: boolean;
}

export interface StepState {
  id: StepId;
  leg: 0 | 1 | 2;
  title: string;
  status: StepStatus;
  /** One line for a checklist. */
  summary: string;
  /** Further lines: what was found, warnings (5-CA limit, Enterprise-only BYO CA, ...). */
  details?: string[];
  /** Where the same thing lives in the Cloudflare dashboard, e.g. `SSL/TLS > Client Certificates`. */
  dashboardPath: string;
  /** Why this step matters, in two or three sentences. */
  explanation: string;
  /** Permissions the token lacks for this step (read or write denied). */
  missingPermissions?: CloudflarePermission[];
  /** The writes this step still needs (empty when done or manual). */
  plannedCalls: PlannedCall[];
  /** Text for manual steps: the origin config snippet, the CA file to install, ... */
  manual?: { caPem?: string; caFileName?: string; nginx?: string; apache?: string; caddy?: string; haproxy?: string; note?: string };
  /** The Cloudflare error when reading this step failed. */
  error?: ExplainedError;
}

export interface CloudflareOptions {
  /** API token. Never logged, never returned, never shown (curl shows $CLOUDFLARE_API_TOKEN). */
  token: string;
  /** API base; default env CLOUDFLARE_BASE_URL, then https://api.cloudflare.com/client/v4. */
  baseURL?: string;
  zoneName: string;
  hostnames: string[];
  /**
   * Which CA Cloudflare verifies client certificates against: 'managed' (the zone's Cloudflare-managed CA,
   * every plan) or 'byo' (the workspace CA in caPem, uploaded to the account; Enterprise only). Default 'byo'.
   */
  caMode?: CaMode;
  /** The workspace CA (PEM) that signs client certificates (leg 1), for caMode 'byo'. */
  caPem?: string;
  /** Name of the CA in Cloudflare's mTLS certificate store; default derived from the subject CN. */
  caName?: string;
  aopMode: AopMode;
  /** Origin-pull client certificate (leaf) and key for aopMode 'zone' | 'hostname'. */
  pullCertPem?: string;
  pullKeyPem?: string;
  /** The CA that issued the origin-pull certificate (zone/hostname modes), for the origin-config step. */
  pullCaPem?: string;
  /** SHA-256 fingerprints (hex, any case, colons allowed) of revoked client certificates to block. */
  revokedFingerprints?: string[];
  /**
   * Also block client certificates whose issuer SKI is not the workspace CA's SKI (caMode 'byo'). Default:
   * on when another CA (another upload, or the managed CA) is associated with a target hostname; false opts out.
   */
  pinIssuerSki?: boolean;
  /** Zone-level AOP rotation: delete the older zone certificates once the new one is active. */
  replaceOldPullCerts?: boolean;
  /** Per-call timeout in ms (default 30000). A hanging API ends the read or apply with a timeout error. */
  timeoutMs?: number;
  /** Minimum TLS version for the zone; default '1.2'. */
  minTlsVersion?: '1.0' | '1.1' | '1.2' | '1.3';
  /** Origin server kind for the origin-config snippet; default 'nginx'. */
  originServer?: 'nginx' | 'apache' | 'caddy' | 'haproxy';
  /** Path of the CA file on the origin, for the snippet; default /etc/ssl/cloudflare/origin-pull-ca.pem. */
  originCaPath?: string;
}

export interface ZoneInfo {
  id: string;
  name: string;
  accountId: string;
  accountName?: string;
  plan?: string;
  /** The plan's legacy id (free, pro, business, enterprise). */
  planId?: string;
  /** Whether the plan allows uploading your own CA (Enterprise); undefined when the plan is not known. */
  ownCaAllowed?: boolean;
}

export interface SetupStatus {
  zone?: ZoneInfo;
  /** The CA mode this status was read for. */
  caMode: CaMode;
  /** Set when the API could not be reached (network error or timeout): later steps were not read. */
  unreachable?: ExplainedError;
  /** True when the token verified as active. */
  tokenValid: boolean;
  steps: StepState[];
  /** Union of the steps' missingPermissions. */
  missingPermissions: CloudflarePermission[];
  /** Leg summary for a status bar: 'done' when all its API steps are done. */
  legs: { 1: StepStatus; 2: StepStatus };
  /** ISO time of the read. */
  readAt: string;
}

export interface ExplainedError {
  /**
   * What kind of failure: 'network' (the API could not be reached), 'timeout' (no answer in time), 'auth' (the
   * token was not accepted), 'permission' (accepted, not allowed), 'unknown-outcome' (a create whose result
   * could not be confirmed), 'api' (Cloudflare refused), 'local' (bad input, nothing sent).
   */
  kind?: 'network' | 'timeout' | 'auth' | 'permission' | 'unknown-outcome' | 'api' | 'local';
  /** Cloudflare's error code (1489, 1412, 10000, 9109, ...) when there is one. */
  code?: number;
  /** HTTP status when there is one. */
  status?: number;
  /** Cloudflare's message (or the error's message). */
  message: string;
  /** What it means and what to do, in plain words. */
  meaning: string;
  /** The permission the token needs, for permission errors. */
  permission?: CloudflarePermission;
}

export interface ApplyOptions {
  /** Only these steps (others are skipped); default all steps the API can do. */
  steps?: StepId[];
  /** Return the exact calls without sending any write. Reads are still sent. */
  dryRun?: boolean;
  onProgress?: (event: ApplyProgress) => void;
}

export interface ApplyProgress {
  step: StepId;
  phase: 'start' | 'call' | 'done' | 'skipped' | 'failed';
  message: string;
  call?: PlannedCall;
}

export interface ApplyReport {
  ok: boolean;
  dryRun: boolean;
  /** Steps that are now done (including ones that already were). */
  done: StepId[];
  failed?: { step: StepId; error: ExplainedError };
  /** Steps not reached or left for the user (manual ones included). */
  remaining: StepId[];
  /** Writes performed (or, in a dry run, that would be performed). Reads are not listed. */
  calls: PerformedCall[];
}

export interface OriginSnippetOptions {
  /** Path of the CA file on the origin that verifies Cloudflare's origin-pull certificate. */
  caPath: string;
  hostname: string;
  /** Server certificate and key paths for the listen block; placeholders when absent. */
  certPath?: string;
  keyPath?: string;
}

export interface IpRanges {
  ipv4: string[];
  ipv6: string[];
  etag?: string;
}
