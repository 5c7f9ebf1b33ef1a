// Test Leg in VS Code: "mTLS: Test Leg..." runs the probes of src/core/probe for Leg 1, Leg 2 or
// both, shows them in the Test Explorer (a leg is a test, each check a child, failures carry the
// explanation and the fix), writes a readable report to the log, and offers the fix for failures.
// The setup guide calls the same command with `{ legs }` and gets the report back.
import * as vscode from 'vscode';
import { describeError, MtlsError, UserCancelled } from '../../core/errors';
import { registerMtlsCommand } from '../commands';
import type { CheckId, CheckResult, FixAction, LegId, LegReport, LegSelection, ProbeOptions, ProbeReport } from '../../core/probe/types';
import { CHECKS, checksOf, FIX_LABELS, LEG_SHORT_TITLES, LEG_TITLES } from '../../core/probe/checks';
import { requireTrust, Shared } from '../context';
import {
  asker, askAndSave, configuredHostname, loadCredentialFor, openWorkspaceSettings, readPemFile, setting, TestLegArgs, validateAddress,
} from './inputs';
import { askForInput, SYSTEM_ROOTS_KEY } from './askInput';
import { LocalEdge, registerLocalEdge } from './localEdge';
import { noteTestLegReport } from '../walkthrough';

export type { TestLegArgs } from './inputs';

// The catalogue is dependency-free: importing it does not load the probes at activation.
const LEGS = (['leg1', 'leg2'] as const).map(id => ({ id, label: LEG_TITLES[id], checks: checksOf(id).map(c => [c, CHECKS[c].title] as const) }));

export type Outcome = 'passed' | 'failed' | 'skipped' | 'errored' | 'queued' | 'not-run';

/** One row of the Test Explorer as the last run left it (tests read it from the command's result). */
export interface ExplorerRow {
  id: string;
  label: string;
  description?: string;
  outcome: Outcome;
  message?: string;
  durationMs?: number;
  children?: ExplorerRow[];
}

export interface TestLegResult extends ProbeReport {
  /** The Test Explorer's items after the run. */
  explorer: ExplorerRow[];
  /** Labels of the fix actions offered for the failures. */
  actions: string[];
}

export interface TestLegApi {
  run(args?: TestLegArgs): Promise<TestLegResult | undefined>;
  readonly controller: vscode.TestController;
  readonly edge: LocalEdge;
  explorerRows(): ExplorerRow[];
  /** This extension's log folder (the report goes to the "mTLS Workbench" log there). */
  readonly logUri: vscode.Uri;
  /** What Test Leg asks a person; tests answer through it. */
  readonly asker: typeof asker;
  /** What "Open Settings" filters the workspace settings to for a report: the setting a failure names, else mtls.* */
  settingsQueryFor(report: ProbeReport): string;
}

interface FixOffer { label: string; run: () => Thenable<unknown> }

/**
 * Text with `code` spans: the spans become inline code, everything else is escaped. (appendText would
 * turn every space into &nbsp;, and long explanations would not wrap in the Test Results view.)
 */
function appendRich(md: vscode.MarkdownString, text: string): vscode.MarkdownString {
  text.split(/(`[^`]+`)/).forEach(part => {
    if (/^`[^`]+`$/.test(part)) md.appendMarkdown(part);
    else if (part) md.appendMarkdown(part.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, '\\$&').replace(/\n/g, '\n\n'));
  });
  return md;
}

function markdownFor(c: CheckResult): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${c.title}** \`${c.id}\`\n\n`);
  appendRich(md, c.detail);
  if (c.explanation) appendRich(md.appendMarkdown('\n\n**Why:** '), c.explanation);
  if (c.fix) appendRich(md.appendMarkdown('\n\n**Fix:** '), c.fix);
  return md;
}

function plainMessage(c: CheckResult): string {
  return [c.detail, c.explanation && `Why: ${c.explanation}`, c.fix && `Fix: ${c.fix}`].filter(Boolean).join('\n');
}

export function registerTestLeg(shared: Shared): TestLegApi {
  const { context, log } = shared;
  const edge = registerLocalEdge(shared);
  const controller = vscode.tests.createTestController('mtls', 'mTLS Legs');
  context.subscriptions.push(controller);
  const outcomes = new Map<string, { outcome: Outcome; message?: string; durationMs?: number }>();
  const items = new Map<string, vscode.TestItem>();

  for (const leg of LEGS) {
    const item = controller.createTestItem(leg.id, leg.label);
    item.description = 'not run yet';
    item.sortText = leg.id;
    leg.checks.forEach(([id, label], i) => {
      const child = controller.createTestItem(id, label);
      child.description = id;
      child.sortText = String(i).padStart(2, '0'); // the probes' order, not alphabetical
      item.children.add(child);
      items.set(id, child);
    });
    controller.items.add(item);
    items.set(leg.id, item);
  }

  const explorerRows = (): ExplorerRow[] => {
    const row = (item: vscode.TestItem): ExplorerRow => {
      const o = outcomes.get(item.id);
      const children: ExplorerRow[] = [];
      item.children.forEach(c => { children.push(row(c)); });
      return { id: item.id, label: item.label, description: item.description, outcome: o?.outcome ?? 'not-run', message: o?.message, durationMs: o?.durationMs, ...(children.length ? { children } : {}) };
    };
    const rows: ExplorerRow[] = [];
    controller.items.forEach(i => { rows.push(row(i)); });
    return rows;
  };

  /** The probe options: arguments over settings over the running local edge; prompts for what is missing. */
  async function resolveOptions(args: TestLegArgs, legs: LegSelection, interactive: boolean): Promise<ProbeOptions | undefined> {
    const hostname = args.hostname ?? configuredHostname() ?? (interactive ? await askAndSave('hostname', 'The public hostname to test (mtls.hostname)', 'mtls.example.com') : undefined);
    if (!hostname) throw new MtlsError('bad-option', 'No hostname to test.', 'Set mtls.hostname (or the guide\'s hostnames).');
    const running = edge.state;
    const edgeAddress = args.edgeAddress ?? running?.address ?? setting<string>('edgeAddress');
    let originAddress = args.originAddress ?? setting<string>('originAddress');
    if (legs !== 'leg1' && !originAddress) {
      originAddress = interactive ? await askAndSave('originAddress', 'The origin\'s address, to test Leg 2 bypassing Cloudflare (mtls.originAddress)', '203.0.113.7:443', validateAddress) : undefined;
      if (!originAddress) throw new MtlsError('bad-option', 'No origin address for Leg 2.', 'Set mtls.originAddress to the origin\'s IP (and port): the hostname itself points at Cloudflare.');
    }
    const timeoutMs = args.timeoutMs ?? setting<number>('probe.timeoutMs');
    // Missing inputs are asked for (a person is there) instead of silently skipping their checks; an
    // explicit empty argument means "none".
    let clientCert = args.clientCertificate ?? setting<string>('clientCertificate');
    let clientKey = args.clientKey ?? setting<string>('clientKey');
    if (legs !== 'leg2' && clientCert === undefined && interactive) ({ cert: clientCert, key: clientKey } = await askForInput(shared, 'client') ?? { cert: '' });
    let pullCert = args.originPullCertificate ?? setting<string>('originPullCertificate');
    let pullKey = args.originPullKey ?? setting<string>('originPullKey');
    if (legs !== 'leg1' && pullCert === undefined && interactive) ({ cert: pullCert, key: pullKey } = await askForInput(shared, 'pull') ?? { cert: '' });
    let originCa = args.trustedOriginCa ?? setting<string>('trustedOriginCa');
    if (legs !== 'leg1' && originCa === undefined && interactive && !context.workspaceState.get<boolean>(SYSTEM_ROOTS_KEY)) originCa = (await askForInput(shared, 'originCa'))?.cert;
    return {
      legs,
      hostname,
      edgeAddress,
      originAddress,
      client: legs !== 'leg2' ? await loadCredentialFor(shared, clientCert, clientKey, args.p12Password, 'client certificate', interactive) : undefined,
      pull: legs !== 'leg1' ? await loadCredentialFor(shared, pullCert, pullKey, undefined, 'origin-pull certificate', interactive) : undefined,
      originCa: await readPemFile(originCa),
      expectedPullCa: await readPemFile(args.expectedPullCa),
      edgeCa: running && edgeAddress === running.address ? running.serverCaPem : undefined,
      timeoutMs,
    };
  }

  async function openOriginConfig(): Promise<void> {
    const files = await vscode.workspace.findFiles('{**/nginx.conf,**/*.conf,**/*.vhost,**/sites-available/*,**/sites-enabled/*,**/conf.d/*}', '{**/node_modules/**,**/.mtls/**}', 50);
    if (!files.length) {
      void vscode.window.showInformationMessage('mTLS: no nginx or Apache config in this workspace. Add the origin\'s config to lint it and to open it from here.');
      return;
    }
    const pick = files.length === 1 ? { uri: files[0] } : await vscode.window.showQuickPick(files.map(uri => ({ label: vscode.workspace.asRelativePath(uri), uri })), { placeHolder: 'Open the origin config' });
    if (pick) await vscode.window.showTextDocument(pick.uri);
  }

  /** The settings the failures name (a query for the Settings editor), else all of mtls.*. */
  function settingsQuery(report: ProbeReport): string {
    const names = new Set<string>();
    for (const leg of report.legs) for (const c of leg.checks) if (c.status === 'fail' && c.action === 'settings' && c.setting) names.add(c.setting);
    return names.size === 1 ? [...names][0] : 'mtls.';
  }

  async function offersFor(report: ProbeReport): Promise<FixOffer[]> {
    const actions = new Set<FixAction>();
    for (const leg of report.legs) for (const c of leg.checks) if (c.status === 'fail' && c.action) actions.add(c.action);
    const have = new Set(await vscode.commands.getCommands(true));
    const offers: FixOffer[] = [];
    const add = (label: string, run: () => Thenable<unknown>) => { if (!offers.some(o => o.label === label)) offers.push({ label, run }); };
    for (const a of actions) {
      const label = FIX_LABELS[a];
      if (a === 'settings') add(label, () => openWorkspaceSettings(settingsQuery(report)));
      if (a === 'issue-client-cert' && have.has('mtls.issueClientCert')) add(label, () => vscode.commands.executeCommand('mtls.issueClientCert'));
      if (a === 'issue-pull-cert' && have.has('mtls.issueOriginPullCert')) add(label, () => vscode.commands.executeCommand('mtls.issueOriginPullCert'));
      if (a === 'origin-config') add(label, openOriginConfig);
      if (a.startsWith('guide-') && have.has('mtls.openSetupGuide')) add(label, () => vscode.commands.executeCommand('mtls.openSetupGuide'));
    }
    return offers;
  }

  function logReport(report: ProbeReport, format: (r: ProbeReport) => string): void {
    for (const line of format(report).trimEnd().split('\n')) {
      if (/^\s*✖/.test(line)) log.error(line);
      else if (/^\s*⚠/.test(line) || /^\s+(why|fix):/.test(line)) log.warn(line);
      else log.info(line);
    }
  }

  /** Runs the probes into a TestRun: each check as it finishes, then the legs. */
  async function execute(options: ProbeOptions, request: vscode.TestRunRequest, token?: vscode.CancellationToken): Promise<ProbeReport> {
    const { runProbes, formatReport, formatTarget, parseAddress } = await import('../../core/probe');
    const run = controller.createTestRun(request, `mTLS Test Leg: ${options.hostname}`, false);
    const legIds: LegId[] = options.legs === 'both' ? ['leg1', 'leg2'] : [options.legs];
    const set = (id: string, outcome: Outcome, message?: string, durationMs?: number) => outcomes.set(id, { outcome, message, durationMs });
    for (const legId of legIds) {
      const legItem = items.get(legId)!;
      const target = legId === 'leg1' ? options.edgeAddress || options.hostname : options.originAddress || options.hostname;
      legItem.description = `${options.hostname} via ${formatTarget(parseAddress(target))}`;
      run.started(legItem);
      set(legId, 'queued');
      legItem.children.forEach(c => {
        if (!options.only || options.only.includes(c.id as CheckId)) { run.started(c); set(c.id, 'queued'); }
      });
    }
    const onCheck = (_leg: LegId, c: CheckResult) => {
      const item = items.get(c.id);
      if (!item || token?.isCancellationRequested) return;
      if (c.status === 'pass' || c.status === 'warn') {
        run.passed(item, c.ms);
        set(c.id, 'passed', c.status === 'warn' ? plainMessage(c) : c.detail, c.ms);
        if (c.status === 'warn') run.appendOutput(`⚠ ${c.id}: ${plainMessage(c).replace(/\n/g, '\r\n')}\r\n`, undefined, item);
      } else if (c.status === 'skip') {
        run.skipped(item);
        set(c.id, 'skipped', c.detail);
      } else {
        run.failed(item, new vscode.TestMessage(markdownFor(c)), c.ms);
        set(c.id, 'failed', plainMessage(c), c.ms);
      }
    };
    let report: ProbeReport;
    try {
      report = await runProbes({ ...options, onCheck });
    } catch (err) {
      for (const legId of legIds) {
        run.errored(items.get(legId)!, new vscode.TestMessage(describeError(err)));
        set(legId, 'errored', describeError(err));
      }
      run.end();
      throw err;
    }
    for (const leg of report.legs) {
      const legItem = items.get(leg.leg)!;
      const failed = leg.checks.filter(c => c.status === 'fail');
      if (leg.ok) {
        run.passed(legItem, leg.ms);
        set(leg.leg, 'passed', summary(leg), leg.ms);
      } else {
        const msg = new vscode.MarkdownString(`**${failed.length} of ${leg.checks.length} checks failed** (${leg.target}):\n\n`);
        for (const c of failed) msg.appendMarkdown(`- \`${c.id}\`: `).appendText(`${c.explanation ?? c.detail}\n`);
        run.failed(legItem, new vscode.TestMessage(msg), leg.ms);
        set(leg.leg, 'failed', summary(leg), leg.ms);
      }
      run.appendOutput(formatReport({ ok: leg.ok, ms: leg.ms, legs: [leg] }).replace(/\n/g, '\r\n'));
    }
    run.end();
    log.info(`Test Leg: ${options.hostname} (${options.legs === 'both' ? 'both legs' : LEG_SHORT_TITLES[options.legs]})`);
    logReport(report, formatReport);
    noteTestLegReport(report);
    return report;
  }

  function summary(leg: LegReport): string {
    const n = (s: string) => leg.checks.filter(c => c.status === s).length;
    return `${n('pass')} passed, ${n('fail')} failed, ${n('warn')} warnings, ${n('skip')} skipped`;
  }

  async function pickLegs(hostname?: string): Promise<LegSelection | undefined> {
    const running = edge.state;
    const edgeTarget = running?.address ?? setting<string>('edgeAddress') ?? `${hostname ?? 'the hostname'}:443`;
    const origin = setting<string>('originAddress') ?? 'mtls.originAddress (not set)';
    const pick = await vscode.window.showQuickPick([
      { label: 'Leg 1', description: 'client → Cloudflare', detail: `Connects to ${edgeTarget}${running ? ' (the local edge)' : ''} with and without a client certificate`, legs: 'leg1' as const },
      { label: 'Leg 2', description: 'Cloudflare → origin', detail: `Connects straight to ${origin}, bypassing Cloudflare`, legs: 'leg2' as const },
      { label: 'Both legs', description: 'end to end', detail: 'All checks, in parallel', legs: 'both' as const },
    ], { title: `mTLS: Test Leg${hostname ? ` (${hostname})` : ''}`, placeHolder: 'Which leg to prove?' });
    return pick?.legs;
  }

  function legSelection(v: TestLegArgs['legs']): LegSelection | undefined {
    if (v === '1' || v === 'leg1') return 'leg1';
    if (v === '2' || v === 'leg2') return 'leg2';
    if (v === 'both') return 'both';
    return undefined;
  }

  async function runCommand(args: TestLegArgs = {}, fromPalette = false): Promise<TestLegResult | undefined> {
    if (!requireTrust('Running Test Leg')) return undefined;
    const interactive = args.interactive ?? true;
    const legs = legSelection(args.legs) ?? (interactive ? await pickLegs(args.hostname ?? configuredHostname()) : 'both');
    if (!legs) return undefined;
    let report: ProbeReport;
    try {
      const options = await resolveOptions(args, legs, interactive);
      if (!options) return undefined;
      const include = (legs === 'both' ? ['leg1', 'leg2'] : [legs]).map(id => items.get(id)!);
      report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'mTLS: Test Leg' },
        () => execute(options, new vscode.TestRunRequest(include, undefined, undefined, false)));
    } catch (err) {
      if (err instanceof UserCancelled) return undefined;
      // Logged once, by the command's wrapper (registerMtlsCommand), which sees the rethrown error.
      if (fromPalette) {
        const named = /\bmtls\.[A-Za-z.]*[A-Za-z]/.exec(describeError(err))?.[0];
        void vscode.window.showErrorMessage(`mTLS Test Leg: ${describeError(err)}`, FIX_LABELS.settings).then(c => {
          if (c) void openWorkspaceSettings(named ?? 'mtls.');
        });
      }
      throw err;
    }
    const offers = report.ok ? [] : await offersFor(report);
    const notify = args.notify ?? fromPalette;
    if (notify) void notifyResult(report, offers);
    return { ...report, explorer: explorerRows(), actions: offers.map(o => o.label) };
  }

  async function notifyResult(report: ProbeReport, offers: FixOffer[]): Promise<void> {
    const failed = report.legs.flatMap(l => l.checks.filter(c => c.status === 'fail'));
    if (!failed.length) {
      const checks = report.legs.reduce((n, l) => n + l.checks.length, 0);
      void vscode.window.showInformationMessage(`mTLS Test Leg: all ${checks} checks passed (${report.ms} ms).`);
      return;
    }
    const labels = ['Show Test Results', ...offers.map(o => o.label)];
    const first = failed[0];
    const choice = await vscode.window.showWarningMessage(
      `mTLS Test Leg: ${failed.length} check${failed.length > 1 ? 's' : ''} failed. ${first.id}: ${first.explanation ?? first.detail}`, ...labels);
    if (choice === 'Show Test Results') await vscode.commands.executeCommand('workbench.view.testing.focus');
    else await offers.find(o => o.label === choice)?.run();
  }

  // Runs from the Test Explorer: the legs (or single checks) the person picked, with the settings.
  controller.createRunProfile('Run probes', vscode.TestRunProfileKind.Run, async (request, token) => {
    if (!requireTrust('Running Test Leg')) return;
    const picked = request.include ?? [items.get('leg1')!, items.get('leg2')!];
    const legIds = new Set<LegId>();
    const only = new Set<CheckId>();
    let whole = false;
    for (const item of picked) {
      if (item.id === 'leg1' || item.id === 'leg2') { legIds.add(item.id); whole = true; } else {
        const parent = item.parent?.id as LegId | undefined;
        if (parent) legIds.add(parent);
        only.add(item.id as CheckId);
      }
    }
    if (!legIds.size) return;
    const legs: LegSelection = legIds.size === 2 ? 'both' : [...legIds][0];
    try {
      const options = await resolveOptions({}, legs, true);
      if (!options) return;
      if (!whole && only.size) options.only = [...only];
      await execute(options, request, token);
    } catch (err) {
      if (err instanceof UserCancelled) return;
      void vscode.window.showErrorMessage(`mTLS Test Leg: ${describeError(err)}`);
    }
  }, true);

  context.subscriptions.push(
    registerMtlsCommand('mtls.testLeg', { rethrow: true }, async (arg?: unknown) => {
      // From the Certificates view's context menu the argument is a tree node: test with that certificate.
      const node = arg as { kind?: string; entry?: { certPath?: string; keyPath?: string; info?: { profile?: string } } } | undefined;
      if (node?.kind === 'cert' && node.entry?.certPath) {
        const pullCert = node.entry.info?.profile === 'origin-pull';
        const args: TestLegArgs = pullCert
          ? { legs: 'leg2', originPullCertificate: node.entry.certPath, originPullKey: node.entry.keyPath }
          : { legs: 'leg1', clientCertificate: node.entry.certPath, clientKey: node.entry.keyPath };
        return runCommand(args, true);
      }
      const args = arg && typeof arg === 'object' && !('kind' in arg) ? arg as TestLegArgs : {};
      return runCommand(args, !arg);
    }),
  );

  return { run: args => runCommand(args ?? {}), controller, edge, explorerRows, logUri: context.logUri, asker, settingsQueryFor: settingsQuery };
}

