// Reads the live Cloudflare state of every step, plans the writes still missing, and applies them.
// Every step reads before it writes; nothing deletes or replaces what a user already has (other WAF rules,
// other hostname associations); a dry run returns the exact writes without sending them; the first
// failure stops the sequence. Safety: the blocking rule is written only when every target hostname is
// associated with a CA in the live state (else Cloudflare asks nobody for a certificate and the rule blocks
// everyone); settings are never lowered; creates are never retried blindly (the SDK does not retry, and a
// create that failed with a timeout or 5xx is looked up again before anything else happens); every call
// is bounded by a timeout.
import type { Cloudflare } from 'cloudflare';
import { MtlsError } from '../errors';
import { CallSpec, Ident, pathSeg, plannedCall } from './calls';
import { explainCloudflareError, isNetworkError, isNotFound, isPermissionError, KNOWN_CODES } from './errors';
import { buildWafExpression, normalizeExpression, normalizeHostnames } from './expression';
import { DEFAULT_BASE_URL, WAF_PHASE, WAF_RULE_REF } from './meta';
import { planAllowsOwnCa, stepPermissions, stepText, STEP_META } from './steps';
import { CLOUDFLARE_ORIGIN_PULL_CA_PEM } from './originPullCa';
import { originConfigSnippet } from './snippets';
import {
  ApplyOptions, ApplyReport, CaMode, CloudflareOptions, CloudflarePermission, ExplainedError, IpRanges, PerformedCall, PlannedCall,
  SetupStatus, StepId, StepState, StepStatus, STEP_IDS, ZoneInfo,
} from './types';
import { CertInfo, certInfo, sameCertificate } from './x509';
import { keyMatchesCertificate } from '../pki/pem';

const CA_LIMIT = 5;
const WAF_RULE_DESCRIPTION = 'mTLS Workbench: require a valid client certificate';
const PLACEHOLDER_CA_ID = '<id of the uploaded CA>';
const PLACEHOLDER_PULL_ID = '<id of the uploaded origin-pull certificate>';
/** Default per-call timeout. */
export const DEFAULT_TIMEOUT_MS = 30000;

const P_ZONE_READ: CloudflarePermission = 'Zone > Zone > Read';
const P_ACCOUNT_SSL: CloudflarePermission = 'Account > SSL and Certificates > Edit';
const P_ZONE_SSL: CloudflarePermission = 'Zone > SSL and Certificates > Edit';
const P_SETTINGS: CloudflarePermission = 'Zone > Zone Settings > Edit';
const P_WAF: CloudflarePermission = 'Zone > Zone WAF > Edit';

/** The API base URL: the option, else env CLOUDFLARE_BASE_URL, else Cloudflare's. */
export function resolveBaseURL(baseURL?: string): string {
  return (baseURL || process.env.CLOUDFLARE_BASE_URL || DEFAULT_BASE_URL).replace(/\/+$/, '');
}

/**
 * The SDK client; the `cloudflare` package is loaded on first use only. The SDK never retries (a retried
 * POST can create a second CA or certificate): reads fail fast, creates are looked up again by the caller.
 */
export async function createClient(token: string | undefined, baseURL?: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Cloudflare> {
  const mod = await import('cloudflare');
  const Ctor = (mod as unknown as { default: typeof Cloudflare }).default ?? (mod as unknown as { Cloudflare: typeof Cloudflare }).Cloudflare;
  return new Ctor({
    apiToken: token ?? null,
    // Only the token: never pick up a global API key or e-mail from the environment.
    apiKey: null, apiEmail: null, userServiceKey: null,
    baseURL: resolveBaseURL(baseURL),
    maxRetries: 0,
    timeout: timeoutMs,
    // The SDK's debug log would print request bodies (private keys for AOP uploads).
    logLevel: 'off',
  });
}

// ---- evaluation context ----------------------------------------------------------------------------------

/** 'confirmed' when a create failed (timeout, 5xx) but a re-read found what it created. */
type RunResult = void | 'confirmed';

interface Action {
  call: PlannedCall;
  permission: CloudflarePermission;
  run: () => Promise<RunResult>;
}

interface StepEval {
  state: StepState;
  actions: Action[];
}

/** A failed read, carrying the permission its call needs. */
class ReadError extends Error {
  constructor(override readonly cause: unknown, readonly permission: CloudflarePermission) {
    super((cause as Error)?.message ?? String(cause));
  }
}

interface Ctx {
  opts: CloudflareOptions;
  caMode: CaMode;
  /** Set once a call could not reach the API: later steps are not read (bounded time). */
  unreachable?: ExplainedError;
  /** Set when connect refuses to go on (e.g. own CA on a plan without it): nothing else is read or written. */
  stopped?: boolean;
  /** True when this run will associate the missing hostnames before the WAF step (status read, dry run). */
  associationPlanned?: boolean;
  /** Ids of the account's other CAs (not the workspace CA), for issuer pinning. */
  otherCaIds?: string[];
  client: Cloudflare;
  baseURL: string;
  hostnames: string[];
  dryRun: boolean;
  tokenValid: boolean;
  zone?: ZoneInfo;
  /** The CA's id in the mTLS store, once known. */
  caId?: string;
  /** The origin-pull certificate's id (zone or per-hostname store), once known. */
  pullCertId?: string;
  /** The custom-rules entrypoint ruleset id, once known. */
  rulesetId?: string;
  ca?: CertInfo;
  caError?: MtlsError;
  pull?: CertInfo;
  pullError?: MtlsError;
}

function validateOptions(opts: CloudflareOptions): string[] {
  const mode = opts.caMode ?? 'byo';
  if (mode !== 'managed' && mode !== 'byo') throw new MtlsError('usage', `Unknown CA mode "${mode}" (managed or byo).`);
  if (mode === 'byo' && !opts.caPem) {
    throw new MtlsError('usage', 'No CA chosen for leg 1.', 'Pass --managed to use the zone\'s Cloudflare-managed CA (every plan), or --ca FILE to upload your own CA (Enterprise plans only).');
  }
  if (opts.timeoutMs !== undefined && !(Number.isFinite(opts.timeoutMs) && opts.timeoutMs >= 100 && opts.timeoutMs <= 600000)) {
    throw new MtlsError('usage', `Timeout ${opts.timeoutMs} ms is out of range (100 to 600000).`);
  }
  if (!opts.token) throw new MtlsError('cloudflare-no-token', 'No Cloudflare API token.', 'Set CLOUDFLARE_API_TOKEN or run "mTLS: Set Cloudflare API Token".');
  if (!opts.zoneName?.trim()) throw new MtlsError('usage', 'No zone name.', 'Pass the zone, e.g. example.com.');
  const hostnames = normalizeHostnames(opts.hostnames ?? []);
  if (!hostnames.length) throw new MtlsError('usage', 'No hostname.', 'Pass at least one hostname that clients reach through Cloudflare.');
  const zone = opts.zoneName.trim().toLowerCase().replace(/\.$/, '');
  const outside = hostnames.filter(h => h !== zone && !h.endsWith('.' + zone));
  if (outside.length) throw new MtlsError('usage', `${outside.join(', ')} ${outside.length > 1 ? 'are' : 'is'} not in the zone ${zone}.`);
  if (!['global', 'zone', 'hostname'].includes(opts.aopMode)) throw new MtlsError('usage', `Unknown AOP mode "${opts.aopMode}" (global, zone or hostname).`);
  return hostnames;
}

async function makeCtx(opts: CloudflareOptions, dryRun: boolean): Promise<Ctx> {
  const hostnames = validateOptions(opts);
  const baseURL = resolveBaseURL(opts.baseURL);
  const caMode = opts.caMode ?? 'byo';
  const ctx: Ctx = { opts, caMode, client: await createClient(opts.token, baseURL, opts.timeoutMs), baseURL, hostnames, dryRun, tokenValid: false };
  if (caMode === 'byo') {
    try { ctx.ca = certInfo(opts.caPem ?? '', 'workspace CA'); } catch (e) { ctx.caError = e as MtlsError; }
  }
  if (opts.pullCertPem) {
    try { ctx.pull = certInfo(opts.pullCertPem, 'origin-pull certificate'); } catch (e) { ctx.pullError = e as MtlsError; }
  }
  return ctx;
}

async function read<T>(permission: CloudflarePermission, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new ReadError(err, permission);
  }
}

function baseState(id: StepId, status: StepStatus, summary: string, extra: Partial<StepState> = {}): StepState {
  const t = stepText(id);
  return { id, leg: STEP_META[id].leg, title: t.title, status, summary, dashboardPath: t.dashboardPath, explanation: t.explanation, plannedCalls: [], ...extra };
}

/**
 * Runs a create (POST) once. When it fails with a timeout, a network error or a 5xx, the object may exist
 * anyway: `find` reads again. Found: the create took effect ('confirmed'). Not found: the original error
 * (nothing was created; applying again is safe). The re-read failing too: an error saying the outcome is unknown.
 */
async function createOnce<T>(what: string, create: () => Promise<T>, find: () => Promise<T | undefined>, onFound: (x: T) => void): Promise<RunResult> {
  try {
    onFound(await create());
    return;
  } catch (err) {
    const status = (err as { status?: number })?.status;
    if (!(isNetworkError(err) || (typeof status === 'number' && status >= 500))) throw err;
    let found: T | undefined;
    try {
      found = await find();
    } catch (again) {
      throw new MtlsError('cloudflare-unknown-outcome', `Creating ${what} failed (${explainCloudflareError(err).message}) and reading it back failed too: whether it was created is not known.`,
        'Read the status again (mtls cloudflare status, or Refresh in the guide) before applying again: it shows whether the object exists, and a repeat then does not create it twice.', { cause: again });
    }
    if (found !== undefined) {
      onFound(found);
      return 'confirmed';
    }
    throw err;
  }
}

function action(ctx: Ctx, permission: CloudflarePermission, spec: CallSpec, run: () => Promise<RunResult>): Action {
  return { call: plannedCall(spec, ctx.baseURL), permission, run };
}

function withActions(state: StepState, actions: Action[]): StepEval {
  state.plannedCalls = actions.map(a => a.call);
  return { state, actions };
}

/** A step whose read failed: status error, with the missing permission when that was the reason. */
function failedRead(ctx: Ctx, id: StepId, err: unknown): StepEval {
  const cause = err instanceof ReadError ? err.cause : err;
  const permission = err instanceof ReadError ? err.permission : undefined;
  const explained = explainCloudflareError(cause, id, permission, ctx.opts.token);
  if (explained.kind === 'network' || explained.kind === 'timeout') {
    ctx.unreachable = explained;
    return { state: baseState(id, 'error', explained.message, { error: explained, details: [explained.meaning] }), actions: [] };
  }
  const missing = isPermissionError(cause) && permission ? [permission] : undefined;
  return {
    state: baseState(id, 'error', missing ? `Cannot read this step: the token lacks "${permission}".` : `Cannot read this step: ${explained.message}`, {
      error: explained, missingPermissions: missing, details: [explained.meaning],
    }),
    actions: [],
  };
}

// ---- step 0: connect --------------------------------------------------------------------------------------

async function evalConnect(ctx: Ctx): Promise<StepEval> {
  const details: string[] = [];
  let verifyError: unknown;
  const unreachable = (err: unknown): StepEval => {
    const e = explainCloudflareError(err, 'connect', P_ZONE_READ, ctx.opts.token);
    ctx.unreachable = e;
    return { state: baseState('connect', 'error', e.message, { error: e, details: [e.meaning] }), actions: [] };
  };
  try {
    const v = await ctx.client.user.tokens.verify();
    if (v.status !== 'active') {
      return { state: baseState('connect', 'error', `The token was not accepted: it is ${v.status}.`, { error: { kind: 'auth', message: `Token status: ${v.status}`, meaning: 'Create a new token or re-enable it under My Profile > API Tokens.' } }), actions: [] };
    }
    ctx.tokenValid = true;
  } catch (err) {
    // Not reaching the API is not a token problem: say so, and read nothing more.
    if (isNetworkError(err)) return unreachable(err);
    // Account-owned tokens do not verify at /user/tokens/verify; they verify at /accounts/{id}/tokens/verify,
    // once the zone lookup has told us the account.
    verifyError = err;
  }

  let zone: { id: string; name: string; account: { id?: string; name?: string }; plan?: { name?: string; legacy_id?: string } } | undefined;
  try {
    const page = await ctx.client.zones.list({ name: ctx.opts.zoneName.trim().toLowerCase().replace(/\.$/, '') });
    zone = page.result[0] as typeof zone;
  } catch (err) {
    if (isNetworkError(err)) return unreachable(err);
    const e = explainCloudflareError(verifyError ?? err, 'connect', P_ZONE_READ, ctx.opts.token);
    const missing = !verifyError && isPermissionError(err) ? [P_ZONE_READ] : undefined;
    return {
      state: baseState('connect', 'error', verifyError ? `The token was not accepted: ${e.message}` : `Cannot look up the zone: ${e.message}`, {
        error: verifyError ? { ...e, kind: 'auth' } : e, missingPermissions: missing, details: [e.meaning],
      }),
      actions: [],
    };
  }
  if (verifyError && zone?.account?.id) {
    try {
      const v = await ctx.client.accounts.tokens.verify({ account_id: zone.account.id });
      ctx.tokenValid = v.status === 'active';
      details.push('Account-owned token (verified against the account).');
    } catch (err) {
      if (isNetworkError(err)) return unreachable(err);
    }
  }
  if (!ctx.tokenValid) {
    const e = explainCloudflareError(verifyError, 'connect', P_ZONE_READ, ctx.opts.token);
    return { state: baseState('connect', 'error', `The token was not accepted: ${e.message}`, { error: { ...e, kind: 'auth' }, details: [e.meaning] }), actions: [] };
  }
  if (!zone) {
    return {
      state: baseState('connect', 'error', `Zone ${ctx.opts.zoneName} not found.`, {
        missingPermissions: [P_ZONE_READ],
        error: { kind: 'permission', message: `No zone named ${ctx.opts.zoneName} is visible to this token.`, meaning: `Check the zone name, or give the token "${P_ZONE_READ}" on this zone.`, permission: P_ZONE_READ },
        details: [`Check the zone name, or give the token "${P_ZONE_READ}" on this zone.`],
      }),
      actions: [],
    };
  }
  const ownCaAllowed = planAllowsOwnCa({ legacyId: zone.plan?.legacy_id, name: zone.plan?.name });
  ctx.zone = {
    id: zone.id, name: zone.name, accountId: zone.account.id ?? '', accountName: zone.account.name, plan: zone.plan?.name,
    planId: zone.plan?.legacy_id, ownCaAllowed,
  };
  const planName = zone.plan?.name ?? zone.plan?.legacy_id ?? 'unknown';
  if (ctx.caMode === 'byo' && ownCaAllowed === false) {
    // Stop before any write: the upload would fail, and a half-done setup helps nobody.
    ctx.stopped = true;
    const msg = `The zone's plan (${planName}) cannot use your own CA: uploading a CA needs an Enterprise plan.`;
    const meaning = 'Use the zone\'s Cloudflare-managed CA instead, which every plan has: pass --managed instead of --ca ' +
      '(issue client certificates with "mtls cloudflare cert issue"), or choose "Cloudflare-managed CA (any plan)" in the guide. Nothing was written.';
    return { state: baseState('connect', 'error', msg, { error: { kind: 'local', message: msg, meaning }, details: [meaning] }), actions: [] };
  }
  details.push(`Plan: ${planName}. ${ownCaAllowed === false ? 'Client certificates come from the Cloudflare-managed CA (bringing your own CA needs Enterprise).'
    : ownCaAllowed ? 'Both the Cloudflare-managed CA and your own CA (up to 5 per account) are available.' : 'Bringing your own CA needs an Enterprise plan; the Cloudflare-managed CA works on every plan.'}`);
  const perms = [...new Set(STEP_IDS.flatMap(id => stepPermissions(id, ctx.caMode)))];
  details.push(`The token needs: ${perms.join('; ')}. Each step's reads check them before anything is written.`);
  return {
    state: baseState('connect', 'done', `Token active; zone ${zone.name} (${planName}) in account ${zone.account.name ?? zone.account.id}.`, { details }),
    actions: [],
  };
}

// ---- leg 1: upload the CA ------------------------------------------------------------------------------

/** Leg 1 with the zone's Cloudflare-managed CA: nothing to upload; the step lists the certificates it issued. */
async function evalManagedCa(ctx: Ctx): Promise<StepEval> {
  const zoneId = ctx.zone!.id;
  const details: string[] = [];
  try {
    const page = await ctx.client.clientCertificates.list({ zone_id: zoneId, status: 'all', per_page: 50 });
    const certs = page.result;
    const active = certs.filter(c => c.status === 'active').length;
    details.push(certs.length
      ? `${active} active client certificate${active === 1 ? '' : 's'} issued by the managed CA (${certs.length} in all, any status).`
      : 'No client certificate issued yet: issue one with "mtls cloudflare cert issue --zone ' + ctx.zone!.name + ' --cn NAME" or from the Certificates view.');
  } catch (err) {
    if (isNetworkError(err)) throw err;
    details.push(`The managed CA's certificates could not be listed: ${explainCloudflareError(err, 'upload-ca', P_ZONE_SSL, ctx.opts.token).message}`);
  }
  details.push('Revocation is native: a revoked certificate fails cf.tls_client_auth.cert_revoked, which the WAF rule blocks.');
  return withActions(baseState('upload-ca', 'done', 'The zone\'s Cloudflare-managed CA signs the client certificates: nothing to upload.', { details }), []);
}

async function evalUploadCa(ctx: Ctx): Promise<StepEval> {
  if (ctx.caMode === 'managed') return evalManagedCa(ctx);
  if (ctx.caError || !ctx.ca) {
    const e = ctx.caError!;
    return { state: baseState('upload-ca', 'error', e.message, { error: explainCloudflareError(e) }), actions: [] };
  }
  const ca = ctx.ca;
  if (!ca.isCa) {
    return {
      state: baseState('upload-ca', 'error', 'The workspace CA is not a CA certificate (basicConstraints CA:FALSE).', {
        error: { code: 1418, message: 'Not a CA certificate.', meaning: KNOWN_CODES[1418] },
      }),
      actions: [],
    };
  }
  if (ca.keyType !== 'rsa' && ca.keyType !== 'ec') {
    return {
      state: baseState('upload-ca', 'error', `The workspace CA has a ${ca.keyType} key; Cloudflare accepts RSA or ECDSA CAs.`, {
        error: { message: `Unsupported key type ${ca.keyType}.`, meaning: KNOWN_CODES[1418] },
      }),
      actions: [],
    };
  }
  const accountId = ctx.zone!.accountId;
  const listCas = async () => (await ctx.client.mtlsCertificates.list({ account_id: accountId })).result.filter(c => c.ca !== false);
  const cas = await read(P_ACCOUNT_SSL, listCas);
  const match = cas.find(c => sameCertificate(ca, c));
  ctx.otherCaIds = cas.filter(c => c !== match).map(c => c.id).filter((id): id is string => !!id);
  const details = [`${cas.length} of ${CA_LIMIT} CAs in the account's mTLS certificate store.`];
  if (match) {
    ctx.caId = match.id;
    details.push(`Reused: ${match.name ?? '(no name)'}, serial ${match.serial_number ?? ca.serialDecimal}, expires ${match.expires_on ?? ca.validTo.toISOString()}.`);
    return withActions(baseState('upload-ca', 'done', `Uploaded as ${match.name ? `"${match.name}" ` : ''}(${match.id}).`, { details }), []);
  }
  if (cas.length >= CA_LIMIT) details.push(`The account already has ${cas.length} CAs: the upload will fail with error 1489. ${KNOWN_CODES[1489]}`);
  details.push('Bring-your-own CA needs an Enterprise plan.');
  details.push('Alternative on any plan: the Cloudflare-managed CA signs a CSR from the workspace store: ' +
    `POST /zones/${ctx.zone!.id}/client_certificates {csr, validity_days} (client.clientCertificates.create({ zone_id, csr, validity_days })).`);
  const name = ctx.opts.caName ?? `${ca.subjectCn ?? 'Workspace CA'} (mTLS Workbench ${ca.fingerprint256.slice(0, 8)})`;
  const body = { ca: true, certificates: ca.pem, name };
  return withActions(baseState('upload-ca', 'todo', `Upload the workspace CA (${ca.subjectCn ?? ca.subject}).`, { details }), [
    action(ctx, P_ACCOUNT_SSL, {
      method: 'POST', path: `/accounts/${pathSeg(accountId)}/mtls_certificates`, body,
      sdkMethod: 'mtlsCertificates.create', sdkArgs: [{ account_id: accountId, ca: true, certificates: new Ident('caPem'), name }],
      description: 'Upload the workspace CA to the account\'s mTLS certificate store.',
    }, () => createOnce('the CA upload',
      () => ctx.client.mtlsCertificates.create({ account_id: accountId, ...body }),
      async () => (await listCas()).find(c => sameCertificate(ca, c)),
      created => { ctx.caId = created.id; })),
  ]);
}

// ---- leg 1: hostname associations ---------------------------------------------------------------------

/** The hostnames associated with a CA in the live state (caId undefined: the Cloudflare-managed CA). */
async function associatedWith(ctx: Ctx, caId: string | undefined): Promise<string[]> {
  const zoneId = ctx.zone!.id;
  const r = await ctx.client.certificateAuthorities.hostnameAssociations.get(caId ? { zone_id: zoneId, mtls_certificate_id: caId } : { zone_id: zoneId });
  return (r.hostnames ?? []).map(h => h.toLowerCase());
}

async function evalAssociate(ctx: Ctx): Promise<StepEval> {
  const zoneId = ctx.zone!.id;
  const managed = ctx.caMode === 'managed';
  const caWord = managed ? 'the Cloudflare-managed CA' : 'the CA';
  const putAction = (caId: string | undefined, hostnames: string[]) => {
    const body = managed ? { hostnames } : { hostnames, mtls_certificate_id: caId };
    return action(ctx, P_ZONE_SSL, {
      method: 'PUT', path: `/zones/${pathSeg(zoneId)}/certificate_authorities/hostname_associations`,
      body,
      sdkMethod: 'certificateAuthorities.hostnameAssociations.update', sdkArgs: [{ zone_id: zoneId, ...body }],
      description: `Associate the hostnames with ${caWord} (the full list: the ones already there plus the new ones).`,
    }, async () => {
      // Read again right before the write: the PUT replaces the whole list, so merge with what is there now.
      const id = managed ? undefined : ctx.caId;
      if (!managed && !id) throw new MtlsError('cloudflare-order', 'The CA is not uploaded yet, so no hostname can be associated with it.', 'Apply the "upload-ca" step first.');
      const now = await ctx.client.certificateAuthorities.hostnameAssociations.get(id ? { zone_id: zoneId, mtls_certificate_id: id } : { zone_id: zoneId });
      const merged = mergeHostnames(now.hostnames ?? [], ctx.hostnames);
      await ctx.client.certificateAuthorities.hostnameAssociations.update(id ? { zone_id: zoneId, hostnames: merged, mtls_certificate_id: id } : { zone_id: zoneId, hostnames: merged });
    });
  };

  if (!managed && !ctx.caId) {
    return withActions(baseState('associate-hostnames', 'todo', 'Waiting for the CA upload: then associate ' + ctx.hostnames.join(', ') + '.', {
      details: ['The hostnames are associated once the CA has an id in the mTLS certificate store.'],
    }), [putAction(PLACEHOLDER_CA_ID, ctx.hostnames)]);
  }
  const caId = managed ? undefined : ctx.caId;
  const current = await read(P_ZONE_SSL, async () =>
    (await ctx.client.certificateAuthorities.hostnameAssociations.get(caId ? { zone_id: zoneId, mtls_certificate_id: caId } : { zone_id: zoneId })).hostnames ?? []);
  const missing = ctx.hostnames.filter(h => !current.map(c => c.toLowerCase()).includes(h));
  const others = current.filter(c => !ctx.hostnames.includes(c.toLowerCase()));
  const details = others.length ? [`Also associated with ${caWord} (kept): ${others.join(', ')}.`] : [];
  if (!missing.length) {
    return withActions(baseState('associate-hostnames', 'done', `${ctx.hostnames.join(', ')} ${ctx.hostnames.length > 1 ? 'are' : 'is'} associated with ${caWord}.`, { details }), []);
  }
  const status: StepStatus = missing.length < ctx.hostnames.length ? 'partial' : 'todo';
  details.unshift(`Missing: ${missing.join(', ')}.`);
  return withActions(baseState('associate-hostnames', status, `Associate ${missing.join(', ')} with ${caWord}.`, { details }),
    [putAction(caId, mergeHostnames(current, ctx.hostnames))]);
}

function mergeHostnames(current: string[], wanted: string[]): string[] {
  const out = [...current];
  for (const h of wanted) if (!out.some(c => c.toLowerCase() === h)) out.push(h);
  return out;
}

// ---- leg 1: WAF custom rule -----------------------------------------------------------------------------

/** The hostnames in an existing rule expression's first `http.host in {...}` set. */
export function hostnamesInExpression(expression: string): string[] {
  const m = /http\.host\s+in\s+\{([^}]*)\}/.exec(expression);
  return m ? [...m[1].matchAll(/"([^"]+)"/g)].map(x => x[1].toLowerCase()) : [];
}

function wafExpression(ctx: Ctx, keepHostnames: string[], pin: boolean): string {
  let issuerSki: string | undefined;
  if (pin) {
    issuerSki = ctx.ca?.ski;
    if (!issuerSki) throw new MtlsError('cert-no-ski', 'The workspace CA has no Subject Key Identifier, so the issuer cannot be pinned.', 'Pass --no-pin-issuer (or turn issuer pinning off), or use a CA with an SKI extension.');
  }
  return buildWafExpression({
    hostnames: [...ctx.hostnames, ...keepHostnames], issuerSki, revokedFingerprints: ctx.opts.revokedFingerprints,
    nativeRevocation: ctx.caMode === 'managed',
  });
}

/** The live hostname associations that matter for the rule: per CA id ('' = the Cloudflare-managed CA). */
async function liveAssociations(ctx: Ctx): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  out.set('', await associatedWith(ctx, undefined));
  if (ctx.caMode === 'byo') {
    for (const id of [ctx.caId, ...(ctx.otherCaIds ?? [])]) {
      if (id && !out.has(id)) out.set(id, await associatedWith(ctx, id));
    }
  }
  return out;
}

function unassociatedHosts(ctx: Ctx, assoc: Map<string, string[]>): string[] {
  const all = new Set([...assoc.values()].flat());
  return ctx.hostnames.filter(h => !all.has(h));
}

function notAssociatedError(hosts: string[]): MtlsError {
  return new MtlsError('cloudflare-not-associated',
    `Refusing to write the blocking rule: ${hosts.join(', ')} ${hosts.length > 1 ? 'are' : 'is'} not associated with any CA yet.`,
    'Until a hostname is associated with a CA, Cloudflare asks its visitors for no certificate, cert_verified is false for everyone and the rule ' +
    'would block every visitor. Apply the "associate-hostnames" step first (or apply all steps); nothing was written.');
}

async function evalWaf(ctx: Ctx): Promise<StepEval> {
  const zoneId = ctx.zone!.id;
  type Ruleset = Awaited<ReturnType<Cloudflare['rulesets']['phases']['get']>>;
  const readEntry = async () => {
    try {
      return await ctx.client.rulesets.phases.get(WAF_PHASE, { zone_id: zoneId });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const entry = await read(P_WAF, readEntry) as Ruleset | undefined;
  const assoc = await read(P_ZONE_SSL, () => liveAssociations(ctx));
  const unassociated = unassociatedHosts(ctx, assoc);

  // Issuer pinning (own CA): on by default when another CA also covers a target hostname, since its
  // certificates would otherwise pass cert_verified too.
  const foreign = [...assoc.entries()].filter(([id, hosts]) => id !== ctx.caId && hosts.some(h => ctx.hostnames.includes(h)));
  const pin = ctx.caMode === 'byo' && ctx.opts.pinIssuerSki !== false && (ctx.opts.pinIssuerSki === true || foreign.length > 0);

  const rules = (entry?.rules ?? []) as { id?: string; ref?: string; action?: string; expression?: string; enabled?: boolean; description?: string }[];
  const ours = rules.find(r => r.ref === WAF_RULE_REF);
  // Hostnames our rule already protects stay protected: a run with fewer hostnames never unblocks one.
  const kept = ours?.expression ? hostnamesInExpression(ours.expression).filter(h => !ctx.hostnames.includes(h)) : [];
  let expression: string;
  try {
    expression = wafExpression(ctx, kept, pin);
  } catch (e) {
    return { state: baseState('waf-rule', 'error', (e as Error).message, { error: explainCloudflareError(e) }), actions: [] };
  }
  const rule = { action: 'block' as const, expression, description: WAF_RULE_DESCRIPTION, ref: WAF_RULE_REF, enabled: true };
  const details = [`Expression: ${expression}`, 'Action: block. Other rules in the zone are left as they are.'];
  if (ctx.caMode === 'managed') details.push('Revoked certificates of the Cloudflare-managed CA are blocked natively (cf.tls_client_auth.cert_revoked).');
  if (pin) {
    details.push(foreign.length && ctx.opts.pinIssuerSki !== true
      ? `Issuer pinned to the workspace CA: ${foreign.map(([id]) => id ? `another CA (${id})` : 'the Cloudflare-managed CA').join(' and ')} also covers a target hostname, so its certificates would pass cert_verified too (--no-pin-issuer to opt out).`
      : 'Issuer pinned to the workspace CA.');
  }
  if (kept.length) details.push(`Also kept in the rule (protected before): ${kept.join(', ')}.`);

  /** Every write of this step re-reads the associations right before it: never a rule that blocks everyone. */
  const guarded = (run: () => Promise<RunResult>) => async (): Promise<RunResult> => {
    const now = unassociatedHosts(ctx, await liveAssociations(ctx));
    if (now.length) throw notAssociatedError(now);
    return run();
  };
  const finish = (state: StepState, actions: Action[]): StepEval => {
    if (!actions.length || !unassociated.length) return withActions(state, actions);
    if (ctx.associationPlanned) {
      state.details = [`Written only after step 2 has associated ${unassociated.join(', ')} with a CA (checked again right before the write).`, ...(state.details ?? [])];
      return withActions(state, actions);
    }
    const e = notAssociatedError(unassociated);
    return { state: baseState('waf-rule', 'error', e.message, { error: explainCloudflareError(e), details: [e.hint ?? '', ...(state.details ?? [])] }), actions: [] };
  };

  if (!entry) {
    const body = { kind: 'zone' as const, phase: WAF_PHASE as 'http_request_firewall_custom', name: 'default', rules: [rule] };
    return finish(baseState('waf-rule', 'todo', 'Create the zone\'s custom rules with the mTLS rule.', {
      details: ['The zone has no custom rules yet (no http_request_firewall_custom entrypoint).', ...details],
    }), [
      action(ctx, P_WAF, {
        method: 'POST', path: `/zones/${pathSeg(zoneId)}/rulesets`, body,
        sdkMethod: 'rulesets.create', sdkArgs: [{ zone_id: zoneId, ...body }],
        description: 'Create the custom-rules entrypoint ruleset with the rule that requires a client certificate.',
      }, guarded(() => createOnce('the custom-rules entrypoint',
        async () => (await ctx.client.rulesets.create({ zone_id: zoneId, ...body })) as { id?: string } | null,
        async () => { const e = await readEntry(); return e && (e.rules ?? []).some(r => (r as { ref?: string }).ref === WAF_RULE_REF) ? e : undefined; },
        created => { ctx.rulesetId = created?.id; }))),
    ]);
  }
  ctx.rulesetId = entry.id;
  const others = rules.filter(r => r !== ours);
  if (others.length) details.push(`${others.length} other rule${others.length > 1 ? 's' : ''} in the zone (kept).`);
  const oursIndex = ours ? rules.indexOf(ours) : rules.length;
  const skipping = rules.slice(0, oursIndex).filter(r => r.enabled !== false && (r.action === 'skip' || r.action === 'allow'));
  if (skipping.length) details.push(`Warning: ${skipping.length} earlier rule(s) with action skip may let requests bypass this rule: ${skipping.map(r => r.description || r.id).join(', ')}.`);
  const alsoChecks = others.filter(r => r.expression?.includes('cf.tls_client_auth'));
  if (alsoChecks.length) details.push(`Other rules also check client certificates: ${alsoChecks.map(r => r.description || r.id).join(', ')}.`);

  if (!ours) {
    const rulesetId = entry.id;
    return finish(baseState('waf-rule', 'todo', 'Add the rule that blocks requests without a valid client certificate.', { details }), [
      action(ctx, P_WAF, {
        method: 'POST', path: `/zones/${pathSeg(zoneId)}/rulesets/${pathSeg(rulesetId)}/rules`, body: rule,
        sdkMethod: 'rulesets.rules.create', sdkArgs: [rulesetId, { zone_id: zoneId, ...rule }],
        description: 'Add the mTLS rule at the end of the zone\'s custom rules.',
      }, guarded(() => createOnce('the mTLS rule',
        () => ctx.client.rulesets.rules.create(rulesetId, { zone_id: zoneId, ...rule }),
        async () => { const e = await readEntry(); return e && (e.rules ?? []).some(r => (r as { ref?: string }).ref === WAF_RULE_REF) ? e : undefined; },
        () => undefined))),
    ]);
  }
  const same = normalizeExpression(ours.expression ?? '') === normalizeExpression(expression) && ours.action === 'block' && ours.enabled !== false;
  if (same) {
    if (unassociated.length) details.unshift(`Warning: ${unassociated.join(', ')} ${unassociated.length > 1 ? 'are' : 'is'} not associated with any CA, so this rule blocks every visitor of ${unassociated.length > 1 ? 'them' : 'it'}: apply step 2.`);
    return withActions(baseState('waf-rule', unassociated.length ? 'partial' : 'done', 'The mTLS rule is in place and enabled.', { details }), []);
  }
  const why = ours.enabled === false ? 'is disabled' : ours.action !== 'block' ? `has action ${ours.action}` : 'has a different expression';
  details.unshift(`The rule ${why}; current expression: ${ours.expression}`);
  const rulesetId = entry.id;
  const ruleId = ours.id!;
  return finish(baseState('waf-rule', 'partial', `Update the mTLS rule (it ${why}).`, { details }), [
    action(ctx, P_WAF, {
      method: 'PATCH', path: `/zones/${pathSeg(zoneId)}/rulesets/${pathSeg(rulesetId)}/rules/${pathSeg(ruleId)}`, body: rule,
      sdkMethod: 'rulesets.rules.edit', sdkArgs: [ruleId, { zone_id: zoneId, ruleset_id: rulesetId, ...rule }],
      description: 'Update the mTLS rule in place (found by its ref); other rules are not touched.',
    }, guarded(async () => { await ctx.client.rulesets.rules.edit(ruleId, { zone_id: zoneId, ruleset_id: rulesetId, ...rule }); })),
  ]);
}

// ---- leg 2: Authenticated Origin Pulls ----------------------------------------------------------------

function pullProblem(ctx: Ctx): StepEval | undefined {
  const mode = ctx.opts.aopMode;
  if (ctx.pullError) return { state: baseState('aop-mode', 'error', ctx.pullError.message, { error: explainCloudflareError(ctx.pullError) }), actions: [] };
  if (!ctx.pull || !ctx.opts.pullKeyPem) {
    const msg = `${mode === 'zone' ? 'Zone-level' : 'Per-hostname'} Authenticated Origin Pulls need your own origin-pull certificate and its key.`;
    return {
      state: baseState('aop-mode', 'error', msg, {
        error: { message: msg, meaning: 'Issue a certificate with the origin-pull profile from the workspace store and pass it with its key (--pull-cert, --pull-key), or choose global mode.' },
      }),
      actions: [],
    };
  }
  let matches: boolean;
  try {
    matches = keyMatchesCertificate(ctx.pull.x509, ctx.opts.pullKeyPem);
  } catch (err) {
    const e = (err as MtlsError).code === 'bad-key' ? new MtlsError('key-invalid', `The private key could not be parsed: ${(err as Error).message}`, undefined, { cause: err }) : err;
    return { state: baseState('aop-mode', 'error', (e as Error).message, { error: explainCloudflareError(e) }), actions: [] };
  }
  if (!matches) {
    const msg = 'The origin-pull private key does not belong to the origin-pull certificate.';
    return { state: baseState('aop-mode', 'error', msg, { error: { message: msg, meaning: 'Pass the key that was issued with the certificate.' } }), actions: [] };
  }
  if (mode === 'hostname' && ctx.pull.isCa) {
    const msg = 'The origin-pull certificate is a CA (basicConstraints CA:TRUE); per-hostname AOP takes a leaf certificate only.';
    return { state: baseState('aop-mode', 'error', msg, { error: { code: 1412, message: msg, meaning: KNOWN_CODES[1412] } }), actions: [] };
  }
  return undefined;
}

async function evalAop(ctx: Ctx): Promise<StepEval> {
  const zoneId = ctx.zone!.id;
  const mode = ctx.opts.aopMode;
  if (mode === 'global') {
    const setting = await read(P_SETTINGS, () => ctx.client.zones.settings.get('tls_client_auth', { zone_id: zoneId }));
    const details = [
      'Global mode: Cloudflare presents its shared origin-pull certificate; the origin must trust Cloudflare\'s origin-pull CA (next step).',
      'Anyone on Cloudflare can get that certificate presented to your origin by pointing a zone at it; zone or per-hostname mode with your own certificate is stricter.',
    ];
    if ((setting as { value?: unknown }).value === 'on') {
      return withActions(baseState('aop-mode', 'done', 'Authenticated Origin Pulls are on (Cloudflare\'s shared certificate).', { details }), []);
    }
    return withActions(baseState('aop-mode', 'todo', 'Turn on Authenticated Origin Pulls for the zone.', { details }), [
      action(ctx, P_SETTINGS, {
        method: 'PATCH', path: `/zones/${pathSeg(zoneId)}/settings/tls_client_auth`, body: { value: 'on' },
        sdkMethod: 'zones.settings.edit', sdkArgs: ['tls_client_auth', { zone_id: zoneId, value: 'on' }],
        description: 'Switch zone-level Authenticated Origin Pulls on (tls_client_auth).',
      }, async () => { await ctx.client.zones.settings.edit('tls_client_auth', { zone_id: zoneId, value: 'on' }); }),
    ]);
  }

  const problem = pullProblem(ctx);
  if (problem) return problem;
  const pull = ctx.pull!;
  const uploadBody = { certificate: pull.pem, private_key: ctx.opts.pullKeyPem! };

  if (mode === 'zone') {
    type ZoneCert = { id?: string; status?: string; certificate?: string; serial_number?: string; issuer?: string; expires_on?: string };
    const listZoneCerts = async () => (await ctx.client.originTLSClientAuth.zoneCertificates.list({ zone_id: zoneId })).result as ZoneCert[];
    const certs = await read(P_ZONE_SSL, listZoneCerts);
    const enabled = await read(P_ZONE_SSL, async () => (await ctx.client.originTLSClientAuth.settings.get({ zone_id: zoneId })).enabled === true);
    const match = certs.find(c => sameCertificate(pull, c));
    if (match) ctx.pullCertId = match.id;
    const older = certs.filter(c => c !== match && c.status !== 'deleted' && c.status !== 'pending_deletion');
    const actions: Action[] = [];
    const details = [`Zone-level mode: Cloudflare presents ${pull.subjectCn ?? 'your certificate'} to the origin for every hostname of the zone.`];
    const matchActive = match?.status === undefined || match.status === 'active';
    if (match) details.push(`Certificate uploaded (${match.id}${match.status ? `, ${match.status}` : ''}).`);
    else {
      actions.push(action(ctx, P_ZONE_SSL, {
        method: 'POST', path: `/zones/${pathSeg(zoneId)}/origin_tls_client_auth`, body: uploadBody,
        sdkMethod: 'originTLSClientAuth.zoneCertificates.create', sdkArgs: [{ zone_id: zoneId, certificate: new Ident('pullCertPem'), private_key: new Ident('pullKeyPem') }],
        description: 'Upload the origin-pull certificate and key for the zone.',
      }, () => createOnce('the origin-pull certificate upload',
        () => ctx.client.originTLSClientAuth.zoneCertificates.create({ zone_id: zoneId, ...uploadBody }) as Promise<ZoneCert>,
        async () => (await listZoneCerts()).find(c => sameCertificate(pull, c)),
        created => { ctx.pullCertId = created.id; })));
    }
    if (!enabled) {
      actions.push(action(ctx, P_ZONE_SSL, {
        method: 'PUT', path: `/zones/${pathSeg(zoneId)}/origin_tls_client_auth/settings`, body: { enabled: true },
        sdkMethod: 'originTLSClientAuth.settings.update', sdkArgs: [{ zone_id: zoneId, enabled: true }],
        description: 'Enable zone-level Authenticated Origin Pulls.',
      }, async () => { await ctx.client.originTLSClientAuth.settings.update({ zone_id: zoneId, enabled: true }); }));
    } else details.push('Zone-level AOP is enabled.');

    // Rotation: the new certificate first has to be deployed; only then, and only on request, the older ones go.
    let pending = false;
    if (match && !matchActive) {
      pending = true;
      details.push(`The new certificate is ${match.status}: Cloudflare is still deploying it. Read the status again in a few minutes; until it is active, the older certificate stays in use.`);
    }
    if (older.length) {
      details.push(`Older zone-level certificate${older.length > 1 ? 's' : ''} still in place: ${older.map(c => `${c.id} (${c.status ?? 'unknown'}, expires ${c.expires_on ?? '?'})`).join(', ')}.`);
      if (match && matchActive && ctx.opts.replaceOldPullCerts) {
        for (const old of older) {
          const oldId = old.id!;
          actions.push(action(ctx, P_ZONE_SSL, {
            method: 'DELETE', path: `/zones/${pathSeg(zoneId)}/origin_tls_client_auth/${pathSeg(oldId)}`,
            sdkMethod: 'originTLSClientAuth.zoneCertificates.delete', sdkArgs: [oldId, { zone_id: zoneId }],
            description: 'Remove the older zone-level origin-pull certificate, so that one active certificate remains.',
          }, async () => {
            // Never remove the last working certificate: the new one must still be active right now.
            const now = await listZoneCerts();
            const fresh = now.find(c => sameCertificate(pull, c));
            if (!fresh || (fresh.status !== undefined && fresh.status !== 'active')) {
              throw new MtlsError('cloudflare-order', 'The new origin-pull certificate is not active, so the older one was kept.', 'Wait until the new certificate is active, then apply again with --replace-old.');
            }
            await ctx.client.originTLSClientAuth.zoneCertificates.delete(oldId, { zone_id: zoneId });
          }));
        }
      } else if (match && matchActive) {
        details.push('Remove the older certificate so that one active certificate remains: apply with --replace-old (or "Remove the older certificate" in the guide).');
      } else {
        details.push('The older certificate can be removed once the new one is active (--replace-old).');
      }
    }
    const rotationLeft = older.length > 0 && !(match && matchActive && ctx.opts.replaceOldPullCerts);
    const status: StepStatus = actions.length === 0 && !pending && !rotationLeft ? 'done' : (match || enabled) ? 'partial' : 'todo';
    const summary = status === 'done' ? 'Zone-level Authenticated Origin Pulls with your certificate are on.'
      : pending && !actions.length ? `The new origin-pull certificate is ${match!.status}: not active yet.`
        : !actions.length && rotationLeft ? 'Your certificate is active; an older zone-level certificate is still in place (remove it with --replace-old).'
          : !match ? 'Upload your origin-pull certificate' + (enabled ? '.' : ' and enable zone-level AOP.')
            : !enabled ? 'Enable zone-level Authenticated Origin Pulls.' : 'Remove the older origin-pull certificate.';
    return withActions(baseState('aop-mode', status, summary, { details }), actions);
  }

  // per-hostname
  const certs = await read(P_ZONE_SSL, async () => (await ctx.client.originTLSClientAuth.hostnameCertificates.list({ zone_id: zoneId })).result);
  const match = certs.find(c => sameCertificate(pull, c));
  if (match) ctx.pullCertId = match.id;
  const bound: string[] = [];
  const needs: string[] = [];
  for (const h of ctx.hostnames) {
    const cfg = await read(P_ZONE_SSL, async () => {
      try {
        return await ctx.client.originTLSClientAuth.hostnames.get(h, { zone_id: zoneId });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    });
    if (cfg && match && cfg.cert_id === match.id && cfg.enabled === true) bound.push(h);
    else needs.push(h);
  }
  const details = [`Per-hostname mode: Cloudflare presents ${pull.subjectCn ?? 'your certificate'} to the origin for ${ctx.hostnames.join(', ')}.`];
  if (bound.length) details.push(`Bound and enabled: ${bound.join(', ')}.`);
  const actions: Action[] = [];
  if (!match) {
    actions.push(action(ctx, P_ZONE_SSL, {
      method: 'POST', path: `/zones/${pathSeg(zoneId)}/origin_tls_client_auth/hostnames/certificates`, body: uploadBody,
      sdkMethod: 'originTLSClientAuth.hostnameCertificates.create', sdkArgs: [{ zone_id: zoneId, certificate: new Ident('pullCertPem'), private_key: new Ident('pullKeyPem') }],
      description: 'Upload the origin-pull certificate (a leaf) and key for per-hostname AOP.',
    }, () => createOnce('the origin-pull certificate upload',
      () => ctx.client.originTLSClientAuth.hostnameCertificates.create({ zone_id: zoneId, ...uploadBody }),
      async () => (await ctx.client.originTLSClientAuth.hostnameCertificates.list({ zone_id: zoneId })).result.find(c => sameCertificate(pull, c)),
      created => { ctx.pullCertId = created.id; })));
  } else details.push(`Certificate uploaded (${match.id}).`);
  if (needs.length) {
    const certId = match?.id ?? PLACEHOLDER_PULL_ID;
    const config = needs.map(hostname => ({ hostname, cert_id: certId, enabled: true }));
    actions.push(action(ctx, P_ZONE_SSL, {
      method: 'PUT', path: `/zones/${pathSeg(zoneId)}/origin_tls_client_auth/hostnames`, body: { config },
      sdkMethod: 'originTLSClientAuth.hostnames.update', sdkArgs: [{ zone_id: zoneId, config }],
      description: 'Bind the certificate to the hostnames and enable per-hostname AOP (only these hostnames change).',
    }, async () => {
      const id = ctx.pullCertId;
      if (!id) throw new MtlsError('cloudflare-order', 'The origin-pull certificate is not uploaded yet.', 'Apply the upload first.');
      await ctx.client.originTLSClientAuth.hostnames.update({ zone_id: zoneId, config: needs.map(hostname => ({ hostname, cert_id: id, enabled: true })) });
    }));
  }
  const status: StepStatus = !actions.length ? 'done' : (match || bound.length) ? 'partial' : 'todo';
  const summary = status === 'done' ? `Per-hostname Authenticated Origin Pulls are on for ${ctx.hostnames.join(', ')}.`
    : `${match ? '' : 'Upload your origin-pull certificate, then '}enable per-hostname AOP for ${needs.join(', ')}.`;
  return withActions(baseState('aop-mode', status, summary.charAt(0).toUpperCase() + summary.slice(1), { details }), actions);
}

// ---- leg 2: the origin side (manual) --------------------------------------------------------------------

function evalOriginConfig(ctx: Ctx): StepEval {
  const mode = ctx.opts.aopMode;
  const caPath = ctx.opts.originCaPath ?? (mode === 'global' ? '/etc/ssl/cloudflare/origin-pull-ca.pem' : '/etc/ssl/mtls/origin-pull-ca.pem');
  const hostname = ctx.hostnames.join(' ');
  const caPem = mode === 'global' ? CLOUDFLARE_ORIGIN_PULL_CA_PEM : ctx.opts.pullCaPem;
  const note = mode === 'global'
    ? 'Install Cloudflare\'s origin-pull CA (CN=origin-pull.cloudflare.net) on the origin and require client certificates.'
    : 'Install the CA that issued your origin-pull certificate on the origin and require client certificates.' +
      (caPem ? '' : ` (It issued ${ctx.pull?.subjectCn ?? 'the origin-pull certificate'}: ${ctx.pull?.issuer ?? 'see the workspace store'}.)`);
  return {
    state: baseState('origin-config', 'manual', note, {
      manual: {
        caPem, caFileName: caPath.split('/').pop(), note,
        nginx: originConfigSnippet('nginx', { caPath, hostname }),
        apache: originConfigSnippet('apache', { caPath, hostname }),
        caddy: originConfigSnippet('caddy', { caPath, hostname }),
        haproxy: originConfigSnippet('haproxy', { caPath, hostname }),
      },
      details: [
        `CA file on the origin: ${caPath}`,
        `Add the ${{ nginx: 'nginx', apache: 'Apache', caddy: 'Caddy', haproxy: 'HAProxy' }[ctx.opts.originServer ?? 'nginx']} block to the server for ${ctx.hostnames.join(', ')}, then reload it.`,
      ],
    }),
    actions: [],
  };
}

// ---- leg 2: SSL mode and minimum TLS version -----------------------------------------------------------

async function evalSslMode(ctx: Ctx): Promise<StepEval> {
  const zoneId = ctx.zone!.id;
  const wantTls = ctx.opts.minTlsVersion ?? '1.2';
  const ssl = (await read(P_SETTINGS, () => ctx.client.zones.settings.get('ssl', { zone_id: zoneId })) as { value?: unknown }).value;
  const tls = (await read(P_SETTINGS, () => ctx.client.zones.settings.get('min_tls_version', { zone_id: zoneId })) as { value?: unknown }).value;
  const details = [`SSL/TLS mode: ${ssl}; minimum TLS version: ${tls}.`];
  const actions: Action[] = [];
  // Strict (SSL-Only Origin Pull) is stricter than Full (Strict): it stays. Nothing here ever lowers a setting.
  const strictEnough = ssl === 'strict' || ssl === 'origin_pull';
  if (ssl === 'origin_pull') details.push('Strict (SSL-Only Origin Pull) is already stricter than Full (Strict): it is kept.');
  if (!strictEnough) {
    details.unshift(`Zone-wide: the SSL/TLS mode applies to every hostname of ${ctx.zone!.name}, not only to ${ctx.hostnames.join(', ')}. ` +
      'Every origin behind the zone then needs a valid certificate.');
    if (ssl === 'full') details.push('Full already sends the origin-pull certificate but does not verify the origin\'s certificate; Full (Strict) does.');
    if (ssl === 'flexible' || ssl === 'off') details.push(`With ${ssl}, Cloudflare never opens TLS to the origin, so Authenticated Origin Pulls cannot work.`);
    details.push('Full (Strict) needs a valid certificate on the origin (a public CA or the Cloudflare Origin CA), or visitors get error 526.');
    actions.push(action(ctx, P_SETTINGS, {
      method: 'PATCH', path: `/zones/${pathSeg(zoneId)}/settings/ssl`, body: { value: 'strict' },
      sdkMethod: 'zones.settings.edit', sdkArgs: ['ssl', { zone_id: zoneId, value: 'strict' }],
      description: `Set the SSL/TLS encryption mode to Full (Strict) for the whole zone ${ctx.zone!.name} (every hostname).`,
    }, async () => { await ctx.client.zones.settings.edit('ssl', { zone_id: zoneId, value: 'strict' }); }));
  }
  if (typeof tls !== 'string' || Number(tls) < Number(wantTls)) {
    actions.push(action(ctx, P_SETTINGS, {
      method: 'PATCH', path: `/zones/${pathSeg(zoneId)}/settings/min_tls_version`, body: { value: wantTls },
      sdkMethod: 'zones.settings.edit', sdkArgs: ['min_tls_version', { zone_id: zoneId, value: wantTls }],
      description: `Raise the minimum TLS version to ${wantTls}.`,
    }, async () => { await ctx.client.zones.settings.edit('min_tls_version', { zone_id: zoneId, value: wantTls }); }));
  }
  const status: StepStatus = !actions.length ? 'done' : actions.length === 2 ? 'todo' : 'partial';
  const summary = status === 'done' ? `${ssl === 'origin_pull' ? 'Strict (SSL-Only Origin Pull)' : 'Full (Strict)'}, minimum TLS ${tls}.`
    : [!strictEnough ? 'set Full (Strict) for the whole zone' : '', actions.length === 2 || strictEnough ? `raise the minimum TLS version to ${wantTls}` : ''].filter(Boolean).join(' and ');
  return withActions(baseState('ssl-mode', status, status === 'done' ? summary : summary.charAt(0).toUpperCase() + summary.slice(1) + '.', { details }), actions);
}

function evalVerify(): StepEval {
  return {
    state: baseState('verify', 'manual', 'Run Test Leg to probe both legs (mTLS: Test Leg, or mtls probe).', {
      details: ['Leg 1: the edge must refuse a request without a client certificate and accept one from the workspace CA.',
        'Leg 2: the origin must refuse a direct connection without Cloudflare\'s certificate.'],
    }),
    actions: [],
  };
}

// ---- orchestration --------------------------------------------------------------------------------------

const EVALUATORS: Record<StepId, (ctx: Ctx) => Promise<StepEval> | StepEval> = {
  connect: evalConnect,
  'upload-ca': evalUploadCa,
  'associate-hostnames': evalAssociate,
  'waf-rule': evalWaf,
  'aop-mode': evalAop,
  'origin-config': evalOriginConfig,
  'ssl-mode': evalSslMode,
  verify: evalVerify,
};

const NEEDS_API: Record<StepId, boolean> = {
  connect: true, 'upload-ca': true, 'associate-hostnames': true, 'waf-rule': true, 'aop-mode': true, 'origin-config': false, 'ssl-mode': true, verify: false,
};

async function evaluate(ctx: Ctx, id: StepId): Promise<StepEval> {
  const result = await evaluateRaw(ctx, id);
  // Titles and explanations follow the CA mode (the managed CA has no upload step).
  const t = stepText(id, ctx.caMode);
  Object.assign(result.state, { title: t.title, explanation: t.explanation, dashboardPath: t.dashboardPath });
  if (result.state.missingPermissions?.length === 0) delete result.state.missingPermissions;
  return result;
}

async function evaluateRaw(ctx: Ctx, id: StepId): Promise<StepEval> {
  if (id !== 'connect' && NEEDS_API[id]) {
    if (ctx.unreachable) {
      return { state: baseState(id, 'unknown', 'Not read: the Cloudflare API could not be reached.', { details: [ctx.unreachable.message] }), actions: [] };
    }
    if (ctx.stopped) return { state: baseState(id, 'unknown', 'Not read: see step 0.'), actions: [] };
    if (!ctx.zone) return { state: baseState(id, 'unknown', 'Connect first: the token and zone are needed to read this step.'), actions: [] };
  }
  try {
    return await EVALUATORS[id](ctx);
  } catch (err) {
    return failedRead(ctx, id, err);
  }
}

function legStatus(steps: StepState[]): StepStatus {
  const s = steps.map(x => x.status);
  if (s.every(x => x === 'done')) return 'done';
  if (s.includes('error')) return 'error';
  if (s.includes('unknown')) return 'unknown';
  if (s.some(x => x === 'done' || x === 'partial')) return 'partial';
  return 'todo';
}

function summarize(ctx: Ctx, steps: StepState[]): SetupStatus {
  const missing = [...new Set(steps.flatMap(s => s.missingPermissions ?? []))];
  const connect = steps.find(s => s.id === 'connect');
  if (connect && missing.length) {
    const perStep = steps.filter(s => s.missingPermissions?.length).map(s => `${s.title}: ${s.missingPermissions!.join(', ')}`);
    connect.missingPermissions = missing;
    connect.details = [...(connect.details ?? []), `Missing permissions — ${perStep.join('; ')}.`];
    if (connect.status === 'done') connect.status = 'partial';
  }
  const leg = (ids: StepId[]) => legStatus(steps.filter(s => ids.includes(s.id)));
  return {
    zone: ctx.zone,
    caMode: ctx.caMode,
    unreachable: ctx.unreachable,
    tokenValid: ctx.tokenValid,
    steps,
    missingPermissions: missing,
    legs: { 1: leg(['upload-ca', 'associate-hostnames', 'waf-rule']), 2: leg(['aop-mode', 'ssl-mode']) },
    readAt: new Date().toISOString(),
  };
}

/** Reads the live state of every step. Sends only GET requests. */
export async function readStatus(opts: CloudflareOptions): Promise<SetupStatus> {
  const ctx = await makeCtx(opts, true);
  const steps: StepState[] = [];
  for (const id of STEP_IDS) {
    const { state, actions } = await evaluate(ctx, id);
    // The status shows the whole plan: the rule is written after the association of the same run.
    if (id === 'associate-hostnames' && actions.length) ctx.associationPlanned = true;
    steps.push(state);
  }
  return summarize(ctx, steps);
}

/** The writes each step still needs, from a status read by readStatus. */
export function planSteps(status: SetupStatus, _opts?: CloudflareOptions): Record<StepId, PlannedCall[]> {
  const out = Object.fromEntries(STEP_IDS.map(id => [id, [] as PlannedCall[]])) as Record<StepId, PlannedCall[]>;
  for (const s of status.steps) out[s.id] = s.plannedCalls;
  return out;
}

/**
 * Performs what is missing, step by step: each step reads, then writes only what is missing. The first
 * failure stops the sequence. With `dryRun`, the writes are returned, not sent (reads are still sent).
 * Steps the API cannot do (the origin side, verification) stay in `remaining`.
 */
export async function applySteps(opts: CloudflareOptions, apply: ApplyOptions = {}): Promise<ApplyReport> {
  const dryRun = !!apply.dryRun;
  const scope = new Set<StepId>(apply.steps?.length ? apply.steps : STEP_IDS);
  for (const s of scope) if (!STEP_IDS.includes(s)) throw new MtlsError('usage', `Unknown step "${s}" (${STEP_IDS.join(', ')}).`);
  const progress = apply.onProgress ?? (() => undefined);
  const ctx = await makeCtx(opts, dryRun);
  const report: ApplyReport = { ok: true, dryRun, done: [], remaining: [], calls: [] };
  const ordered = STEP_IDS.filter(id => scope.has(id) || id === 'connect' || dependsOn(scope, id));

  for (let i = 0; i < ordered.length; i++) {
    const id = ordered[i];
    const inScope = scope.has(id);
    if (inScope) progress({ step: id, phase: 'start', message: stepText(id, ctx.caMode).title });
    const { state, actions } = await evaluate(ctx, id);
    const fail = (error: ExplainedError) => {
      report.ok = false;
      report.failed = { step: id, error };
      progress({ step: id, phase: 'failed', message: `${error.message} ${error.meaning}`.trim() });
      report.remaining.push(...ordered.slice(i).filter(s => scope.has(s)));
    };
    if (state.status === 'error' || state.status === 'unknown') {
      fail(state.error ?? { message: state.summary, meaning: state.details?.join(' ') ?? '' });
      break;
    }
    if (state.status === 'manual') {
      if (inScope) {
        report.remaining.push(id);
        progress({ step: id, phase: 'skipped', message: `Manual: ${state.summary}` });
      }
      continue;
    }
    // A step outside the scope is only read for what later steps need (the CA id): never written.
    if (!inScope) continue;
    // In a dry run the association is not sent: the rule's write is shown as following it.
    if (id === 'associate-hostnames' && actions.length && dryRun) ctx.associationPlanned = true;
    if (!actions.length) {
      // Nothing to write is not always done: a certificate still deploying, an older one left on purpose.
      if (state.status === 'done') {
        report.done.push(id);
        progress({ step: id, phase: 'done', message: `Already done: ${state.summary}` });
      } else {
        report.remaining.push(id);
        progress({ step: id, phase: 'skipped', message: state.summary });
      }
      continue;
    }
    if (dryRun) {
      for (const a of actions) {
        report.calls.push({ ...a.call, step: id, ok: true, dryRun: true });
        progress({ step: id, phase: 'call', message: `Would call ${a.call.method} ${a.call.path}`, call: a.call });
      }
      report.remaining.push(id);
      continue;
    }
    let failed = false;
    for (const a of actions) {
      progress({ step: id, phase: 'call', message: `${a.call.method} ${a.call.path}`, call: a.call });
      try {
        const result = await a.run();
        report.calls.push({ ...a.call, step: id, ok: true, confirmedAfterError: result === 'confirmed' ? true : undefined });
        if (result === 'confirmed') progress({ step: id, phase: 'call', message: `${a.call.method} ${a.call.path}: the answer was lost, but a re-read found the result: not sent again.`, call: a.call });
      } catch (err) {
        const e = err as { status?: number };
        const unknownOutcome = err instanceof MtlsError && err.code === 'cloudflare-unknown-outcome';
        report.calls.push({ ...a.call, step: id, ok: false, status: typeof e?.status === 'number' ? e.status : undefined, outcomeUnknown: unknownOutcome || undefined });
        fail(explainCloudflareError(err, id, a.permission, opts.token));
        failed = true;
        break;
      }
    }
    if (failed) break;
    report.done.push(id);
    progress({ step: id, phase: 'done', message: state.summary });
  }
  return report;
}

/** Whether a step outside the scope must still be read because an in-scope step needs what it finds. */
function dependsOn(scope: Set<StepId>, id: StepId): boolean {
  return id === 'upload-ca' && (scope.has('associate-hostnames') || scope.has('waf-rule'));
}

/** Cloudflare's IP ranges (GET /ips; no token needed). */
export async function fetchIpRanges(opts: { token?: string; baseURL?: string; timeoutMs?: number } = {}): Promise<IpRanges> {
  const client = await createClient(opts.token || undefined, opts.baseURL, opts.timeoutMs);
  const result = await client.ips.list({}, opts.token ? undefined : { headers: { Authorization: null } }) as { ipv4_cidrs?: string[]; ipv6_cidrs?: string[]; etag?: string };
  return { ipv4: result.ipv4_cidrs ?? [], ipv6: result.ipv6_cidrs ?? [], etag: result.etag };
}

export type { PerformedCall };

/** The zone by name with its plan (one GET), for choosing the CA mode before the full read. */
export async function lookupZone(opts: { token: string; baseURL?: string; zoneName: string; timeoutMs?: number }): Promise<ZoneInfo | undefined> {
  const client = await createClient(opts.token, opts.baseURL, opts.timeoutMs);
  const page = await client.zones.list({ name: opts.zoneName.trim().toLowerCase().replace(/\.$/, '') });
  const z = page.result[0] as { id: string; name: string; account: { id?: string; name?: string }; plan?: { name?: string; legacy_id?: string } } | undefined;
  if (!z) return undefined;
  return {
    id: z.id, name: z.name, accountId: z.account?.id ?? '', accountName: z.account?.name, plan: z.plan?.name, planId: z.plan?.legacy_id,
    ownCaAllowed: planAllowsOwnCa({ legacyId: z.plan?.legacy_id, name: z.plan?.name }),
  };
}
