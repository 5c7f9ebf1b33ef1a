// Lazy access to the linter and its quick-fixes: the parsers load on the first config linted, not at activation.
import * as vscode from 'vscode';
import * as path from 'path';
import type * as LintCore from '../../core/lint';
import type * as LintFixes from '../../core/lint/fixes';
import type { Dialect, Finding, LintFs, Severity } from '../../core/lint/types';
import { overlayLintFs } from '../../core/lint/fs';

export type Core = typeof LintCore;
export type Fixes = typeof LintFixes;

let corePromise: Promise<Core> | undefined;
let fixesPromise: Promise<Fixes> | undefined;

export function loadCore(): Promise<Core> {
  return (corePromise ??= import('../../core/lint'));
}

export function loadFixes(): Promise<Fixes> {
  return (fixesPromise ??= import('../../core/lint/fixes'));
}

export const LANGUAGE_DIALECT: Record<string, Dialect> = { nginx: 'nginx', NGINX: 'nginx', apacheconf: 'apache', apache: 'apache', caddyfile: 'caddy', haproxy: 'haproxy' };

export const DEFAULT_INCLUDE = ['**/sites-available/*', '**/sites-enabled/*', '**/conf.d/*.conf', '**/nginx.conf', '**/httpd.conf', '**/apache2.conf', '**/*.vhost', '**/Caddyfile', '**/*.caddy', '**/haproxy.cfg', '**/haproxy/*.cfg'];

export function lintConfig(uri?: vscode.Uri): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('mtls.lint', uri);
}

export function includeGlobs(uri?: vscode.Uri): string[] {
  const v = lintConfig(uri).get<string[]>('include');
  return Array.isArray(v) ? v.filter(x => typeof x === 'string' && x) : DEFAULT_INCLUDE;
}

/** The document is a config by its language, or by its path matching mtls.lint.include. */
export function matchesConfig(doc: vscode.TextDocument): { byLanguage: boolean; byPath: boolean } {
  const byLanguage = doc.languageId in LANGUAGE_DIALECT;
  let byPath = false;
  if (!byLanguage && (doc.uri.scheme === 'file' || doc.uri.scheme === 'untitled' || doc.uri.scheme === 'vscode-remote')) {
    byPath = includeGlobs(doc.uri).some(pattern => vscode.languages.match({ pattern }, doc) > 0);
  }
  return { byLanguage, byPath };
}

export function toRange(r: { line: number; column: number; endLine: number; endColumn: number }): vscode.Range {
  const sl = Math.max(0, r.line - 1), sc = Math.max(0, r.column - 1);
  const el = Math.max(sl, r.endLine - 1), ec = Math.max(0, r.endColumn - 1);
  return new vscode.Range(sl, sc, el, el === sl ? Math.max(sc, ec) : ec);
}

export function toSeverity(s: Severity): vscode.DiagnosticSeverity {
  return s === 'error' ? vscode.DiagnosticSeverity.Error : s === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information;
}

export const RULE_SCHEME = 'mtls-rule';

export function ruleUri(code: string): vscode.Uri {
  return vscode.Uri.from({ scheme: RULE_SCHEME, path: `/${code}.md` });
}

export function toDiagnostic(f: Finding): vscode.Diagnostic {
  const d = new vscode.Diagnostic(toRange(f), f.message, toSeverity(f.severity));
  d.source = 'mtls';
  d.code = { value: f.code, target: ruleUri(f.code) };
  return d;
}

/** Key that ties a diagnostic back to its finding (diagnostics reach code actions as copies). */
export function findingKey(code: string, r: vscode.Range): string {
  return `${code}@${r.start.line}:${r.start.character}-${r.end.line}:${r.end.character}`;
}

/**
 * File access for the linter: open editors' unsaved text first, then the disk through the core's reader
 * (regular files only, size-capped: a FIFO or a link to /dev/zero in an include glob never blocks the
 * extension host or fills its memory).
 */
export function editorAwareFs(): Pick<LintFs, 'readFile' | 'fileExists' | 'problem'> {
  return overlayLintFs(openDocumentTexts());
}

/** The texts of open file documents (unsaved edits included), by normalized path. */
export function openDocumentTexts(): Map<string, string> {
  const open = new Map<string, string>();
  for (const d of vscode.workspace.textDocuments) if (d.uri.scheme === 'file') open.set(path.normalize(d.uri.fsPath), d.getText());
  return open;
}

/** The setting mtls.lint.serverCaPath.<dialect> (undefined: the conventional path). */
export function serverCaSetting(uri: vscode.Uri | undefined, dialect: Dialect): string | undefined {
  const v = lintConfig(uri).get<string>(`serverCaPath.${dialect}`);
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

export function ignoreCodes(uri?: vscode.Uri): string[] {
  const v = lintConfig(uri).get<string[]>('ignore');
  return Array.isArray(v) ? v : [];
}

export function workspaceRootFor(uri: vscode.Uri): string | undefined {
  const f = vscode.workspace.getWorkspaceFolder(uri) ?? vscode.workspace.workspaceFolders?.[0];
  return f?.uri.scheme === 'file' ? f.uri.fsPath : undefined;
}
