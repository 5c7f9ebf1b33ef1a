// Answers the guide webview's messages. A plain class: it gets a `post` function, so the extension-host
// tests drive it without any webview, and the panel wires it to `webview.postMessage`.
//
// Every message from the webview is validated (protocol.parseToExtension). Every message to it is checked
// for the API token before it leaves (belt and braces: nothing in here ever puts the token in a message).
import * as vscode from 'vscode';
import type { ApplyProgress, ApplyReport, PlannedCall, StepId } from '../../core/cloudflare/types';
import { describeError } from '../../core/errors';
import { STEP_META } from '../../core/cloudflare/steps';
import { requireTrust } from '../context';
import { AllowlistFormat, ORIGIN_SERVER_LABELS, OriginServer, TestLegChoice, TestLegReport, ToExtension, ToWebview, parseToExtension } from './protocol';
import { GuideService, Inputs } from './service';
import { scrub } from './token';

const STEP_NUMBER = Object.fromEntries(Object.entries(STEP_META).map(([id, m]) => [id, m.number])) as Record<StepId, number>;

/** The interactive parts, replaceable in tests (a modal dialog would wait for a click forever). */
export interface GuideUi {
  /** A modal confirmation; true to go ahead. */
  confirm(message: string, detail: string, action: string): Promise<boolean>;
  /** A quick pick (for the choice between the linter's quick-fixes and inserting at the cursor). */
  quickPick<T extends vscode.QuickPickItem>(items: T[], options: vscode.QuickPickOptions): Promise<T | undefined>;
}

export const defaultUi: GuideUi = {
  async confirm(message, detail, action) {
    return (await vscode.window.showWarningMessage(message, { modal: true, detail }, action)) === action;
  },
  async quickPick(items, options) {
    return vscode.window.showQuickPick(items, options);
  },
};

export function describeCall(c: PlannedCall): string {
  return `${c.method} ${c.path}${c.description ? `  — ${c.description}` : ''}`;
}

export class GuideController implements vscode.Disposable {
  /** Reads and writes run one after the other (a click on Apply waits for a background read). */
  private chain: Promise<unknown> = Promise.resolve();
  /** The write job queued or running, if any: a second one is refused, not queued. */
  private writing: string | undefined;
  private disposed = false;
  /** Results the webview may have missed while it was hidden (retainContextWhenHidden is off). */
  private lastReport: ApplyReport | undefined;
  private lastTestLeg: Extract<ToWebview, { type: 'testLeg' }> | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly service: GuideService,
    private readonly postRaw: (msg: ToWebview) => unknown,
    private readonly ui: GuideUi = defaultUi,
  ) {
    // When the token, a setting or the store changes, show it and read again.
    // Several changes in a row (settings written one by one) make one read; a read waits for a running job.
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(() => { if (!this.disposed) void this.refresh(); }, 150);
    };
    this.subs.push(service.onDidChangeInputs(schedule), { dispose: () => clearTimeout(timer) });
  }

  /** Entry point for the webview's messages. Resolves when the message has been fully handled. */
  async handle(raw: unknown): Promise<void> {
    const parsed = parseToExtension(raw);
    if (!parsed.ok) {
      this.service.log('warn', `Setup guide: ignored a message from the webview (${parsed.reason}).`);
      return;
    }
    try {
      await this.dispatch(parsed.msg);
    } catch (err) {
      this.service.log('error', `Setup guide: ${parsed.msg.type} failed: ${describeError(err)}`);
      await this.post({ type: 'notice', level: 'error', text: describeError(err) });
      await this.setBusy(undefined);
    }
  }

  private async dispatch(m: ToExtension): Promise<void> {
    switch (m.type) {
      case 'ready':
        if (this.lastReport) await this.post({ type: 'applyReport', report: this.lastReport });
        if (this.lastTestLeg) await this.post(this.lastTestLeg);
        return this.refresh();
      case 'refresh': return this.refresh();
      case 'manageTrust': await vscode.commands.executeCommand('workbench.trust.manage'); return;
      case 'setToken': await vscode.commands.executeCommand('mtls.setCloudflareToken'); return;
      case 'clearToken': await vscode.commands.executeCommand('mtls.clearCloudflareToken'); return;
      case 'editZone': return this.editZone();
      case 'editHostnames': return this.editHostnames();
      case 'chooseCa': return this.chooseCa();
      case 'choosePullCert': return this.choosePullCert();
      case 'setAopMode': await this.service.updateSetting('cloudflare.aopMode', m.mode); return;
      case 'setCaMode': await this.service.updateSetting('cloudflare.caMode', m.mode); return;
      case 'replaceOldPullCert': await this.replaceOldPullCert(); return;
      case 'issueManagedCert': await vscode.commands.executeCommand('mtls.issueManagedCertificate'); return;
      case 'setOriginServer': await this.service.setOriginServer(m.server); await this.postView(); return;
      case 'apply': await this.apply([m.step]); return;
      case 'dryRun': await this.dryRun(m.steps); return;
      case 'applyAll': await this.applyAll(); return;
      case 'showRequest': return this.showRequest(m.step);
      case 'runTestLeg': await this.runTestLeg(m.legs); return;
      case 'insertOriginConfig': await this.insertOriginConfig(m.server); return;
      case 'copyOriginConfig': return this.copyOriginConfig(m.server);
      case 'openCaFile': return this.openCaFile();
      case 'openAllowlist': await this.openAllowlist(m.format); return;
    }
  }

  // ---------------------------------------------------------------- posting

  /** Posts to the webview after checking that the token is nowhere in the message. */
  async post(msg: ToWebview): Promise<void> {
    if (this.disposed) return;
    const token = await this.service.tokens.get();
    let safe = msg;
    if (token && token.length >= 8 && JSON.stringify(msg).includes(token)) {
      this.service.log('error', 'Setup guide: a message to the webview contained the API token; it was scrubbed.');
      safe = JSON.parse(scrub(JSON.stringify(msg), token)) as ToWebview;
    }
    await this.postRaw(safe);
  }

  private async setBusy(busy: string | undefined) {
    await this.post({ type: 'busy', busy });
  }

  private async postView(inputs?: Inputs): Promise<Inputs> {
    const i = inputs ?? await this.service.inputs();
    await this.post({ type: 'view', view: i.view });
    return i;
  }

  // ---------------------------------------------------------------- reading

  private serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.chain.then(job, job);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** A write job: refused while another one is queued or running, else run after the current read. */
  private async writeJob<T>(action: string, job: (inputs: Inputs) => Promise<T>): Promise<T | undefined> {
    if (this.writing) {
      await this.post({ type: 'notice', level: 'warning', text: `Wait until "${this.writing}" has finished.` });
      return undefined;
    }
    if (!requireTrust(action)) return undefined;
    this.writing = action;
    try {
      return await this.serial(async () => {
        const inputs = await this.service.options();
        if (!inputs.options) {
          await this.post({ type: 'view', view: inputs.view });
          await this.post({ type: 'notice', level: 'warning', text: `Set ${inputs.view.missing.join(', ')} first.` });
          return undefined;
        }
        return job(inputs);
      });
    } finally {
      this.writing = undefined;
    }
  }

  /** Sends the view, then reads the live state (when everything needed is there) and sends it. */
  refresh(): Promise<void> {
    return this.serial(() => this.readNow());
  }

  private async readNow(): Promise<void> {
    const inputs = await this.service.options();
    await this.post({ type: 'view', view: inputs.view });
    if (!inputs.options) {
      this.service.setStatus(undefined, inputs);
      await this.post({ type: 'status' });
      return;
    }
    await this.setBusy('Reading the live state from Cloudflare…');
    try {
      const { status, error } = await this.service.readStatus(inputs);
      await this.post({ type: 'status', status, error: error && { message: error.message, meaning: error.meaning, code: error.code, kind: error.kind } });
    } finally {
      await this.setBusy(undefined);
    }
  }

  private async showRequest(step: StepId) {
    const s = this.service.lastStatus?.steps.find(x => x.id === step);
    await this.post({ type: 'request', step, calls: s?.plannedCalls ?? [] });
  }

  // ---------------------------------------------------------------- applying

  /** The calls a run would make (reads are sent, writes are not). */
  dryRun(steps?: StepId[]): Promise<ApplyReport | undefined> {
    return this.writeJob('Planning Cloudflare changes', inputs => this.dryRunNow(inputs, steps));
  }

  private async dryRunNow(inputs: Inputs, steps?: StepId[]): Promise<ApplyReport> {
    const core = await this.service.loadCore();
    await this.setBusy('Planning: reading the live state…');
    try {
      const report = await core.applySteps(inputs.options!, { steps, dryRun: true });
      await this.post({ type: 'dryRun', steps: stepsOf(report), calls: report.calls, pending: false });
      return report;
    } finally {
      await this.setBusy(undefined);
    }
  }

  /** "Apply all missing": dry run, confirmation listing the calls, then the run. */
  applyAll(): Promise<ApplyReport | undefined> {
    return this.writeJob('Applying the Cloudflare setup', inputs => this.applyAllNow(inputs));
  }

  private async applyAllNow(inputs: Inputs): Promise<ApplyReport | undefined> {
    const options = inputs.options!;
    const core = await this.service.loadCore();
    await this.setBusy('Planning: reading the live state…');
    let plan: ApplyReport;
    try {
      plan = await core.applySteps(options, { dryRun: true });
    } finally {
      await this.setBusy(undefined);
    }
    if (plan.failed) {
      await this.post({ type: 'applyReport', report: plan });
      return plan;
    }
    if (!plan.calls.length) {
      await this.post({ type: 'dryRun', steps: [], calls: [], pending: false });
      await this.post({ type: 'notice', level: 'info', text: 'Nothing to apply: every step the API can do is done.' });
      await this.readNow();
      return plan;
    }
    await this.post({ type: 'dryRun', steps: stepsOf(plan), calls: plan.calls, pending: true });
    const detail = `Zone ${options.zoneName}, API ${options.baseURL}.\n\n` +
      plan.calls.map(c => `${STEP_NUMBER[c.step]}. ${describeCall(c)}`).join('\n') +
      '\n\nNothing is deleted: existing rules and hostnames are kept.';
    const ok = await this.ui.confirm(`Send ${plan.calls.length} change(s) to Cloudflare?`, detail, 'Apply');
    if (!ok) {
      await this.post({ type: 'dryRun', steps: stepsOf(plan), calls: plan.calls, pending: false });
      return undefined;
    }
    return this.applyNow(inputs, undefined);
  }

  /** Applies the given steps (all missing ones when undefined); stops at the first failure. */
  apply(steps: StepId[] | undefined): Promise<ApplyReport | undefined> {
    return this.writeJob('Applying a Cloudflare step', inputs => this.applyNow(inputs, steps));
  }

  /** Zone-level AOP rotation: after a confirmation, removes the older certificate(s) so one active remains. */
  replaceOldPullCert(): Promise<ApplyReport | undefined> {
    return this.writeJob('Removing the older origin-pull certificate', async inputs => {
      const core = await this.service.loadCore();
      const options = { ...inputs.options!, replaceOldPullCerts: true };
      const plan = await core.applySteps(options, { steps: ['aop-mode'], dryRun: true });
      const deletes = plan.calls.filter(c => c.method === 'DELETE');
      if (!deletes.length) {
        await this.post({ type: 'notice', level: 'info', text: 'Nothing to remove: no older certificate, or the new one is not active yet.' });
        return plan;
      }
      const ok = await this.ui.confirm(`Remove ${deletes.length} older origin-pull certificate(s)?`,
        `${deletes.map(describeCall).join('\n')}\n\nYour new certificate is active; Cloudflare then presents only it to the origin.`, 'Remove');
      if (!ok) return undefined;
      return this.applyNow({ ...inputs, options }, ['aop-mode']);
    });
  }

  private async applyNow(inputs: Inputs, steps: StepId[] | undefined): Promise<ApplyReport> {
    const options = inputs.options!;
    const core = await this.service.loadCore();
    const label = steps?.length === 1 ? `Applying step ${STEP_NUMBER[steps[0]]}` : 'Applying the Cloudflare setup';
    await this.setBusy(`${label}…`);
    let report: ApplyReport;
    try {
      report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `mTLS: ${label}` }, async progress => {
        const onProgress = (e: ApplyProgress) => {
          const message = `${STEP_NUMBER[e.step]}. ${e.message}`;
          progress.report({ message });
          void this.post({ type: 'progress', step: e.step, phase: e.phase, message });
        };
        return core.applySteps(options, { steps, onProgress });
      });
    } finally {
      await this.setBusy(undefined);
    }
    const calls = report.calls.map(c => `${c.ok ? 'ok ' : 'FAILED '}${c.method} ${c.path}`).join('; ');
    if (report.ok) this.service.log('info', `Cloudflare apply: done ${report.done.join(', ') || '-'}; calls: ${calls || 'none'}`);
    else {
      const e = report.failed!.error;
      this.service.log('warn', `Cloudflare apply failed at ${report.failed!.step}: ${e.code ?? ''} ${e.message}; done ${report.done.join(', ') || '-'}; calls: ${calls || 'none'}`);
      void vscode.window.showErrorMessage(`mTLS: step ${STEP_NUMBER[report.failed!.step]} failed: ${e.code !== undefined ? `Cloudflare error ${e.code}: ` : ''}${e.message}`);
    }
    this.lastReport = report;
    await this.post({ type: 'applyReport', report });
    await this.readNow();
    return report;
  }

  // ---------------------------------------------------------------- inputs

  private async editZone() {
    const current = this.service.settings().zone;
    const zone = await vscode.window.showInputBox({
      title: 'Cloudflare zone', prompt: 'The zone (domain) as it appears in the Cloudflare dashboard', value: current,
      placeHolder: 'example.com', ignoreFocusOut: true,
      validateInput: v => /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(v.trim()) ? undefined : 'A domain name such as example.com',
    });
    if (zone !== undefined && zone.trim() !== current) await this.service.updateSetting('cloudflare.zone', zone.trim().toLowerCase());
  }

  private async editHostnames() {
    const s = this.service.settings();
    const value = await vscode.window.showInputBox({
      title: 'Hostnames that require a client certificate', prompt: 'Comma- or space-separated, inside the zone',
      value: s.hostnames.join(', '), placeHolder: s.zone ? `app.${s.zone}, api.${s.zone}` : 'app.example.com', ignoreFocusOut: true,
      validateInput: v => {
        const list = v.split(/[\s,]+/).filter(Boolean);
        if (!list.length) return 'At least one hostname';
        const bad = list.find(h => !/^(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(h));
        if (bad) return `"${bad}" is not a hostname`;
        const outside = s.zone ? list.find(h => h.toLowerCase() !== s.zone && !h.toLowerCase().endsWith(`.${s.zone}`)) : undefined;
        return outside ? `"${outside}" is not in the zone ${s.zone}` : undefined;
      },
    });
    if (value === undefined) return;
    const list = [...new Set(value.split(/[\s,]+/).filter(Boolean).map(h => h.toLowerCase()))];
    await this.service.updateSetting('cloudflare.hostnames', list);
  }

  private async chooseCa() {
    const tree = await this.service.store();
    const cas = (tree?.cas ?? []).filter(c => !c.archived);
    const create = { label: '$(add) Create a CA…', action: 'create' as const };
    const items = [
      ...cas.map(c => ({ label: c.name, description: c.info.subject, detail: `SHA-256 ${c.info.fingerprintSha256} · until ${c.info.notAfter.toISOString().slice(0, 10)}${c.keyPath ? '' : ' · no key in the store'}`, ca: c })),
      create,
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'Workspace CA for leg 1 (uploaded to Cloudflare)', placeHolder: 'The CA that signs your client certificates' });
    if (!pick) return;
    if ('action' in pick) {
      if (requireTrust('Creating a CA')) await vscode.commands.executeCommand('mtls.createCa');
      this.service.storeChanged();
      return;
    }
    await this.service.updateSetting('cloudflare.caName', pick.ca.name);
  }

  private async choosePullCert() {
    const tree = await this.service.store();
    const pulls = this.service.pullCerts(tree);
    const issue = { label: '$(add) Issue a new origin-pull certificate…', action: 'issue' as const };
    const items = [
      ...pulls.map(p => ({
        label: p.name, description: p.info.profile === 'origin-pull' ? 'origin-pull' : 'client certificate',
        detail: `${p.info.subject} · until ${p.info.notAfter.toISOString().slice(0, 10)} · ${vscode.workspace.asRelativePath(p.certPath)}`, entry: p,
      })),
      issue,
    ];
    const pick = pulls.length ? await vscode.window.showQuickPick(items, {
      title: 'Origin-pull certificate (leg 2, zone or per-hostname mode)',
      placeHolder: 'Its certificate and private key are uploaded to Cloudflare: use a certificate made for this, not a person\'s',
    }) : issue;
    if (!pick) return;
    if ('action' in pick) {
      if (!requireTrust('Issuing a certificate')) return;
      // The explorer's wizard asks for the CA, the name, the key and the validity.
      const issued = await vscode.commands.executeCommand<{ certPath?: string } | undefined>('mtls.issueOriginPullCert');
      if (issued && typeof issued.certPath === 'string') await this.service.setPullCertPath(issued.certPath);
      else this.service.storeChanged();
      return;
    }
    await this.service.setPullCertPath(pick.entry.certPath);
  }

  // ---------------------------------------------------------------- leg 2 origin side, verify, IP ranges

  /** The origin config text for step 5: from the last status, else built by core. */
  private async originSnippet(server: OriginServer): Promise<string | undefined> {
    const manual = this.service.lastStatus?.steps.find(s => s.id === 'origin-config')?.manual;
    return manual?.[server] || undefined;
  }

  /** The config to change: the active or a visible editor, else an open tab that looks like an nginx/Apache config. */
  private async targetEditor(): Promise<vscode.TextEditor | undefined> {
    const isConfigUri = (u: vscode.Uri) => /\.(conf|vhost|caddy|cfg)$|\/(sites-available|sites-enabled|conf\.d)\/|\/Caddyfile$/.test(u.path);
    const isConfig = (e: vscode.TextEditor) => ['nginx', 'apacheconf', 'caddyfile', 'haproxy'].includes(e.document.languageId) || isConfigUri(e.document.uri);
    const visible = vscode.window.visibleTextEditors.filter(e => e.document.uri.scheme !== 'output');
    const editor = vscode.window.activeTextEditor ?? visible.find(isConfig) ?? visible[0];
    if (editor) return editor;
    const tab = vscode.window.tabGroups.all.flatMap(g => g.tabs).find(t => t.input instanceof vscode.TabInputText && isConfigUri(t.input.uri));
    if (!tab) return undefined;
    return vscode.window.showTextDocument((tab.input as vscode.TabInputText).uri, { viewColumn: tab.group.viewColumn, preserveFocus: true });
  }

  /**
   * Step 5: puts the origin block into the open nginx/Apache config. When the linter offers quick-fixes
   * for leg-2 findings in that file, those are offered first (they edit the right block); otherwise the
   * snippet goes in at the cursor. Either way the exact text is shown (modal) before it is applied.
   */
  async insertOriginConfig(server: OriginServer): Promise<boolean> {
    const snippet = await this.originSnippet(server);
    if (!snippet) {
      await this.post({ type: 'notice', level: 'warning', text: 'Read the status first: the configuration comes with it.' });
      return false;
    }
    const editor = await this.targetEditor();
    if (!editor) {
      void vscode.window.showInformationMessage(`mTLS: open your ${ORIGIN_SERVER_LABELS[server]} config in an editor (cursor where the block goes), then click "Insert into open config" again.`);
      return false;
    }
    const doc = editor.document;
    const fixes = await this.leg2QuickFixes(doc);
    const atCursor = { label: '$(insert) Insert the guide\'s block at the cursor', description: `line ${editor.selection.active.line + 1}`, action: undefined as vscode.CodeAction | undefined };
    let chosen = atCursor;
    if (fixes.length) {
      const pick = await this.ui.quickPick([...fixes.map(a => ({ label: `$(lightbulb) ${a.title}`, description: 'linter quick-fix', action: a as vscode.CodeAction | undefined })), atCursor],
        { title: `Step 5: change ${vscode.workspace.asRelativePath(doc.uri)}` });
      if (!pick) return false;
      chosen = pick;
    }
    // Preview: the exact text and where it goes, in a modal; nothing changes unless the user agrees.
    const edit = new vscode.WorkspaceEdit();
    let preview: string;
    const where = vscode.workspace.asRelativePath(doc.uri);
    if (chosen.action?.edit) {
      const parts: string[] = [];
      for (const [uri, edits] of chosen.action.edit.entries()) {
        for (const e of edits) {
          edit.replace(uri, e.range, e.newText);
          parts.push(`line ${e.range.start.line + 1}:\n${e.newText.trim() || '(removes text)'}`);
        }
      }
      preview = `${chosen.action.title}\n\n${parts.join('\n\n')}`;
    } else {
      const pos = editor.selection.active;
      const text = (pos.character > 0 ? '\n' : '') + snippet + (snippet.endsWith('\n') ? '' : '\n');
      edit.insert(doc.uri, pos, text);
      preview = `At line ${pos.line + 1}:\n\n${snippet}`;
    }
    if (!(await this.ui.confirm(`Change ${where}?`, preview, 'Insert'))) return false;
    const ok = await vscode.workspace.applyEdit(edit);
    if (ok) await vscode.window.showTextDocument(doc, { viewColumn: editor.viewColumn, preserveFocus: false });
    if (ok) this.service.log('info', `Setup guide: inserted the ${server} origin block into ${doc.uri.fsPath}`);
    return ok;
  }

  private async leg2QuickFixes(doc: vscode.TextDocument): Promise<vscode.CodeAction[]> {
    try {
      const { LEG2_CODES } = await import('../../core/lint/rules');
      const diags = vscode.languages.getDiagnostics(doc.uri).filter(d => LEG2_CODES.includes(String(typeof d.code === 'object' ? d.code.value : d.code) as never));
      const out: vscode.CodeAction[] = [];
      for (const d of diags) {
        const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, d.range, vscode.CodeActionKind.QuickFix.value);
        for (const a of actions ?? []) if (a.edit && !/ignore/i.test(a.title) && !out.some(o => o.title === a.title)) out.push(a);
      }
      return out;
    } catch {
      return [];
    }
  }

  private async copyOriginConfig(server: OriginServer) {
    const snippet = await this.originSnippet(server);
    if (!snippet) return;
    await vscode.env.clipboard.writeText(snippet);
    await this.post({ type: 'notice', level: 'info', text: `The ${server} block is on the clipboard.` });
  }

  private async openCaFile() {
    const manual = this.service.lastStatus?.steps.find(s => s.id === 'origin-config')?.manual;
    if (!manual?.caPem) return;
    const doc = await vscode.workspace.openTextDocument({ content: manual.caPem, language: 'plaintext' });
    await vscode.window.showTextDocument(doc, { preview: false });
    void vscode.window.showInformationMessage(`mTLS: save this CA on the origin as ${manual.caFileName ?? 'the file the config names'}.`);
  }

  async runTestLeg(legs: TestLegChoice): Promise<TestLegReport | undefined> {
    if (!requireTrust('Running Test Leg')) return undefined;
    const commands = await vscode.commands.getCommands(true);
    if (!commands.includes('mtls.testLeg')) {
      await this.post({ type: 'testLeg', error: 'The Test Leg command (mtls.testLeg) is not available in this build.' });
      return undefined;
    }
    await this.setBusy(`Running Test Leg (${legs === 'both' ? 'both legs' : legs})…`);
    try {
      const report = await vscode.commands.executeCommand<TestLegReport | undefined>('mtls.testLeg', { legs });
      if (!report || !Array.isArray(report.legs)) {
        await this.post({ type: 'testLeg', error: 'Test Leg did not return a report (cancelled?).' });
        return undefined;
      }
      this.lastTestLeg = { type: 'testLeg', report: sanitizeTestLeg(report) };
      await this.post(this.lastTestLeg);
      return report;
    } catch (err) {
      await this.post({ type: 'testLeg', error: describeError(err) });
      return undefined;
    } finally {
      await this.setBusy(undefined);
    }
  }

  /** Cloudflare's IP ranges as an origin allowlist, opened in a new untitled editor. */
  async openAllowlist(format: AllowlistFormat): Promise<string | undefined> {
    if (!requireTrust('Fetching Cloudflare\'s IP ranges')) return undefined;
    const core = await this.service.loadCore();
    await this.setBusy('Fetching Cloudflare\'s IP ranges…');
    let text: string;
    try {
      const token = await this.service.tokens.get();
      const ranges = await core.fetchIpRanges({ token, baseURL: this.service.apiBase() });
      text = core.cloudflareIpAllowlist(format, ranges);
    } catch (err) {
      const e = core.explainCloudflareError(err, undefined, undefined, await this.service.tokens.get());
      await this.post({ type: 'notice', level: 'error', text: `Could not fetch the IP ranges: ${e.message}` });
      return undefined;
    } finally {
      await this.setBusy(undefined);
    }
    const language = format.startsWith('nginx') ? 'nginx' : format === 'apache' ? 'apacheconf' : 'shellscript';
    const doc = await vscode.workspace.openTextDocument({ content: text, language });
    await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.Beside });
    return text;
  }

  dispose() {
    this.disposed = true;
    for (const s of this.subs) s.dispose();
  }
}

const opt = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

function stepsOf(report: ApplyReport): StepId[] {
  return [...new Set(report.calls.map(c => c.step))];
}

/** Only the fields the guide shows, as strings and numbers: the report comes from another command. */
function sanitizeTestLeg(r: TestLegReport): TestLegReport {
  return {
    ok: !!r.ok,
    legs: r.legs.map(l => ({
      leg: String(l.leg), ok: !!l.ok, target: opt(l.target),
      checks: (Array.isArray(l.checks) ? l.checks : []).map(c => ({
        id: String(c.id), title: opt(c.title), status: String(c.status), detail: opt(c.detail), ms: typeof c.ms === 'number' ? c.ms : undefined,
        fix: c.status === 'pass' ? undefined : opt(c.fix),
      })),
    })),
  };
}
