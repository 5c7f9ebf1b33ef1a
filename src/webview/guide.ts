// The Cloudflare setup guide, inside the webview (browser sandbox, strict CSP: no inline styles or scripts,
// no remote resources). It renders what the extension sends and posts the user's clicks back; it never
// talks to Cloudflare and never sees the API token. Its state (vscode.setState) survives hide and reload.
import type {
  ApplyReport, GuideView, PlannedCall, SetupStatus, StepId, ToExtension, ToWebview, WebviewState, TestLegReport,
} from '../extension/guide/protocol';
import type { StepState, StepStatus } from '../core/cloudflare/types';

interface VsCodeApi {
  postMessage(msg: ToExtension): void;
  getState(): WebviewState | undefined;
  setState(state: WebviewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
let state: WebviewState = vscode.getState() ?? {};
let busy: string | undefined;
let live = '';
const openDetails = new Set<string>();

const post = (msg: ToExtension) => vscode.postMessage(msg);
const save = () => vscode.setState(state);

// ------------------------------------------------------------------ static text

const NUMBER: Record<StepId, number> = {
  'connect': 0, 'upload-ca': 1, 'associate-hostnames': 2, 'waf-rule': 3, 'aop-mode': 4, 'origin-config': 5, 'ssl-mode': 6, 'verify': 7,
};
const FALLBACK: Record<StepId, { leg: 0 | 1 | 2; title: string; explanation: string; dashboardPath: string }> = {
  'connect': { leg: 0, title: 'Connect to Cloudflare', dashboardPath: 'My Profile > API Tokens', explanation: 'An API token with Zone Read, SSL and Certificates Write, Zone Settings Write and Zone WAF Write.' },
  'upload-ca': { leg: 1, title: 'Upload the workspace CA', dashboardPath: 'SSL/TLS > Client Certificates', explanation: 'Cloudflare verifies client certificates against CAs in the account\'s mTLS certificate store.' },
  'associate-hostnames': { leg: 1, title: 'Associate the hostnames with the CA', dashboardPath: 'SSL/TLS > Client Certificates > Hosts', explanation: 'An uploaded CA does nothing until a hostname association names it.' },
  'waf-rule': { leg: 1, title: 'Enforce with a WAF custom rule', dashboardPath: 'Security > WAF > Custom rules', explanation: 'Without a rule every visitor still gets through: the rule blocks requests without a verified client certificate.' },
  'aop-mode': { leg: 2, title: 'Authenticated Origin Pulls', dashboardPath: 'SSL/TLS > Origin Server > Authenticated Origin Pulls', explanation: 'Cloudflare presents a client certificate to the origin, so the origin can refuse anyone else.' },
  'origin-config': { leg: 2, title: 'Configure the origin', dashboardPath: '(your origin server)', explanation: 'The origin must require and verify the origin-pull certificate.' },
  'ssl-mode': { leg: 2, title: 'SSL/TLS Full (strict) and minimum TLS version', dashboardPath: 'SSL/TLS > Overview', explanation: 'Authenticated Origin Pulls need Full or Full (strict); Flexible and Off never send the client certificate.' },
  'verify': { leg: 2, title: 'Verify both legs', dashboardPath: '(Test Leg)', explanation: 'Run Test Leg: leg 1 must refuse a request without a client certificate, leg 2 must refuse a direct request to the origin.' },
};
const STEPS = Object.keys(NUMBER) as StepId[];
const BADGE: Record<StepStatus, string> = { done: 'Done', todo: 'To do', partial: 'Partial', error: 'Error', unknown: 'Unknown', manual: 'Manual' };
const LEG_MARK: Record<StepStatus, string> = { done: '✓', todo: '✗', partial: '◐', error: '!', unknown: '?', manual: '…' };
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

function badge(status: StepStatus) {
  return h('span', { class: `badge badge-${status}`, 'data-status': status }, BADGE[status]);
}

// ------------------------------------------------------------------ pieces

function step(id: StepId): StepState | undefined {
  return state.status?.steps.find(s => s.id === id);
}

function stepStatus(id: StepId): StepStatus {
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
  const f = FALLBACK[id];
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

function errorBox(e: { code?: number; message: string; meaning?: string }) {
  return h('div', { class: 'error', role: 'alert' },
    h('p', {}, h('strong', {}, e.code !== undefined ? `Cloudflare error ${e.code}: ` : 'Error: '), e.message),
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
      row('Workspace CA', v.ca ? [v.ca.name, v.ca.fingerprint ? h('span', { class: 'muted fp' }, ` SHA-256 ${v.ca.fingerprint.slice(0, 23)}…`) : '']
        : h('em', {}, v.caMissing ? `"${v.caMissing}" is not in the store` : v.caCount ? 'choose one' : 'the store has no CA yet'),
        button(v.caCount ? 'Choose…' : 'Create…', 'choose-ca', () => post({ type: 'chooseCa' }), { secondary: true })),
      row('API', h('code', {}, v.apiBase)),
    ),
    s?.missingPermissions.length ? h('p', { class: 'warn' }, 'The token lacks: ', s.missingPermissions.join(', '),
      '. Edit the token in My Profile > API Tokens and add them.') : null,
  );
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
  return [group, pull ? h('div', { class: 'rows' }, pull) : null];
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
  return [h('p', { class: 'muted' }, `Target: SSL/TLS mode Full (strict), minimum TLS version ${v.minTlsVersion}.`)];
}

function testLegResult(r: TestLegReport) {
  return h('div', { class: 'testleg', 'data-ok': String(r.ok) },
    r.legs.map(l => h('div', { class: 'leg-result' },
      h('h4', {}, `${l.leg === 'leg1' ? 'Leg 1' : l.leg === 'leg2' ? 'Leg 2' : l.leg}: `, h('span', { class: `badge badge-${l.ok ? 'done' : 'error'}` }, l.ok ? 'Pass' : 'Fail')),
      l.target ? h('p', { class: 'muted' }, `Target: ${l.target}`) : null,
      h('ul', { class: 'checks' }, l.checks.map(c => h('li', { 'data-check': c.id },
        h('span', { class: `check check-${c.status}` }, c.status), ' ', h('strong', {}, c.title ?? c.id), c.detail ? ` — ${c.detail}` : '',
        c.ms !== undefined ? h('span', { class: 'muted' }, ` (${c.ms} ms)`) : '',
        c.fix ? h('div', { class: 'fix' }, `Fix: ${c.fix}`) : null))))));
}

function verifyExtra(v: GuideView): Child[] {
  return [
    h('div', { class: 'actions' },
      button('Run Test Leg', 'run-testleg', () => post({ type: 'runTestLeg', legs: 'both' }), { disabled: !v.testLegAvailable || !v.trusted || !!busy, title: v.testLegAvailable ? undefined : 'The Test Leg command is not available' }),
      button('Leg 1 only', 'run-testleg-1', () => post({ type: 'runTestLeg', legs: 'leg1' }), { secondary: true, disabled: !v.testLegAvailable || !v.trusted || !!busy }),
      button('Leg 2 only', 'run-testleg-2', () => post({ type: 'runTestLeg', legs: 'leg2' }), { secondary: true, disabled: !v.testLegAvailable || !v.trusted || !!busy })),
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
  const name = (id: StepId) => `${NUMBER[id]}. ${step(id)?.title ?? FALLBACK[id].title}`;
  return h('section', { 'aria-labelledby': 'h-report', class: `panel report ${r.ok ? 'ok' : 'failed'}`, id: 'report', 'data-ok': String(r.ok) },
    h('h2', { id: 'h-report' }, r.dryRun ? 'Dry run' : r.ok ? 'Applied' : 'Stopped after a failure'),
    h('h3', {}, 'Done'), r.done.length ? h('ul', {}, r.done.map(s => h('li', {}, name(s)))) : h('p', { class: 'muted' }, 'Nothing.'),
    r.failed ? [h('h3', {}, 'Failed'), h('div', { class: 'failed-step', 'data-step': r.failed.step }, h('p', {}, h('strong', {}, name(r.failed.step))), errorBox(r.failed.error))] : null,
    h('h3', {}, 'Left to do'), r.remaining.length ? h('ul', {}, r.remaining.map(s => h('li', {}, name(s)))) : h('p', { class: 'muted' }, 'Nothing.'),
    r.calls.length ? [h('h3', {}, 'Calls sent'), h('ul', { class: 'sent' }, r.calls.map(c => h('li', { class: c.ok ? 'ok' : 'failed' }, `${c.ok ? '✓' : '✗'} ${c.method} ${c.path}`)))] : null,
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
        h('span', { class: `leg leg-${legs?.[1] ?? 'unknown'}`, 'data-leg': '1' }, `Leg 1 (visitor → Cloudflare) ${LEG_MARK[legs?.[1] ?? 'unknown']}`),
        h('span', { class: `leg leg-${legs?.[2] ?? 'unknown'}`, 'data-leg': '2' }, `Leg 2 (Cloudflare → origin) ${LEG_MARK[legs?.[2] ?? 'unknown']}`),
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
    const what: Record<string, string> = { token: 'an API token', zone: 'the zone', hostnames: 'the hostnames', ca: 'a workspace CA', pullCert: 'an origin-pull certificate (step 4)', trust: 'workspace trust' };
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
      stepCard('upload-ca'), stepCard('associate-hostnames'), stepCard('waf-rule')),
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
