// The messages between the setup guide webview (src/webview/guide.ts) and the extension
// (src/extension/guide/controller.ts). Both sides import this file; it has no runtime dependency on
// `vscode` or Node, so the webview bundle can include it.
//
// Rule: nothing secret crosses this boundary. The API token is only ever reported as set / not set.
import type { AopMode, ApplyReport, CaMode, ExplainedError, PlannedCall, SetupStatus, StepId } from '../../core/cloudflare/types';
import { APPLICABLE_STEPS, STEP_IDS } from '../../core/cloudflare/steps';

export type { AopMode, ApplyReport, CaMode, ExplainedError, PlannedCall, SetupStatus, StepId };

/** The steps of the guide, in order (the core catalogue; dependency-free, so the webview bundles it). */
export const GUIDE_STEPS: readonly StepId[] = STEP_IDS;
export { APPLICABLE_STEPS };
export const CA_MODES: readonly CaMode[] = ['managed', 'byo'];
export const AOP_MODES: readonly AopMode[] = ['global', 'zone', 'hostname'];
export const ORIGIN_SERVERS = ['nginx', 'apache', 'caddy', 'haproxy'] as const;
/** How each origin server is named to people. */
export const ORIGIN_SERVER_LABELS: Record<OriginServer, string> = { nginx: 'nginx', apache: 'Apache', caddy: 'Caddy', haproxy: 'HAProxy' };
export type OriginServer = typeof ORIGIN_SERVERS[number];
export const ALLOWLIST_FORMATS = ['nginx', 'nginx-realip', 'apache', 'ufw', 'iptables'] as const;
export type AllowlistFormat = typeof ALLOWLIST_FORMATS[number];
export const TEST_LEGS = ['leg1', 'leg2', 'both'] as const;
export type TestLegChoice = typeof TEST_LEGS[number];

/** A certificate from the workspace store, as the guide shows it (no key material). */
export interface StoreItemView {
  name: string;
  subject?: string;
  /** SHA-256, hex with colons. */
  fingerprint?: string;
  notAfter?: string;
}

/** Everything the guide shows that does not come from Cloudflare. */
export interface GuideView {
  /** Workspace trust: without it the guide reads nothing and applies nothing. */
  trusted: boolean;
  /** Only this, never the token. */
  token: 'set' | 'not set';
  zone: string;
  hostnames: string[];
  /** The workspace CA chosen for leg 1 (setting mtls.cloudflare.caName), when it exists in the store. */
  ca?: StoreItemView;
  /** The configured CA name when it is not (or no longer) in the store. */
  caMissing?: string;
  /** How many CAs the store holds (0: the guide offers to create one). */
  caCount: number;
  /** The CA mode in use: the setting, or (setting 'auto') preselected from the zone's plan. */
  caMode: CaMode;
  /** True when the mode was preselected from the plan (setting mtls.cloudflare.caMode is 'auto'). */
  caModeFromPlan: boolean;
  /** The zone's plan, when known, and whether it allows your own CA. */
  plan?: string;
  ownCaAllowed?: boolean;
  aopMode: AopMode;
  /** The origin-pull client certificate from the store (aopMode zone/hostname). */
  pullCert?: StoreItemView;
  pinIssuerSki: boolean;
  minTlsVersion: string;
  originServer: OriginServer;
  /** The API base the guide talks to (not secret; shown so a test or proxy setup is visible). */
  apiBase: string;
  /** What must be filled in before the live state can be read. */
  missing: ('token' | 'zone' | 'hostnames' | 'ca' | 'pullCert' | 'trust')[];
  /** Whether the Test Leg command is installed. */
  testLegAvailable: boolean;
}

export interface TestLegCheck { id: string; title?: string; status: string; detail?: string; ms?: number; fix?: string }
export interface TestLegReport { ok: boolean; legs: { leg: string; ok: boolean; target?: string; checks: TestLegCheck[] }[] }

// ---------------------------------------------------------------- webview -> extension

export type ToExtension =
  | { type: 'ready' }
  | { type: 'refresh' }
  | { type: 'manageTrust' }
  | { type: 'setToken' }
  | { type: 'clearToken' }
  | { type: 'editZone' }
  | { type: 'editHostnames' }
  | { type: 'chooseCa' }
  | { type: 'setAopMode'; mode: AopMode }
  | { type: 'setCaMode'; mode: CaMode }
  /** Zone-level AOP rotation: remove the older certificate (after a confirmation). */
  | { type: 'replaceOldPullCert' }
  /** Issue a client certificate from the zone's Cloudflare-managed CA (the Certificates view's command). */
  | { type: 'issueManagedCert' }
  | { type: 'choosePullCert' }
  | { type: 'setOriginServer'; server: OriginServer }
  | { type: 'apply'; step: StepId }
  | { type: 'dryRun'; steps?: StepId[] }
  | { type: 'applyAll' }
  | { type: 'showRequest'; step: StepId }
  | { type: 'runTestLeg'; legs: TestLegChoice }
  | { type: 'insertOriginConfig'; server: OriginServer }
  | { type: 'copyOriginConfig'; server: OriginServer }
  | { type: 'openCaFile' }
  | { type: 'openAllowlist'; format: AllowlistFormat };

// ---------------------------------------------------------------- extension -> webview

export type ToWebview =
  | { type: 'view'; view: GuideView }
  /** The live read. `status` is absent when it could not be read; `error` says why. */
  | { type: 'status'; status?: SetupStatus; error?: { message: string; meaning?: string; code?: number; kind?: ExplainedError['kind'] } }
  | { type: 'busy'; busy?: string }
  | { type: 'progress'; message: string; step?: StepId; phase?: string }
  | { type: 'dryRun'; steps: StepId[]; calls: PlannedCall[]; /** true while the confirmation dialog is open */ pending: boolean }
  | { type: 'applyReport'; report: ApplyReport }
  | { type: 'request'; step: StepId; calls: PlannedCall[] }
  | { type: 'testLeg'; report?: TestLegReport; error?: string }
  | { type: 'notice'; level: 'info' | 'warning' | 'error'; text: string };

/** State the webview keeps with `vscode.setState` (survives hide and reload; never holds the token). */
export interface WebviewState {
  view?: GuideView;
  status?: SetupStatus;
  statusError?: { message: string; meaning?: string; code?: number; kind?: ExplainedError['kind'] };
  report?: ApplyReport;
  dryRun?: { steps: StepId[]; calls: PlannedCall[]; pending: boolean };
  testLeg?: TestLegReport;
  testLegError?: string;
  /** Steps whose "Show request" is expanded. */
  expanded?: StepId[];
}

// ---------------------------------------------------------------- validation (extension side)

const oneOf = <T extends string>(list: readonly T[], v: unknown): v is T => typeof v === 'string' && (list as readonly string[]).includes(v);

/**
 * Checks a message from the webview. Returns the typed message or a reason it was refused. The webview is
 * our own code, but it renders data from the network, so the extension treats it as untrusted input.
 */
export function parseToExtension(raw: unknown): { ok: true; msg: ToExtension } | { ok: false; reason: string } {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, reason: 'not an object' };
  const m = raw as Record<string, unknown>;
  const bad = (reason: string) => ({ ok: false as const, reason: `${String(m.type)}: ${reason}` });
  const extra = Object.keys(m).filter(k => !['type', 'step', 'steps', 'mode', 'server', 'legs', 'format'].includes(k));
  if (extra.length) return bad(`unexpected field(s) ${extra.join(', ')}`);
  switch (m.type) {
    case 'ready': case 'refresh': case 'manageTrust': case 'setToken': case 'clearToken': case 'editZone': case 'editHostnames':
    case 'chooseCa': case 'choosePullCert': case 'applyAll': case 'openCaFile': case 'replaceOldPullCert': case 'issueManagedCert':
      return { ok: true, msg: { type: m.type } };
    case 'setAopMode':
      return oneOf(AOP_MODES, m.mode) ? { ok: true, msg: { type: 'setAopMode', mode: m.mode } } : bad('mode must be global, zone or hostname');
    case 'setCaMode':
      return oneOf(CA_MODES, m.mode) ? { ok: true, msg: { type: 'setCaMode', mode: m.mode } } : bad('mode must be managed or byo');
    case 'setOriginServer':
    case 'insertOriginConfig':
    case 'copyOriginConfig':
      return oneOf(ORIGIN_SERVERS, m.server) ? { ok: true, msg: { type: m.type, server: m.server } } : bad('server must be nginx, apache, caddy or haproxy');
    case 'apply':
      return oneOf(APPLICABLE_STEPS, m.step) ? { ok: true, msg: { type: 'apply', step: m.step } } : bad('step is not one the API can apply');
    case 'showRequest':
      return oneOf(GUIDE_STEPS, m.step) ? { ok: true, msg: { type: 'showRequest', step: m.step } } : bad('unknown step');
    case 'dryRun':
      if (m.steps === undefined) return { ok: true, msg: { type: 'dryRun' } };
      if (!Array.isArray(m.steps) || m.steps.length > GUIDE_STEPS.length || !m.steps.every(s => oneOf(APPLICABLE_STEPS, s))) return bad('steps must list applicable steps');
      return { ok: true, msg: { type: 'dryRun', steps: m.steps as StepId[] } };
    case 'runTestLeg':
      return oneOf(TEST_LEGS, m.legs) ? { ok: true, msg: { type: 'runTestLeg', legs: m.legs } } : bad('legs must be leg1, leg2 or both');
    case 'openAllowlist':
      return oneOf(ALLOWLIST_FORMATS, m.format) ? { ok: true, msg: { type: 'openAllowlist', format: m.format } } : bad('format must be nginx, nginx-realip, apache, ufw or iptables');
    default:
      return bad('unknown message type');
  }
}
