// "mTLS: Lint Origin Configs": every nginx/Apache/Caddy/HAProxy config of the workspace into the Problems panel.
import * as vscode from 'vscode';
import * as fs from 'fs';
import type { Finding } from '../../core/lint/types';
import type { LintController } from './index';
import { LANGUAGE_DIALECT, editorAwareFs, ignoreCodes, includeGlobs, loadCore, openDocumentTexts, serverCaSetting, workspaceRootFor } from './core';

const EXCLUDE = '**/{node_modules,.git,.vscode-test,.mtls}/**';
/** Names searched for content sniffing, beyond mtls.lint.include. */
const SNIFF = '**/{*.conf,*.vhost,*.nginx,*.nginxconf,.htaccess,*.cfg,*.caddy,Caddyfile}';
const MAX_FILES = 5000;
const MAX_BYTES = 5 * 1024 * 1024;

export interface WorkspaceLintSummary {
  /** Absolute paths of the configs linted. */
  files: string[];
  errors: number;
  warnings: number;
  information: number;
  /** Findings per file (absolute path). */
  byFile: Record<string, { code: string; severity: string; line: number; column: number }[]>;
}

export async function lintWorkspace(controller: LintController): Promise<WorkspaceLintSummary | undefined> {
  const log = controller.shared.log;
  if (!vscode.workspace.workspaceFolders?.length) {
    void vscode.window.showInformationMessage('mTLS: open a folder to lint its origin configs.');
    return undefined;
  }
  const t0 = Date.now();
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'mTLS: Linting origin configs', cancellable: true }, async (progress, token) => {
    const core = await loadCore();
    progress.report({ message: 'finding configs...' });
    const globs = includeGlobs();
    const [included, sniffed] = await Promise.all([
      globs.length ? vscode.workspace.findFiles(`{${globs.join(',')}}`, EXCLUDE, MAX_FILES, token) : Promise.resolve([]),
      vscode.workspace.findFiles(SNIFF, EXCLUDE, MAX_FILES, token),
    ]);
    const candidates = new Map<string, { uri: vscode.Uri }>();
    for (const u of sniffed) if (u.scheme === 'file') candidates.set(u.fsPath, { uri: u });
    for (const u of included) if (u.scheme === 'file') candidates.set(u.fsPath, { uri: u });
    const openDocs = new Map(vscode.workspace.textDocuments.filter(d => d.uri.scheme === 'file').map(d => [d.uri.fsPath, d]));
    const fsAccess = editorAwareFs();
    const openTexts = openDocumentTexts();
    const worker = controller.lintWorker();
    const perFile = new Map<string, Map<string, Finding>>();
    const linted: string[] = [];
    const list = [...candidates.values()].sort((a, b) => a.uri.fsPath.localeCompare(b.uri.fsPath));
    for (const { uri } of list) {
      if (token.isCancellationRequested) break;
      const file = uri.fsPath;
      try {
        if (!openDocs.has(file) && fs.statSync(file).size > MAX_BYTES) continue;
      } catch { continue; }
      const text = fsAccess.readFile(file);
      if (text === undefined || text.includes('\u0000')) continue;
      const doc = openDocs.get(file);
      const dialect = (doc && LANGUAGE_DIALECT[doc.languageId]) ?? core.detectDialect(file, text);
      // Content sniffing: a file found by name is linted only when it reads as nginx or Apache.
      if (!dialect) continue;
      progress.report({ message: vscode.workspace.asRelativePath(uri), increment: 100 / list.length });
      linted.push(file);
      if (!perFile.has(file)) perFile.set(file, new Map());
      let findings: Finding[] = [];
      const settings = { ignoreCodes: ignoreCodes(uri), workspaceRoot: workspaceRootFor(uri), serverCaPath: serverCaSetting(uri, dialect) };
      try {
        // In the worker thread when the bundle has one, so the extension host stays responsive.
        findings = worker ? await worker.lint(text, { file, dialect, settings }, openTexts) : core.lintText(text, { file, dialect, settings, fs: fsAccess });
      } catch (err) {
        log.error(`lint ${file}: ${(err as Error).message}`);
      }
      for (const f of findings) {
        // findings in included files are kept when those files are in the workspace
        if (!candidates.has(f.file) && f.file !== file) continue;
        let m = perFile.get(f.file);
        if (!m) perFile.set(f.file, (m = new Map()));
        m.set(`${f.code}@${f.line}:${f.column}-${f.endLine}:${f.endColumn}`, f);
      }
    }
    const summary: WorkspaceLintSummary = { files: linted, errors: 0, warnings: 0, information: 0, byFile: {} };
    for (const [file, m] of perFile) {
      const findings = [...m.values()].sort((a, b) => a.line - b.line || a.column - b.column);
      controller.set(vscode.Uri.file(file), findings);
      summary.byFile[file] = findings.map(f => ({ code: f.code, severity: f.severity, line: f.line, column: f.column }));
      for (const f of findings) {
        if (f.severity === 'error') summary.errors++;
        else if (f.severity === 'warning') summary.warnings++;
        else summary.information++;
      }
    }
    const msg = `Linted ${linted.length} origin config${linted.length === 1 ? '' : 's'} in ${Date.now() - t0} ms: ${summary.errors} error(s), ${summary.warnings} warning(s), ${summary.information} information`;
    log.info(msg);
    for (const [file, list2] of Object.entries(summary.byFile)) {
      if (list2.length) log.info(`  ${vscode.workspace.asRelativePath(file)}: ${list2.map(f => `${f.line}:${f.column} ${f.code}`).join(', ')}`);
    }
    if (token.isCancellationRequested) log.warn('Lint Origin Configs was cancelled; the results are partial.');
    void vscode.window.showInformationMessage(`mTLS: ${msg}.`, 'Show Problems').then(c => { if (c) void vscode.commands.executeCommand('workbench.actions.view.problems'); });
    return summary;
  });
}
