// The Cloudflare setup guide, inside the webview (browser sandbox, strict CSP: no inline styles or scripts,
// no remote resources). It renders what the extension sends and posts the user's clicks back; it never
// talks to Cloudflare and never sees the API token. Its state (vscode.setState) survives hide and reload.
import type {
  ApplyReport, GuideView, PlannedCall, SetupStatus, StepId, ToExtension, ToWebview, WebviewState, TestLegReport,
} from '../extension/guide/protocol';
import type { StepState } from '../core/cloudflare/types';
import { CA_MODE_LABEL, STATUS_BADGE, STATUS_MARK, STEP_IDS, STEP_META, stepText, type CaMode } from '../core/cloudflare/steps';
import { CHECKS, LEG_SHORT_TITLES, type CheckId, type LegId } from '../core/probe/checks';

interface VsCodeApi {
  postMessage(msg: ToExtension): void;
  getState(): WebviewState | undefined;
  setState(state: WebviewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const state: WebviewState = vscode.getState() ?? {};
let busy: string | undefined;
let live = '';
const openDetails = new Set<string>();

const post = (msg: ToExtension) => vscode.postMessage(msg);
const save = () => vscode.setState(state);

// ------------------------------------------------------------------ static text

// Step numbers, titles, explanations and status words come from the core catalogue (one copy for the
// webview, the status bar, the Certificates view and the CLI).
const NUMBER = Object.fromEntries(STEP_IDS.map(id => [id, STEP_META[id].number])) as Record<StepId, number>;
const BADGE = STATUS_BADGE;
const LEG_MARK = STATUS_MARK;
/** The step's static text for the CA mode in use (before the first read, and as the fallback). */
const text = (id: StepId) => stepText(id, state.view?.caMode ?? 'byo');
const AOP_LABEL = {
  global: ['Global', 'Cloudflare\'s shared origin-pull certificate; the origin trusts Cloudflare\'s origin-pull CA.'],
  zone: ['Zone-level, own certificate', 'A certificate from the workspace store for the whole zone; the origin trusts your CA.'],
  hostname: ['Per hostname, own certificate', 'A certificate from the workspace store bound to each hostname.'],
} as const;

// ------------------------------------------------------------------ DOM helpers

type Child = Node | string | null | undefined | false;
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | undefined> = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/** A real button; `key` lets the focus survive a re-render. */
function button(label: string, key: string, onClick: () => void, opts: { secondary?: boolean; disabled?: boolean; title?: string; expanded?: boolean; controls?: string } = {}) {
  const b = h('button', {
    type: 'button', class: opts.secondary ? 'secondary' : 'primary', 'data-key': key, title: opts.title,
    'aria-expanded': opts.expanded === undefined ? undefined : String(opts.expanded), 'aria-controls': opts.controls,
  }, label);
  b.disabled = !!opts.disabled;
  b.addEventListener('click', onClick);
  return b;
}

function badge(status: StepState['status']) {
  return h('span', { class: `badge badge-${status}`, 'data-status': status }, BADGE[status]);
}

// ------------------------------------------------------------------ pieces

function step(id: StepId): StepState | undefined {
  return state.status?.steps.find(s => s.id === id);
}

function stepStatus(id: StepId): StepState['status'] {
  // Step 7 has no API state: its badge is the last Test Leg run.
  if (id === 'verify' && state.testLeg) return state.testLeg.ok ? 'done' : 'error';
  return step(id)?.status ?? 'unknown';
}

/** True when the last read found no write left to do (steps that failed to read count as work). */
function nothingToApply(): boolean {
  const steps = state.status?.steps;
  return !!steps && steps.every(s => s.status === 'done' || s.status === 'manual' || (s.plannedCalls.length === 0 && s.status !== 'error' && s.status !== 'unknown' && s.status !== 'todo' && s.status !== 'partial'));
}

function canCallApi(): boolean {
  return !!state.view && state.view.missing.length === 0 && !busy;
}

function callList(calls: PlannedCall[], key: string) {
  if (!calls.length) return h('p', { class: 'muted' }, 'No write needed: this step is already in place.');
  return h('ol', { class: 'calls' }, calls.map((c, i) => h('li', {},
    h('p', {}, h('code', { class: 'method' }, c.method), ' ', h('code', {}, c.path), c.description ? ` — ${c.description}` : ''),
    h('details', { 'data-key': `${key}-curl-${i}` }, h('summary', {}, 'curl'), h('pre', { tabindex: '0' }, c.curl)),
    h('details', { 'data-key': `${key}-sdk-${i}` }, h('summary', {}, 'cloudflare SDK'), h('pre', { tabindex: '0' }, c.sdk)),
  )));
}

function stepCard(id: StepId, extra: Child[] = [], opts: { apply?: boolean } = {}) {
  const s = step(id);
  const f = text(id);
  const status = stepStatus(id);
  const title = `${NUMBER[id]}. ${s?.title ?? f.title}`;
  const expanded = state.expanded?.includes(id) ?? false;
  const canApply = opts.apply !== false && canCallApi() && !!state.view?.trusted && status !== 'done' && status !== 'manual';
  const reqId = `req-${id}`;
  return h('article', { class: `step status-${status}`, id: `step-${id}`, 'aria-labelledby': `h-${id}`, 'data-step': id },
    h('div', { class: 'step-head' }, h('h3', { id: `h-${id}` }, title), badge(status)),
    s?.summary ? h('p', { class: 'summary' }, s.summary) : h('p', { class: 'summary muted' }, state.status ? '' : 'Not read yet.'),
    s?.details?.length ? h('ul', { class: 'details' }, s.details.map(d => h('li', {}, d))) : null,
    s?.error ? errorBox(s.error) : null,
    s?.missingPermissions?.length ? h('p', { class: 'warn' }, 'The token lacks: ', s.missingPermissions.join(', '), '.') : null,
    // Done steps keep their explanation one click away, so the checklist stays short.
    status === 'done'
      ? h('details', { class: 'why', 'data-key': `why-${id}` }, h('summary', {}, 'Why, and where in the dashboard'),
        h('p', { class: 'explanation' }, s?.explanation ?? f.explanation),
        h('p', { class: 'dashboard' }, 'Dashboard: ', h('span', { class: 'path' }, s?.dashboardPath ?? f.dashboardPath)))
      : [h('p', { class: 'explanation' }, s?.explanation ?? f.explanation),
        h('p', { class: 'dashboard' }, 'Dashboard: ', h('span', { class: 'path' }, s?.dashboardPath ?? f.dashboardPath))],
    ...extra,
    opts.apply === false ? null : h('div', { class: 'actions' },
      button(status === 'done' ? 'Applied' : 'Apply', `apply-${id}`, () => post({ type: 'apply', step: id }), { disabled: !canApply, secondary: status === 'done', title: status === 'done' ? 'Already in place: nothing to write' : undefined }),
      button(expanded ? 'Hide request' : 'Show request', `req-${id}`, () => toggleRequest(id), { secondary: true, expanded, controls: reqId }),
    ),
    expanded ? h('div', { class: 'request', id: reqId, role: 'region', 'aria-label': `Requests for step ${NUMBER[id]}` },
      h('p', { class: 'muted' }, 'The token is shown as $CLOUDFLARE_API_TOKEN; set it in your shell to run these yourself.'),
      callList(s?.plannedCalls ?? [], `req-${id}`)) : null,
  );
}

function toggleRequest(id: StepId) {
  const set = new Set(state.expanded ?? []);
  if (set.has(id)) set.delete(id);
  else { set.add(id); post({ type: 'showRequest', step: id }); }
  state.expanded = [...set];
  save();
  render();
}

/** Headline per kind of failure: not reaching the API is not the token's fault, and says so. */
const ERROR_KIND: Record<string, string> = {
  network: 'Cannot reach the Cloudflare API', timeout: 'Cannot reach the Cloudflare API (timed out)', auth: 'The token was not accepted',
  permission: 'The token lacks a permission', 'unknown-outcome': 'Outcome not known',
};

function errorBox(e: { code?: number; message: string; meaning?: string; kind?: string }) {
  const head = e.kind && ERROR_KIND[e.kind] ? `${ERROR_KIND[e.kind]}: ` : e.code !== undefined ? `Cloudflare error ${e.code}: ` : 'Error: ';
  return h('div', { class: 'error', role: 'alert', 'data-kind': e.kind },
    h('p', {}, h('strong', {}, head), e.message),
    e.meaning ? h('p', {}, e.meaning) : null);
}

function row(label: string, value: Child | Child[], ...actions: Child[]) {
  return h('div', { class: 'row' }, h('span', { class: 'label' }, label), h('span', { class: 'value' }, value), h('span', { class: 'row-actions' }, actions));
}

function connectSection(v: GuideView) {
  const s = state.status;
  const zone = s?.zone;
  return h('section', { 'aria-labelledby': 'h-connect', id: 'step-connect', class: `step status-${stepStatus('connect')}`, 'data-step': 'connect' },
    h('div', { class: 'step-head' }, h('h2', { id: 'h-connect' }, '0. Connect'), badge(stepStatus('connect'))),
    step('connect')?.summary ? h('p', { class: 'summary' }, step('connect')!.summary) : null,
    step('connect')?.error ? errorBox(step('connect')!.error!) : null,
    h('div', { class: 'rows' },
      row('API token', h('span', { 'data-field': 'token' }, v.token === 'set' ? (s ? (s.tokenValid ? 'set, verified' : 'set, not valid') : 'set') : 'not set'),
        button(v.token === 'set' ? 'Replace token…' : 'Set token…', 'set-token', () => post({ type: 'setToken' }), { secondary: v.token === 'set' }),
        v.token === 'set' ? button('Clear', 'clear-token', () => post({ type: 'clearToken' }), { secondary: true }) : null),
      row('Zone', [v.zone || h('em', {}, 'not set'), zone ? h('span', { class: 'muted' }, ` (${zone.id}${zone.plan ? `, ${zone.plan}` : ''}${zone.accountName ? `, account ${zone.accountName}` : ''})`) : ''],
        button('Change…', 'edit-zone', () => post({ type: 'editZone' }), { secondary: true })),
      row('Hostnames', v.hostnames.length ? v.hostnames.join(', ') : h('em', {}, 'not set'),
        button('Edit…', 'edit-hostnames', () => post({ type: 'editHostnames' }), { secondary: true })),
      v.caMode === 'managed' ? null : row('Workspace CA', v.ca ? [v.ca.name, v.ca.fingerprint ? h('span', { class: 'muted fp' }, ` SHA-256 ${v.ca.fingerprint.slice(0, 23)}…`) : '']
        : h('em', {}, v.caMissing ? `"${v.caMissing}" is not in the store` : v.caCount ? 'choose one' : 'the store has no CA yet'),
        button(v.caCount ? 'Choose…' : 'Create…', 'choose-ca', () => post({ type: 'chooseCa' }), { secondary: true })),
      row('API', h('code', {}, v.apiBase)),
    ),
    s?.missingPermissions.length ? h('p', { class: 'warn' }, 'The token lacks: ', s.missingPermissions.join(', '),
      '. Edit the token in My Profile > API Tokens and add them.') : null,
  );
}

/** Leg 1's CA: the Cloudflare-managed CA (any plan) or your own (Enterprise), preselected from the plan. */
function caModeExtra(v: GuideView): Child[] {
  const disabled = !!busy;
  const group = h('fieldset', { class: 'ca-mode' }, h('legend', {}, 'Certificate authority for client certificates'),
    (['managed', 'byo'] as CaMode[]).map(mode => {
      const id = `ca-mode-${mode}`;
      const input = h('input', { type: 'radio', name: 'ca-mode', id, value: mode, 'data-key': id });
      input.checked = v.caMode === mode;
      input.disabled = disabled;
      input.addEventListener('change', () => { if (input.checked) post({ type: 'setCaMode', mode }); });
      return h('div', { class: 'radio' }, input, h('label', { for: id }, h('strong', {}, CA_MODE_LABEL[mode].label), ' — ', CA_MODE_LABEL[mode].detail));
    }));
  const plan = v.plan ? `Plan: ${v.plan}.` : '';
  const why = v.caModeFromPlan ? (v.ownCaAllowed === false ? ' Preselected: this plan cannot upload its own CA.' : v.ownCaAllowed ? ' Preselected from the plan.' : '') : '';
  const warn = v.caMode === 'byo' && v.ownCaAllowed === false
    ? h('p', { class: 'warn' }, 'Your own CA needs an Enterprise plan: step 0 stops here before any write. Choose the Cloudflare-managed CA.') : null;
  const issue = v.caMode === 'managed' ? h('div', { class: 'actions' },
    button('Issue a client certificate…', 'issue-managed', () => post({ type: 'issueManagedCert' }), { secondary: true, disabled: disabled || !canCallApi() || !v.trusted, title: 'The key and CSR are made here; Cloudflare signs the CSR' })) : null;
  return [group, plan || why ? h('p', { class: 'muted' }, plan + why) : null, warn, issue];
}

function aopExtra(v: GuideView): Child[] {
  const disabled = !!busy;
  const group = h('fieldset', { class: 'aop' }, h('legend', {}, 'Mode'),
    (['global', 'zone', 'hostname'] as const).map(mode => {
      const id = `aop-${mode}`;
      const input = h('input', { type: 'radio', name: 'aop', id, value: mode, 'data-key': id });
      input.checked = v.aopMode === mode;
      input.disabled = disabled;
      input.addEventListener('change', () => { if (input.checked) post({ type: 'setAopMode', mode }); });
      return h('div', { class: 'radio' }, input, h('label', { for: id }, h('strong', {}, AOP_LABEL[mode][0]), ' — ', AOP_LABEL[mode][1]));
    }));
  const pull = v.aopMode === 'global' ? null : row('Origin-pull certificate',
    v.pullCert ? [v.pullCert.name, v.pullCert.notAfter ? h('span', { class: 'muted' }, ` (until ${v.pullCert.notAfter.slice(0, 10)})`) : ''] : h('em', {}, 'none in the store'),
    button(v.pullCert ? 'Choose…' : 'Issue or choose…', 'choose-pull', () => post({ type: 'choosePullCert' }), { secondary: true, disabled }));
  const older = step('aop-mode')?.details?.some(d => /--replace-old/.test(d)) && v.aopMode === 'zone';
  const replace = older ? h('div', { class: 'actions' },
    button('Remove the older certificate…', 'replace-old-pull', () => post({ type: 'replaceOldPullCert' }), { secondary: true, disabled: disabled || !canCallApi() || !v.trusted, title: 'Asks first; only once your new certificate is active' })) : null;
  return [group, pull ? h('div', { class: 'rows' }, pull) : null, replace];
}

function originExtra(v: GuideView): Child[] {
  const m = step('origin-config')?.manual;
  const server = v.originServer;
  const snippet = m?.[server];
  const group = h('fieldset', { class: 'inline' }, h('legend', {}, 'Origin server'),
    ([['nginx', 'nginx'], ['apache', 'Apache'], ['caddy', 'Caddy'], ['haproxy', 'HAProxy']] as const).map(([s, label]) => {
      const id = `srv-${s}`;
      const input = h('input', { type: 'radio', name: 'srv', id, value: s, 'data-key': id });
      input.checked = server === s;
      input.addEventListener('change', () => { if (input.checked) post({ type: 'setOriginServer', server: s }); });
      return h('span', { class: 'radio' }, input, h('label', { for: id }, label));
    }));
  return [
    group,
    m?.caFileName ? h('p', {}, 'CA file to install on the origin: ', h('code', {}, m.caFileName)) : null,
    m?.note ? h('p', { class: 'muted' }, m.note) : null,
    snippet ? h('pre', { class: 'snippet', tabindex: '0', 'aria-label': `${server} configuration` }, snippet) : h('p', { class: 'muted' }, 'The configuration appears once the status is read.'),
    h('div', { class: 'actions' },
      button('Insert into open config', 'insert-config', () => post({ type: 'insertOriginConfig', server }), { disabled: !snippet || !!busy }),
      button('Copy', 'copy-config', () => post({ type: 'copyOriginConfig', server }), { secondary: true, disabled: !snippet }),
      button('Open CA file', 'open-ca', () => post({ type: 'openCaFile' }), { secondary: true, disabled: !m?.caPem })),
  ];
}

function sslExtra(v: GuideView): Child[] {
  return [h('p', { class: 'muted' }, `Target: SSL/TLS mode Full (strict), minimum TLS version ${v.minTlsVersion}. `,
    h('strong', {}, `The mode is zone-wide: it applies to every hostname of ${v.zone || 'the zone'}.`), ' A stricter mode already set is kept.')];
}

function testLegResult(r: TestLegReport) {
  return h('div', { class: 'testleg', 'data-ok': String(r.ok) },
    r.legs.map(l => h('div', { class: 'leg-result' },
      h('h4', {}, `${LEG_SHORT_TITLES[l.leg as LegId] ?? l.leg}: `, h('span', { class: `badge badge-${l.ok ? 'done' : 'error'}` }, l.ok ? 'Pass' : 'Fail')),
      l.target ? h('p', { class: 'muted' }, `Target: ${l.target}`) : null,
      h('ul', { class: 'checks' }, l.checks.map(c => h('li', { 'data-check': c.id },
        h('span', { class: `check check-${c.status}` }, c.status), ' ', h('strong', {}, c.title ?? CHECKS[c.id as CheckId]?.title ?? c.id), c.detail ? ` — ${c.detail}` : '',
        c.ms !== undefined ? h('span', { class: 'muted' }, ` (${c.ms} ms)`) : '',
        c.fix ? h('div', { class: 'fix' }, `Fix: ${c.fix}`) : null))))));
}

function verifyExtra(v: GuideView): Child[] {
  return [
    h('div', { class: 'actions' },
      button('Run Test Leg', 'run-testleg', () => post({ type: 'runTestLeg', legs: 'both' }), { disabled: !v.testLegAvailable || !v.trusted || !!busy, title: v.testLegAvailable ? undefined : 'The Test Leg command is not available' }),
      button(`${LEG_SHORT_TITLES.leg1} only`, 'run-testleg-1', () => post({ type: 'runTestLeg', legs: 'leg1' }), { secondary: true, disabled: !v.testLegAvailable || !v.trusted || !!busy }),
      button(`${LEG_SHORT_TITLES.leg2} only`, 'run-testleg-2', () => post({ type: 'runTestLeg', legs: 'leg2' }), { secondary: true, disabled: !v.testLegAvailable || !v.trusted || !!busy })),
    state.testLegError ? h('div', { class: 'error', role: 'alert' }, h('p', {}, state.testLegError)) : null,
    state.testLeg ? testLegResult(state.testLeg) : null,
  ];
}

function ipSection() {
  return h('section', { 'aria-labelledby': 'h-ips', class: 'ips' },
    h('h2', { id: 'h-ips' }, 'Cloudflare IP ranges'),
    h('p', {}, 'Let only Cloudflare reach the origin: an allowlist from the current ranges (GET /ips), opened in a new editor. ',
      '"nginx real IP" restores visitor addresses in the logs instead (set_real_ip_from).'),
    h('div', { class: 'actions' },
      ([['nginx', 'nginx allow'], ['apache', 'Apache Require ip'], ['ufw', 'ufw'], ['iptables', 'iptables'], ['nginx-realip', 'nginx real IP']] as const)
        .map(([f, label]) => button(label, `ips-${f}`, () => post({ type: 'openAllowlist', format: f }), { secondary: true, disabled: !!busy || !state.view?.trusted }))));
}

function dryRunSection() {
  const d = state.dryRun;
  if (!d) return null;
  return h('section', { 'aria-labelledby': 'h-dry', class: 'panel dryrun' },
    h('h2', { id: 'h-dry' }, 'Dry run: the calls "Apply all missing" makes'),
    d.calls.length ? h('p', {}, `${d.calls.length} write(s) for step(s) ${d.steps.map(s => `${NUMBER[s]}`).join(', ') || '—'}. `,
      d.pending ? 'Confirm in the dialog to send them.' : 'Not sent.') : h('p', {}, 'Nothing to write: everything the API can do is done.'),
    callList(d.calls, 'dry'),
    d.pending ? null : h('div', { class: 'actions' }, button('Dismiss', 'dismiss-dry', () => { state.dryRun = undefined; save(); render(); }, { secondary: true })));
}

function reportSection() {
  const r = state.report;
  if (!r) return null;
  const name = (id: StepId) => `${NUMBER[id]}. ${step(id)?.title ?? text(id).title}`;
  return h('section', { 'aria-labelledby': 'h-report', class: `panel report ${r.ok ? 'ok' : 'failed'}`, id: 'report', 'data-ok': String(r.ok) },
    h('h2', { id: 'h-report' }, r.dryRun ? 'Dry run' : r.ok ? 'Applied' : 'Stopped after a failure'),
    h('h3', {}, 'Done'), r.done.length ? h('ul', {}, r.done.map(s => h('li', {}, name(s)))) : h('p', { class: 'muted' }, 'Nothing.'),
    r.failed ? [h('h3', {}, 'Failed'), h('div', { class: 'failed-step', 'data-step': r.failed.step }, h('p', {}, h('strong', {}, name(r.failed.step))), errorBox(r.failed.error))] : null,
    h('h3', {}, 'Left to do'), r.remaining.length ? h('ul', {}, r.remaining.map(s => h('li', {}, name(s)))) : h('p', { class: 'muted' }, 'Nothing.'),
    r.calls.length ? [h('h3', {}, 'Calls sent'), h('ul', { class: 'sent' }, r.calls.map(c => h('li', { class: c.ok ? 'ok' : 'failed' },
      `${c.ok ? '✓' : c.outcomeUnknown ? '?' : '✗'} ${c.method} ${c.path}`,
      c.confirmedAfterError ? ' (the answer was lost; a re-read found the result: not sent again)' : '',
      c.outcomeUnknown ? ' (outcome not known: refresh before applying again)' : '')))] : null,
    h('div', { class: 'actions' }, button('Dismiss', 'dismiss-report', () => { state.report = undefined; save(); render(); }, { secondary: true })));
}

// ------------------------------------------------------------------ page

function render() {
  const root = document.getElementById('app')!;
  const focusedKey = (document.activeElement as HTMLElement | null)?.dataset?.key;
  const v = state.view;
  root.replaceChildren();
  const s: SetupStatus | undefined = state.status;
  const legs = s?.legs;
  root.append(
    h('header', {},
      h('h1', {}, 'Cloudflare mTLS setup'),
      h('p', { class: 'intro' }, 'Both legs as one checklist. Each step reads the live state first; Apply only writes what is missing, and never removes your rules or hostnames.'),
      h('div', { class: 'legs', 'aria-label': 'Legs at a glance' },
        h('span', { class: `leg leg-${legs?.[1] ?? 'unknown'}`, 'data-leg': '1' }, `${LEG_SHORT_TITLES.leg1} (visitor → Cloudflare) ${LEG_MARK[legs?.[1] ?? 'unknown']}`),
        h('span', { class: `leg leg-${legs?.[2] ?? 'unknown'}`, 'data-leg': '2' }, `${LEG_SHORT_TITLES.leg2} (Cloudflare → origin) ${LEG_MARK[legs?.[2] ?? 'unknown']}`),
        s ? h('span', { class: 'muted' }, `read ${new Date(s.readAt).toLocaleTimeString()}`) : null),
      h('div', { class: 'actions toolbar' },
        button('Refresh', 'refresh', () => post({ type: 'refresh' }), { secondary: true, disabled: !!busy || !v || v.missing.length > 0 }),
        button('Dry run', 'dry-run', () => post({ type: 'dryRun' }), {
          secondary: true, disabled: !canCallApi() || !v?.trusted, title: 'List the exact calls "Apply all missing" would send, without sending them',
        }),
        button('Apply all missing…', 'apply-all', () => post({ type: 'applyAll' }), {
          disabled: !canCallApi() || !v?.trusted || nothingToApply(),
          title: nothingToApply() ? 'Everything the API can do is done' : 'Shows the exact calls first, then asks',
        }))),
    h('div', { id: 'live', class: 'live', role: 'status', 'aria-live': 'polite' }, live),
  );
  if (!v) {
    root.append(h('p', {}, 'Loading…'));
    restoreFocus(focusedKey);
    return;
  }
  if (!v.trusted) {
    root.append(h('div', { class: 'banner', role: 'note' },
      h('p', {}, 'This workspace is not trusted. The guide does not call Cloudflare here: reading the live state sends your API token, and applying changes your zone.'),
      button('Manage Workspace Trust', 'trust', () => post({ type: 'manageTrust' }), { secondary: true })));
  } else if (v.missing.length) {
    const what: Record<string, string> = { token: 'an API token', zone: 'the zone', hostnames: 'the hostnames', ca: 'a workspace CA (or choose the Cloudflare-managed CA)', pullCert: 'an origin-pull certificate (step 4)', trust: 'workspace trust' };
    root.append(h('div', { class: 'banner', role: 'note' }, h('p', {}, `To read the live state, set ${v.missing.map(m => what[m]).join(', ')}.`)));
  }
  if (state.statusError) root.append(errorBox(state.statusError));
  root.append(
    dryRunSection() ?? '',
    reportSection() ?? '',
    connectSection(v),
    h('div', { class: 'legs-grid' },
    h('section', { 'aria-labelledby': 'h-leg1', class: 'leg-section' },
      h('h2', { id: 'h-leg1' }, 'Leg 1 — visitor → Cloudflare: only clients with a certificate from your CA'),
      stepCard('upload-ca', caModeExtra(v)), stepCard('associate-hostnames'), stepCard('waf-rule')),
    h('section', { 'aria-labelledby': 'h-leg2', class: 'leg-section' },
      h('h2', { id: 'h-leg2' }, 'Leg 2 — Cloudflare → origin: only Cloudflare reaches the origin'),
      stepCard('aop-mode', aopExtra(v)), stepCard('origin-config', originExtra(v), { apply: false }),
      stepCard('ssl-mode', sslExtra(v)), stepCard('verify', verifyExtra(v), { apply: false }))),
    ipSection(),
  );
  for (const b of root.querySelectorAll<HTMLButtonElement>('button')) if (busy && b.dataset.key !== 'trust') b.disabled = true;
  // Expanded <details> (curl, SDK, "why") stay expanded across re-renders.
  for (const d of root.querySelectorAll<HTMLDetailsElement>('details[data-key]')) {
    const key = d.dataset.key!;
    if (openDetails.has(key)) d.open = true;
    d.addEventListener('toggle', () => { if (d.open) openDetails.add(key); else openDetails.delete(key); });
  }
  restoreFocus(focusedKey);
}

function restoreFocus(key: string | undefined) {
  if (!key) return;
  const el = document.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`);
  if (el && !(el as HTMLButtonElement).disabled) el.focus();
}

function announce(text: string) {
  live = text;
  const el = document.getElementById('live');
  if (el) el.textContent = text;
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  if (!m || typeof m !== 'object') return;
  switch (m.type) {
    case 'view': state.view = m.view; break;
    case 'status':
      state.status = m.status;
      state.statusError = m.error;
      if (m.status) announce(`Status read: leg 1 ${BADGE[m.status.legs[1]]}, leg 2 ${BADGE[m.status.legs[2]]}.`);
      else if (m.error) announce(`Could not read the status: ${m.error.message}`);
      break;
    case 'busy': busy = m.busy; if (m.busy) announce(m.busy); break;
    case 'progress': announce(m.message); return; // no re-render: keep focus and scroll where they are
    case 'dryRun': state.dryRun = { steps: m.steps, calls: m.calls, pending: m.pending }; announce(`Dry run: ${m.calls.length} call(s) planned.`); break;
    case 'applyReport':
      state.report = m.report;
      state.dryRun = undefined;
      announce(m.report.ok ? `Applied: ${m.report.done.length} step(s) done.` : `Failed at step ${NUMBER[m.report.failed?.step ?? 'connect']}: ${m.report.failed?.error.message ?? ''}`);
      break;
    case 'request': {
      const s = step(m.step);
      if (s) s.plannedCalls = m.calls;
      break;
    }
    case 'testLeg':
      state.testLeg = m.report;
      state.testLegError = m.error;
      announce(m.report ? `Test Leg: ${m.report.ok ? 'pass' : 'fail'}.` : `Test Leg failed to run: ${m.error}`);
      break;
    case 'notice': announce(m.text); return;
    default: return;
  }
  save();
  render();
});

render();
post({ type: 'ready' });
