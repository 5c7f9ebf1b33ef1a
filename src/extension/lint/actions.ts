// Quick-fixes for the mtls diagnostics. Every action carries a complete WorkspaceEdit (one per CA source:
// the bundled Cloudflare origin-pull CA, each CA of the workspace store), so `vscode.executeCodeActionProvider`
// callers and the light bulb get the same edits; "Choose a CA file..." asks through a command.
import * as vscode from 'vscode';
import * as fs from 'fs';
import * as path from 'path';
import type { CaChoice, Fix, TextEdit } from '../../core/lint/fixes';
import type { Dialect, Finding } from '../../core/lint/types';
import { UserCancelled } from '../../core/errors';
import { registerMtlsCommand } from '../commands';
import type { LintController } from './index';
import { LANGUAGE_DIALECT, loadCore, loadFixes, toRange } from './core';

const FIX_WITH_CA = 'mtls.lint.fixWithChosenCa';

/** Codes whose fixes need a CA path, and the title of the action that asks for one. */
const CHOOSE_TITLES: Record<string, string> = {
  'leg2-no-client-auth': 'Require client certificate (choose a CA file...)',
  'leg2-no-ca': 'Add client CA (choose a CA file...)',
  'leg2-ca-file': 'Use another CA as the client CA (choose a CA file...)',
};
const NEEDS_CA = new Set(Object.keys(CHOOSE_TITLES));

export function originPullCa(context: vscode.ExtensionContext): CaChoice {
  return { path: context.asAbsolutePath('media/authenticated_origin_pull_ca.pem'), label: 'origin-pull CA', kind: 'origin-pull' };
}

/** CAs of the workspace store: `<store>/<name>/ca.pem`. */
export function workspaceCas(storeRoot: string | undefined): CaChoice[] {
  if (!storeRoot) return [];
  let names: string[] = [];
  try { names = fs.readdirSync(storeRoot).sort(); } catch { return []; }
  return names
    .filter(n => !n.startsWith('.') && fs.existsSync(path.join(storeRoot, n, 'ca.pem')))
    .map(n => ({ path: path.join(storeRoot, n, 'ca.pem'), label: `workspace CA ${n}`, kind: 'workspace' as const }));
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
    const cas = [originPullCa(this.controller.shared.context), ...workspaceCas(this.controller.shared.storeRoot())];
    const actions: vscode.CodeAction[] = [];
    for (const diag of ours) {
      const finding = this.controller.findingFor(doc.uri, diag);
      if (!finding) continue;
      const dialect = dialectOf(doc, finding) ?? (await loadCore()).detectDialect(doc.uri.fsPath, text);
      const list: Fix[] = fixes.computeFixes(text, finding, { cas, dialect });
      for (const fix of list) {
        const a = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        a.edit = toWorkspaceEdit(doc.uri, fix.edits);
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

/** Asks for a CA: the bundled origin-pull CA, a workspace CA, a file from disk, or a typed path. */
export async function pickCa(controller: LintController): Promise<CaChoice | undefined> {
  type Item = vscode.QuickPickItem & { ca?: CaChoice; action?: 'browse' | 'type' };
  const pull = originPullCa(controller.shared.context);
  const items: Item[] = [
    { label: '$(cloud) Cloudflare origin-pull CA', description: 'shared by every Cloudflare zone (global AOP)', detail: pull.path, ca: pull },
    ...workspaceCas(controller.shared.storeRoot()).map(ca => ({ label: `$(shield) ${ca.label.replace(/^workspace CA /, '')}`, description: 'workspace CA', detail: ca.path, ca })),
    { label: '$(folder-opened) Browse...', action: 'browse' as const },
    { label: '$(edit) Enter a path...', action: 'type' as const },
  ];
  const choice = await vscode.window.showQuickPick(items, { title: 'CA that signs the client certificate Cloudflare presents', placeHolder: 'Client CA for the origin' });
  if (!choice) return undefined;
  if (choice.ca) return choice.ca;
  if (choice.action === 'browse') {
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use as client CA', filters: { 'PEM certificates': ['pem', 'crt', 'cer'], 'All files': ['*'] } });
    return picked?.[0] ? { path: picked[0].fsPath, label: path.basename(picked[0].fsPath), kind: 'typed' } : undefined;
  }
  const typed = await vscode.window.showInputBox({ title: 'Path of the client CA file (PEM), as the server sees it', placeHolder: '/etc/ssl/certs/origin-pull-ca.pem', validateInput: v => (v.trim() ? undefined : 'Enter a path') });
  return typed?.trim() ? { path: typed.trim(), label: path.basename(typed.trim()), kind: 'typed' } : undefined;
}

export function registerFixCommands(controller: LintController): void {
  controller.shared.context.subscriptions.push(
    registerMtlsCommand(FIX_WITH_CA, {}, async (uri: vscode.Uri, finding: Finding, ca?: CaChoice) => {
      ca ??= await pickCa(controller);
      if (!ca) throw new UserCancelled();
      const doc = await vscode.workspace.openTextDocument(uri);
      const fixes = await loadFixes();
      const list = fixes.computeFixes(doc.getText(), finding, { cas: [ca], dialect: dialectOf(doc, finding) });
      const fix = list.find(f => f.ca);
      if (!fix) {
        void vscode.window.showWarningMessage('mTLS: the config changed since it was linted; nothing to fix there any more.');
        return false;
      }
      return vscode.workspace.applyEdit(toWorkspaceEdit(uri, fix.edits));
    }),
  );
}
