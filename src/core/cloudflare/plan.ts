// Reads the live Cloudflare state of every step, plans the writes still missing, and applies them.
// Every step reads before it writes; nothing deletes or replaces what a user already has (other WAF rules,
// other hostname associations); a dry run returns the exact writes without sending them; the first
// failure stops the sequence.
import type { Cloudflare } from 'cloudflare';
import { MtlsError } from '../errors';
import { CallSpec, Ident, pathSeg, plannedCall } from './calls';
import { explainCloudflareError, isNotFound, isPermissionError, KNOWN_CODES } from './errors';
import { buildWafExpression, normalizeExpression, normalizeHostnames } from './expression';
import { DEFAULT_BASE_URL, STEP_META, WAF_PHASE, WAF_RULE_REF } from './meta';
import { CLOUDFLARE_ORIGIN_PULL_CA_PEM } from './originPullCa';
import { originConfigSnippet } from './snippets';
import {
  ApplyOptions, ApplyReport, CloudflareOptions, CloudflarePermission, ExplainedError, IpRanges, PerformedCall, PlannedCall,
  SetupStatus, StepId, StepState, StepStatus, STEP_IDS, ZoneInfo,
} from './types';
import { CertInfo, certInfo, keyMatchesCertificate, sameCertificate } from './x509';

const CA_LIMIT = 5;
const WAF_RULE_DESCRIPTION = 'mTLS Workbench: require a valid client certificate';
const PLACEHOLDER_CA_ID = '<id of the uploaded CA>';
const PLACEHOLDER_PULL_ID = '<id of the uploaded origin-pull certificate>';

/** The API base URL: the option, else env CLOUDFLARE_BASE_URL, else Cloudflare's. */
export function resolveBaseURL(baseURL?: string): string {
  return (baseURL || process.env.CLOUDFLARE_BASE_URL || DEFAULT_BASE_URL).replace(/\/+$/, '');
}

/** The SDK client; the `cloudflare` package is loaded on first use only. */
export async function createClient(token: string | undefined, baseURL?: string): Promise<Cloudflare> {
  const mod = await import('cloudflare');
  const Ctor = (mod as unknown as { default: typeof Cloudflare }).default ?? (mod as unknown as { Cloudflare: typeof Cloudflare }).Cloudflare;
  return new Ctor({
    apiToken: token ?? null,
    // Only the token: never pick up a global API key or e-mail from the environment.
    apiKey: null, apiEmail: null, userServiceKey: null,
    baseURL: resolveBaseURL(baseURL),
    // The SDK's debug log would print request bodies (private keys for AOP uploads).
    logLevel: 'off',
  });
}

// ---- evaluation context ----------------------------------------------------------------------------------

interface Action {
  call: PlannedCall;
  permission: CloudflarePermission;
  run: () => Promise<void>;
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
  const ctx: Ctx = { opts, client: await createClient(opts.token, baseURL), baseURL, hostnames, dryRun, tokenValid: false };
  try { ctx.ca = certInfo(opts.caPem, 'workspace CA'); } catch (e) { ctx.caError = e as MtlsError; }
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
  const m = STEP_META[id];
  return { id, leg: m.leg, title: m.title, status, summary, dashboardPath: m.dashboardPath, explanation: m.explanation, plannedCalls: [], ...extra };
}

function action(ctx: Ctx, permission: CloudflarePermission, spec: CallSpec, run: () => Promise<void>): Action {
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
  try {
    const v = await ctx.client.user.tokens.verify();
    if (v.status !== 'active') {
      return { state: baseState('connect', 'error', `The token is ${v.status}.`, { error: { message: `Token status: ${v.status}`, meaning: 'Create a new token or re-enable it under My Profile > API Tokens.' } }), actions: [] };
    }
    ctx.tokenValid = true;
  } catch (err) {
    // Account-owned tokens do not verify at /user/tokens/verify; they verify at /accounts/{id}/tokens/verify,
    // once the zone lookup has told us the account.
    verifyError = err;
  }

  let zone: { id: string; name: string; account: { id?: string; name?: string }; plan?: { name?: string } } | undefined;
  try {
    const page = await ctx.client.zones.list({ name: ctx.opts.zoneName.trim().toLowerCase().replace(/\.$/, '') });
    zone = page.result[0] as typeof zone;
  } catch (err) {
    const e = explainCloudflareError(verifyError ?? err, 'connect', 'Zone Read', ctx.opts.token);
    const missing = !verifyError && isPermissionError(err) ? ['Zone Read' as CloudflarePermission] : undefined;
    return {
      state: baseState('connect', 'error', verifyError ? `The token was not accepted: ${e.message}` : `Cannot look up the zone: ${e.message}`, {
        error: e, missingPermissions: missing, details: [e.meaning],
      }),
      actions: [],
    };
  }
  if (verifyError && zone?.account?.id) {
    try {
      const v = await ctx.client.accounts.tokens.verify({ account_id: zone.account.id });
      ctx.tokenValid = v.status === 'active';
      details.push('Account-owned token (verified against the account).');
    } catch { /* reported below */ }
  }
  if (!ctx.tokenValid) {
    const e = explainCloudflareError(verifyError, 'connect', 'Zone Read', ctx.opts.token);
    return { state: baseState('connect', 'error', `The token was not accepted: ${e.message}`, { error: e, details: [e.meaning] }), actions: [] };
  }
  if (!zone) {
    return {
      state: baseState('connect', 'error', `Zone ${ctx.opts.zoneName} not found.`, {
        missingPermissions: ['Zone Read'],
        error: { message: `No zone named ${ctx.opts.zoneName} is visible to this token.`, meaning: 'Check the zone name, or give the token "Zone Read" on this zone.', permission: 'Zone Read' },
        details: ['Check the zone name, or give the token "Zone Read" on this zone.'],
      }),
      actions: [],
    };
  }
  ctx.zone = { id: zone.id, name: zone.name, accountId: zone.account.id ?? '', accountName: zone.account.name, plan: zone.plan?.name };
  if (ctx.zone.plan && !/enterprise/i.test(ctx.zone.plan)) {
    details.push(`Plan: ${ctx.zone.plan}. Bringing your own CA needs an Enterprise plan; the Cloudflare-managed CA works on every plan.`);
  }
  details.push('Write permissions are confirmed when a step is applied: SSL and Certificates Write, Zone Settings Write, Zone WAF Write.');
  return {
    state: baseState('connect', 'done', `Token active; zone ${zone.name} in account ${zone.account.name ?? zone.account.id}.`, { details }),
    actions: [],
  };
}

// ---- leg 1: upload the CA ------------------------------------------------------------------------------

async function evalUploadCa(ctx: Ctx): Promise<StepEval> {
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
  const existing = await read('SSL and Certificates Write', async () => {
    const page = await ctx.client.mtlsCertificates.list({ account_id: accountId });
    return page.result;
  });
  const cas = existing.filter(c => c.ca !== false);
  const match = cas.find(c => sameCertificate(ca, c));
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
    action(ctx, 'SSL and Certificates Write', {
      method: 'POST', path: `/accounts/${pathSeg(accountId)}/mtls_certificates`, body,
      sdkMethod: 'mtlsCertificates.create', sdkArgs: [{ account_id: accountId, ca: true, certificates: new Ident('caPem'), name }],
      description: 'Upload the workspace CA to the account\'s mTLS certificate store.',
    }, async () => {
      const created = await ctx.client.mtlsCertificates.create({ account_id: accountId, ...body });
      ctx.caId = created.id;
    }),
  ]);
}

// ---- leg 1: hostname associations ---------------------------------------------------------------------

async function evalAssociate(ctx: Ctx): Promise<StepEval> {
  const zoneId = ctx.zone!.id;
  const putAction = (caId: string, hostnames: string[]) => action(ctx, 'SSL and Certificates Write', {
    method: 'PUT', path: `/zones/${pathSeg(zoneId)}/certificate_authorities/hostname_associations`,
    body: { hostnames, mtls_certificate_id: caId },
    sdkMethod: 'certificateAuthorities.hostnameAssociations.update', sdkArgs: [{ zone_id: zoneId, hostnames, mtls_certificate_id: caId }],
    description: 'Associate the hostnames with the CA (the full list: the ones already there plus the new ones).',
  }, async () => {
    // Read again right before the write: the PUT replaces the whole list, so merge with what is there now.
    const id = ctx.caId;
    if (!id) throw new MtlsError('cloudflare-order', 'The CA is not uploaded yet, so no hostname can be associated with it.', 'Apply the "upload-ca" step first.');
    const now = await ctx.client.certificateAuthorities.hostnameAssociations.get({ zone_id: zoneId, mtls_certificate_id: id });
    const merged = mergeHostnames(now.hostnames ?? [], ctx.hostnames);
    await ctx.client.certificateAuthorities.hostnameAssociations.update({ zone_id: zoneId, hostnames: merged, mtls_certificate_id: id });
  });

  if (!ctx.caId) {
    return withActions(baseState('associate-hostnames', 'todo', 'Waiting for the CA upload: then associate ' + ctx.hostnames.join(', ') + '.', {
      details: ['The hostnames are associated once the CA has an id in the mTLS certificate store.'],
    }), [putAction(PLACEHOLDER_CA_ID, ctx.hostnames)]);
  }
  const caId = ctx.caId;
  const current = await read('SSL and Certificates Write', async () =>
    (await ctx.client.certificateAuthorities.hostnameAssociations.get({ zone_id: zoneId, mtls_certificate_id: caId })).hostnames ?? []);
  const missing = ctx.hostnames.filter(h => !current.map(c => c.toLowerCase()).includes(h));
  const others = current.filter(c => !ctx.hostnames.includes(c.toLowerCase()));
  const details = others.length ? [`Also associated with this CA (kept): ${others.join(', ')}.`] : [];
  if (!missing.length) {
    return withActions(baseState('associate-hostnames', 'done', `${ctx.hostnames.join(', ')} ${ctx.hostnames.length > 1 ? 'are' : 'is'} associated with the CA.`, { details }), []);
  }
  const status: StepStatus = missing.length < ctx.hostnames.length ? 'partial' : 'todo';
  details.unshift(`Missing: ${missing.join(', ')}.`);
  return withActions(baseState('associate-hostnames', status, `Associate ${missing.join(', ')} with the CA.`, { details }),
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

function wafExpression(ctx: Ctx, keepHostnames: string[] = []): string {
  let issuerSki: string | undefined;
  if (ctx.opts.pinIssuerSki) {
    issuerSki = ctx.ca?.ski;
    if (!issuerSki) throw new MtlsError('cert-no-ski', 'The workspace CA has no Subject Key Identifier, so the issuer cannot be pinned.', 'Turn off issuer pinning or use a CA with an SKI extension.');
  }
  return buildWafExpression({ hostnames: [...ctx.hostnames, ...keepHostnames], issuerSki, revokedFingerprints: ctx.opts.revokedFingerprints });
}

async function evalWaf(ctx: Ctx): Promise<StepEval> {
  const zoneId = ctx.zone!.id;
  type Ruleset = Awaited<ReturnType<Cloudflare['rulesets']['phases']['get']>>;
  const entry = await read('Zone WAF Write', async () => {
    try {
      return await ctx.client.rulesets.phases.get(WAF_PHASE, { zone_id: zoneId });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }) as Ruleset | undefined;

  const rules = (entry?.rules ?? []) as { id?: string; ref?: string; action?: string; expression?: string; enabled?: boolean; description?: string }[];
  const ours = rules.find(r => r.ref === WAF_RULE_REF);
  // Hostnames our rule already protects stay protected: a run with fewer hostnames never unblocks one.
  const kept = ours?.expression ? hostnamesInExpression(ours.expression).filter(h => !ctx.hostnames.includes(h)) : [];
  let expression: string;
  try {
    expression = wafExpression(ctx, kept);
  } catch (e) {
    return { state: baseState('waf-rule', 'error', (e as Error).message, { error: explainCloudflareError(e) }), actions: [] };
  }
  const rule = { action: 'block' as const, expression, description: WAF_RULE_DESCRIPTION, ref: WAF_RULE_REF, enabled: true };
  const details = [`Expression: ${expression}`, 'Action: block. Other rules in the zone are left as they are.'];
  if (kept.length) details.push(`Also kept in the rule (protected before): ${kept.join(', ')}.`);

  if (!entry) {
    const body = { kind: 'zone' as const, phase: WAF_PHASE as 'http_request_firewall_custom', name: 'default', rules: [rule] };
    return withActions(baseState('waf-rule', 'todo', 'Create the zone\'s custom rules with the mTLS rule.', {
      details: ['The zone has no custom rules yet (no http_request_firewall_custom entrypoint).', ...details],
    }), [
      action(ctx, 'Zone WAF Write', {
        method: 'POST', path: `/zones/${pathSeg(zoneId)}/rulesets`, body,
        sdkMethod: 'rulesets.create', sdkArgs: [{ zone_id: zoneId, ...body }],
        description: 'Create the custom-rules entrypoint ruleset with the rule that requires a client certificate.',
      }, async () => {
        const created = await ctx.client.rulesets.create({ zone_id: zoneId, ...body });
        ctx.rulesetId = (created as { id?: string } | null)?.id;
      }),
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
    return withActions(baseState('waf-rule', 'todo', 'Add the rule that blocks requests without a valid client certificate.', { details }), [
      action(ctx, 'Zone WAF Write', {
        method: 'POST', path: `/zones/${pathSeg(zoneId)}/rulesets/${pathSeg(rulesetId)}/rules`, body: rule,
        sdkMethod: 'rulesets.rules.create', sdkArgs: [rulesetId, { zone_id: zoneId, ...rule }],
        description: 'Add the mTLS rule at the end of the zone\'s custom rules.',
      }, async () => { await ctx.client.rulesets.rules.create(rulesetId, { zone_id: zoneId, ...rule }); }),
    ]);
  }
  const same = normalizeExpression(ours.expression ?? '') === normalizeExpression(expression) && ours.action === 'block' && ours.enabled !== false;
  if (same) return withActions(baseState('waf-rule', 'done', 'The mTLS rule is in place and enabled.', { details }), []);
  const why = ours.enabled === false ? 'is disabled' : ours.action !== 'block' ? `has action ${ours.action}` : 'has a different expression';
  details.unshift(`The rule ${why}; current expression: ${ours.expression}`);
  const rulesetId = entry.id;
  const ruleId = ours.id!;
  return withActions(baseState('waf-rule', 'partial', `Update the mTLS rule (it ${why}).`, { details }), [
    action(ctx, 'Zone WAF Write', {
      method: 'PATCH', path: `/zones/${pathSeg(zoneId)}/rulesets/${pathSeg(rulesetId)}/rules/${pathSeg(ruleId)}`, body: rule,
      sdkMethod: 'rulesets.rules.edit', sdkArgs: [ruleId, { zone_id: zoneId, ruleset_id: rulesetId, ...rule }],
      description: 'Update the mTLS rule in place (found by its ref); other rules are not touched.',
    }, async () => { await ctx.client.rulesets.rules.edit(ruleId, { zone_id: zoneId, ruleset_id: rulesetId, ...rule }); }),
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
    matches = keyMatchesCertificate(ctx.opts.pullKeyPem, ctx.pull);
  } catch (e) {
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
    const setting = await read('Zone Settings Write', () => ctx.client.zones.settings.get('tls_client_auth', { zone_id: zoneId }));
    const details = [
      'Global mode: Cloudflare presents its shared origin-pull certificate; the origin must trust Cloudflare\'s origin-pull CA (next step).',
      'Anyone on Cloudflare can get that certificate presented to your origin by pointing a zone at it; zone or per-hostname mode with your own certificate is stricter.',
    ];
    if ((setting as { value?: unknown }).value === 'on') {
      return withActions(baseState('aop-mode', 'done', 'Authenticated Origin Pulls are on (Cloudflare\'s shared certificate).', { details }), []);
    }
    return withActions(baseState('aop-mode', 'todo', 'Turn on Authenticated Origin Pulls for the zone.', { details }), [
      action(ctx, 'Zone Settings Write', {
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
    const certs = await read('SSL and Certificates Write', async () => (await ctx.client.originTLSClientAuth.zoneCertificates.list({ zone_id: zoneId })).result);
    const enabled = await read('SSL and Certificates Write', async () => (await ctx.client.originTLSClientAuth.settings.get({ zone_id: zoneId })).enabled === true);
    const match = certs.find(c => sameCertificate(pull, c as { certificate?: string; serial_number?: string; issuer?: string }));
    if (match) ctx.pullCertId = match.id;
    const actions: Action[] = [];
    const details = [`Zone-level mode: Cloudflare presents ${pull.subjectCn ?? 'your certificate'} to the origin for every hostname of the zone.`];
    if (match) details.push(`Certificate uploaded (${match.id}${(match as { status?: string }).status ? `, ${(match as { status?: string }).status}` : ''}).`);
    else {
      actions.push(action(ctx, 'SSL and Certificates Write', {
        method: 'POST', path: `/zones/${pathSeg(zoneId)}/origin_tls_client_auth`, body: uploadBody,
        sdkMethod: 'originTLSClientAuth.zoneCertificates.create', sdkArgs: [{ zone_id: zoneId, certificate: new Ident('pullCertPem'), private_key: new Ident('pullKeyPem') }],
        description: 'Upload the origin-pull certificate and key for the zone.',
      }, async () => {
        const created = await ctx.client.originTLSClientAuth.zoneCertificates.create({ zone_id: zoneId, ...uploadBody });
        ctx.pullCertId = created.id;
      }));
    }
    if (!enabled) {
      actions.push(action(ctx, 'SSL and Certificates Write', {
        method: 'PUT', path: `/zones/${pathSeg(zoneId)}/origin_tls_client_auth/settings`, body: { enabled: true },
        sdkMethod: 'originTLSClientAuth.settings.update', sdkArgs: [{ zone_id: zoneId, enabled: true }],
        description: 'Enable zone-level Authenticated Origin Pulls.',
      }, async () => { await ctx.client.originTLSClientAuth.settings.update({ zone_id: zoneId, enabled: true }); }));
    } else details.push('Zone-level AOP is enabled.');
    const status: StepStatus = !actions.length ? 'done' : actions.length === 2 ? 'todo' : 'partial';
    const summary = status === 'done' ? 'Zone-level Authenticated Origin Pulls with your certificate are on.'
      : match ? 'Enable zone-level Authenticated Origin Pulls.' : 'Upload your origin-pull certificate' + (enabled ? '.' : ' and enable zone-level AOP.');
    return withActions(baseState('aop-mode', status, summary, { details }), actions);
  }

  // per-hostname
  const certs = await read('SSL and Certificates Write', async () => (await ctx.client.originTLSClientAuth.hostnameCertificates.list({ zone_id: zoneId })).result);
  const match = certs.find(c => sameCertificate(pull, c));
  if (match) ctx.pullCertId = match.id;
  const bound: string[] = [];
  const needs: string[] = [];
  for (const h of ctx.hostnames) {
    const cfg = await read('SSL and Certificates Write', async () => {
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
    actions.push(action(ctx, 'SSL and Certificates Write', {
      method: 'POST', path: `/zones/${pathSeg(zoneId)}/origin_tls_client_auth/hostnames/certificates`, body: uploadBody,
      sdkMethod: 'originTLSClientAuth.hostnameCertificates.create', sdkArgs: [{ zone_id: zoneId, certificate: new Ident('pullCertPem'), private_key: new Ident('pullKeyPem') }],
      description: 'Upload the origin-pull certificate (a leaf) and key for per-hostname AOP.',
    }, async () => {
      const created = await ctx.client.originTLSClientAuth.hostnameCertificates.create({ zone_id: zoneId, ...uploadBody });
      ctx.pullCertId = created.id;
    }));
  } else details.push(`Certificate uploaded (${match.id}).`);
  if (needs.length) {
    const certId = match?.id ?? PLACEHOLDER_PULL_ID;
    const config = needs.map(hostname => ({ hostname, cert_id: certId, enabled: true }));
    actions.push(action(ctx, 'SSL and Certificates Write', {
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
  const ssl = (await read('Zone Settings Write', () => ctx.client.zones.settings.get('ssl', { zone_id: zoneId })) as { value?: unknown }).value;
  const tls = (await read('Zone Settings Write', () => ctx.client.zones.settings.get('min_tls_version', { zone_id: zoneId })) as { value?: unknown }).value;
  const details = [`SSL/TLS mode: ${ssl}; minimum TLS version: ${tls}.`];
  const actions: Action[] = [];
  if (ssl !== 'strict') {
    if (ssl === 'full') details.push('Full already sends the origin-pull certificate but does not verify the origin\'s certificate; Full (Strict) does.');
    if (ssl === 'flexible' || ssl === 'off') details.push(`With ${ssl}, Cloudflare never opens TLS to the origin, so Authenticated Origin Pulls cannot work.`);
    details.push('Full (Strict) needs a valid certificate on the origin (a public CA or the Cloudflare Origin CA), or visitors get error 526.');
    actions.push(action(ctx, 'Zone Settings Write', {
      method: 'PATCH', path: `/zones/${pathSeg(zoneId)}/settings/ssl`, body: { value: 'strict' },
      sdkMethod: 'zones.settings.edit', sdkArgs: ['ssl', { zone_id: zoneId, value: 'strict' }],
      description: 'Set the SSL/TLS encryption mode to Full (Strict).',
    }, async () => { await ctx.client.zones.settings.edit('ssl', { zone_id: zoneId, value: 'strict' }); }));
  }
  if (typeof tls !== 'string' || Number(tls) < Number(wantTls)) {
    actions.push(action(ctx, 'Zone Settings Write', {
      method: 'PATCH', path: `/zones/${pathSeg(zoneId)}/settings/min_tls_version`, body: { value: wantTls },
      sdkMethod: 'zones.settings.edit', sdkArgs: ['min_tls_version', { zone_id: zoneId, value: wantTls }],
      description: `Raise the minimum TLS version to ${wantTls}.`,
    }, async () => { await ctx.client.zones.settings.edit('min_tls_version', { zone_id: zoneId, value: wantTls }); }));
  }
  const status: StepStatus = !actions.length ? 'done' : actions.length === 2 ? 'todo' : 'partial';
  const summary = status === 'done' ? `Full (Strict), minimum TLS ${tls}.`
    : [ssl !== 'strict' ? 'set Full (Strict)' : '', actions.length === 2 || ssl === 'strict' ? `raise the minimum TLS version to ${wantTls}` : ''].filter(Boolean).join(' and ');
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
  if (id !== 'connect' && NEEDS_API[id] && !ctx.zone) {
    return { state: baseState(id, 'unknown', 'Connect first: the token and zone are needed to read this step.'), actions: [] };
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
  for (const id of STEP_IDS) steps.push((await evaluate(ctx, id)).state);
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
    if (inScope) progress({ step: id, phase: 'start', message: STEP_META[id].title });
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
    if (!actions.length) {
      report.done.push(id);
      progress({ step: id, phase: 'done', message: `Already done: ${state.summary}` });
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
        await a.run();
        report.calls.push({ ...a.call, step: id, ok: true });
      } catch (err) {
        const e = err as { status?: number };
        report.calls.push({ ...a.call, step: id, ok: false, status: typeof e?.status === 'number' ? e.status : undefined });
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
  return id === 'upload-ca' && scope.has('associate-hostnames');
}

/** Cloudflare's IP ranges (GET /ips; no token needed). */
export async function fetchIpRanges(opts: { token?: string; baseURL?: string } = {}): Promise<IpRanges> {
  const client = await createClient(opts.token || undefined, opts.baseURL);
  const result = await client.ips.list({}, opts.token ? undefined : { headers: { Authorization: null } }) as { ipv4_cidrs?: string[]; ipv6_cidrs?: string[]; etag?: string };
  return { ipv4: result.ipv4_cidrs ?? [], ipv6: result.ipv6_cidrs ?? [], etag: result.etag };
}

export type { PerformedCall };
