// Quick-fixes for the mtls diagnostics. Every action carries a complete WorkspaceEdit (one per CA source:
// the Cloudflare origin-pull CA, each CA of the workspace store), so `vscode.executeCodeActionProvider`
// callers and the light bulb get the same edits; "Choose a CA file..." asks through a command. Fixes write
// the CA's path on the server (mtls.lint.serverCaPath.<dialect>), never a path of this machine, and then
// offer to save the CA file into the workspace beside the config.
import * as vscode from 'vscode';
import * as fs from 'fs';
import * as path from 'path';
import type { CaChoice, Fix, TextEdit } from '../../core/lint/fixes';
import type { Dialect, Finding } from '../../core/lint/types';
import { UserCancelled } from '../../core/errors';
import { registerMtlsCommand } from '../commands';
import type { LintController } from './index';
import { LANGUAGE_DIALECT, lintConfig, loadCore, loadFixes, toRange } from './core';
import { serverCaPath, serverPathFor, workspaceCopyFor } from '../../core/lint/serverCa';

const FIX_WITH_CA = 'mtls.lint.fixWithChosenCa';
const SAVE_CA = 'mtls.lint.saveCaBesideConfig';

/** Codes whose fixes need a CA path, and the title of the action that asks for one. */
const CHOOSE_TITLES: Record<string, string> = {
  'leg2-no-client-auth': 'Require client certificate (choose a CA file...)',
  'leg2-no-ca': 'Add client CA (choose a CA file...)',
  'leg2-ca-file': 'Use another CA as the client CA (choose a CA file...)',
};
const NEEDS_CA = new Set(Object.keys(CHOOSE_TITLES));

/** The server-side CA path for a dialect (setting mtls.lint.serverCaPath.<dialect>, else the conventional one). */
export function configuredServerCaPath(uri: vscode.Uri | undefined, dialect: Dialect): string {
  const v = lintConfig(uri).get<string>(`serverCaPath.${dialect}`);
  return serverCaPath(dialect, typeof v === 'string' ? v : undefined);
}

/**
 * The Cloudflare origin-pull CA as a fix writes it: the server path from the settings; the bundled file is
 * only the source of the copy offered beside the config, never written into the config.
 */
export function originPullCa(context: vscode.ExtensionContext, uri: vscode.Uri | undefined, dialect: Dialect): CaChoice {
  return { path: configuredServerCaPath(uri, dialect), label: 'origin-pull CA', kind: 'origin-pull', source: context.asAbsolutePath('media/authenticated_origin_pull_ca.pem') };
}

/** CAs of the workspace store (`<store>/<name>/ca.pem`), each written as `<server CA folder>/<name>-ca.pem`. */
export function workspaceCas(storeRoot: string | undefined, uri: vscode.Uri | undefined, dialect: Dialect): CaChoice[] {
  if (!storeRoot) return [];
  let names: string[];
  try { names = fs.readdirSync(storeRoot).sort(); } catch { return []; }
  const configured = lintConfig(uri).get<string>(`serverCaPath.${dialect}`);
  return names
    .filter(n => !n.startsWith('.') && fs.existsSync(path.join(storeRoot, n, 'ca.pem')))
    .map(n => ({ path: serverPathFor(dialect, configured, `${n}-ca.pem`), label: `workspace CA ${n}`, kind: 'workspace' as const, source: path.join(storeRoot, n, 'ca.pem') }));
}

/** The command run after a fix that names a CA: offers to save the CA file into the workspace beside the config. */
function saveCaCommand(uri: vscode.Uri, ca: CaChoice): vscode.Command | undefined {
  if (!ca.source || uri.scheme !== 'file') return undefined;
  return { command: SAVE_CA, title: 'Save the CA file beside the config', arguments: [uri, ca] };
}

/**
 * Saves `ca.source` at the workspace copy of `ca.path` beside the config (`<config folder>/cloudflare/
 * origin-pull-ca.pem`), asking first unless `ask` is false. Never overwrites; written atomically.
 * Returns the file written, or undefined.
 */
export async function saveCaBesideConfig(uri: vscode.Uri, ca: CaChoice, ask = true): Promise<string | undefined> {
  if (!ca.source) return undefined;
  const target = workspaceCopyFor(uri.fsPath, ca.path);
  if (fs.existsSync(target)) return undefined;
  if (ask) {
    const rel = vscode.workspace.asRelativePath(target);
    const choice = await vscode.window.showInformationMessage(
      `The config now names ${ca.path} on the server. Save the CA file into the workspace as ${rel}, to deploy it with the config?`, 'Save CA File', 'Not Now');
    if (choice !== 'Save CA File') return undefined;
  }
  let data: Buffer;
  try { data = fs.readFileSync(ca.source); } catch (err) {
    void vscode.window.showErrorMessage(`mTLS: cannot read the CA file ${ca.source}: ${(err as Error).message}`);
    return undefined;
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data, { mode: 0o644, flag: 'wx' });
  try { fs.linkSync(tmp, target); } finally { fs.rmSync(tmp, { force: true }); }
  return target;
}

function toWorkspaceEdit(uri: vscode.Uri, edits: TextEdit[]): vscode.WorkspaceEdit {
  const we = new vscode.WorkspaceEdit();
  for (const e of edits) we.replace(uri, toRange(e.range), e.newText);
  return we;
}

function dialectOf(doc: vscode.TextDocument, finding: Finding): Dialect | undefined {
  return finding.data?.dialect ?? LANGUAGE_DIALECT[doc.languageId];
}

export class LintCodeActionProvider implements vscode.CodeActionProvider {
  static readonly providedCodeActionKinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly controller: LintController) {}

  async provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range | vscode.Selection, context: vscode.CodeActionContext): Promise<vscode.CodeAction[]> {
    const ours = context.diagnostics.filter(d => d.source === 'mtls');
    if (!ours.length) return [];
    if (context.only && !vscode.CodeActionKind.QuickFix.intersects(context.only)) return [];
    const fixes = await loadFixes();
    const text = doc.getText();
    const actions: vscode.CodeAction[] = [];
    for (const diag of ours) {
      const finding = this.controller.findingFor(doc.uri, diag);
      if (!finding) continue;
      const dialect = dialectOf(doc, finding) ?? (await loadCore()).detectDialect(doc.uri.fsPath, text) ?? 'nginx';
      const cas = [originPullCa(this.controller.shared.context, doc.uri, dialect), ...workspaceCas(this.controller.shared.storeRoot(), doc.uri, dialect)];
      const list: Fix[] = fixes.computeFixes(text, finding, { cas, dialect });
      for (const fix of list) {
        const a = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        a.edit = toWorkspaceEdit(doc.uri, fix.edits);
        if (fix.ca) a.command = saveCaCommand(doc.uri, fix.ca);
        a.diagnostics = [diag];
        a.isPreferred = !!fix.isPreferred;
        actions.push(a);
      }
      // Any other CA: picked or typed when the action runs.
      if (NEEDS_CA.has(finding.code) && list.some(f => f.ca)) {
        const a = new vscode.CodeAction(CHOOSE_TITLES[finding.code] ?? 'Choose a CA file...', vscode.CodeActionKind.QuickFix);
        a.diagnostics = [diag];
        a.command = { command: FIX_WITH_CA, title: a.title, arguments: [doc.uri, finding] };
        actions.push(a);
      }
      const explain = new vscode.CodeAction(`Explain ${finding.code}`, vscode.CodeActionKind.QuickFix);
      explain.diagnostics = [diag];
      explain.command = { command: 'mtls.lint.explain', title: explain.title, arguments: [finding.code] };
      actions.push(explain);
    }
    return actions;
  }
}

/** Asks for a CA: the origin-pull CA, a workspace CA, a file from disk, or a typed server path. */
export async function pickCa(controller: LintController, uri: vscode.Uri | undefined, dialect: Dialect): Promise<CaChoice | undefined> {
  type Item = vscode.QuickPickItem & { ca?: CaChoice; action?: 'browse' | 'type' };
  const pull = originPullCa(controller.shared.context, uri, dialect);
  const items: Item[] = [
    { label: '$(cloud) Cloudflare origin-pull CA', description: 'shared by every Cloudflare zone (global AOP)', detail: `on the server: ${pull.path}`, ca: pull },
    ...workspaceCas(controller.shared.storeRoot(), uri, dialect).map(ca => ({ label: `$(shield) ${ca.label.replace(/^workspace CA /, '')}`, description: 'workspace CA', detail: `on the server: ${ca.path}`, ca })),
    { label: '$(folder-opened) Browse...', action: 'browse' as const },
    { label: '$(edit) Enter a path on the server...', action: 'type' as const },
  ];
  const choice = await vscode.window.showQuickPick(items, { title: 'CA that signs the client certificate Cloudflare presents', placeHolder: 'Client CA for the origin' });
  if (!choice) return undefined;
  if (choice.ca) return choice.ca;
  if (choice.action === 'browse') {
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use as client CA', filters: { 'PEM certificates': ['pem', 'crt', 'cer'], 'All files': ['*'] } });
    if (!picked?.[0]) return undefined;
    // The config gets the server path of the file; the local file is what the offered copy is made from.
    const configured = lintConfig(uri).get<string>(`serverCaPath.${dialect}`);
    return { path: serverPathFor(dialect, configured, path.basename(picked[0].fsPath)), label: path.basename(picked[0].fsPath), kind: 'typed', source: picked[0].fsPath };
  }
  const typed = await vscode.window.showInputBox({ title: 'Path of the client CA file (PEM) on the server', placeHolder: configuredServerCaPath(uri, dialect), validateInput: v => (v.trim() ? undefined : 'Enter a path') });
  return typed?.trim() ? { path: typed.trim(), label: path.basename(typed.trim()), kind: 'typed' } : undefined;
}

export function registerFixCommands(controller: LintController): void {
  controller.shared.context.subscriptions.push(
    registerMtlsCommand(FIX_WITH_CA, {}, async (uri: vscode.Uri, finding: Finding, ca?: CaChoice) => {
      const doc = await vscode.workspace.openTextDocument(uri);
      const dialect = dialectOf(doc, finding) ?? 'nginx';
      ca ??= await pickCa(controller, uri, dialect);
      if (!ca) throw new UserCancelled();
      const fixes = await loadFixes();
      const list = fixes.computeFixes(doc.getText(), finding, { cas: [ca], dialect });
      const fix = list.find(f => f.ca);
      if (!fix) {
        void vscode.window.showWarningMessage('mTLS: the config changed since it was linted; nothing to fix there any more.');
        return false;
      }
      const ok = await vscode.workspace.applyEdit(toWorkspaceEdit(uri, fix.edits));
      if (ok && fix.ca) void saveCaBesideConfig(uri, fix.ca);
      return ok;
    }),
    registerMtlsCommand(SAVE_CA, {}, (uri: vscode.Uri, ca: CaChoice, options?: { ask?: boolean }) => saveCaBesideConfig(uri, ca, options?.ask !== false)),
  );
}
