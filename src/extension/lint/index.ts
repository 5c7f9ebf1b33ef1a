// Origin config linting in the editor: diagnostics as you type, quick-fixes, rule explanations and
// "mTLS: Lint Origin Configs". The linter itself (src/core/lint) loads on the first config linted.
import * as vscode from 'vscode';
import * as fs from 'fs';
import * as path from 'path';
import { registerMtlsCommand } from '../commands';
import { Shared } from '../context';
import { LintWorker } from '../../core/lint/offThread';
import type { Dialect, Finding } from '../../core/lint/types';
import {
  LANGUAGE_DIALECT, RULE_SCHEME, editorAwareFs, findingKey, ignoreCodes, lintConfig, loadCore, matchesConfig, openDocumentTexts,
  serverCaSetting, toDiagnostic, toRange, workspaceRootFor,
} from './core';
import { LintCodeActionProvider, registerFixCommands } from './actions';
import { RuleDocumentProvider, registerExplain } from './explain';
import { lintWorkspace } from './workspace';
import { markWalkthroughStep } from '../walkthrough';

export const DEBOUNCE_MS = 300;
/** Longest a lint may run in the worker thread before it is stopped (the editor never waits on it). */
const WORKER_BUDGET_MS = 10000;

/** Findings behind the diagnostics of one file, for the quick-fixes. */
export interface FileFindings {
  version?: number;
  byKey: Map<string, Finding>;
}

export class LintController implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('mtls');
  readonly findings = new Map<string, FileFindings>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly disposables: vscode.Disposable[] = [this.collection];

  constructor(readonly shared: Shared) {
    const ws = vscode.workspace;
    this.disposables.push(
      ws.onDidOpenTextDocument(d => this.lintSoon(d, 0)),
      ws.onDidChangeTextDocument(e => { if (e.contentChanges.length) this.lintSoon(e.document, DEBOUNCE_MS); }),
      ws.onDidSaveTextDocument(d => this.lintSoon(d, 0)),
      ws.onDidCloseTextDocument(d => this.clear(d.uri)),
      // Documents are disposed lazily; clear as soon as the last tab showing one closes.
      vscode.window.tabGroups.onDidChangeTabs(e => {
        for (const tab of e.closed) {
          const uri = tab.input instanceof vscode.TabInputText ? tab.input.uri : undefined;
          if (uri && !this.isShown(uri)) this.clear(uri);
        }
      }),
      ws.onDidChangeConfiguration(e => { if (e.affectsConfiguration('mtls.lint')) this.lintOpenDocuments(); }),
    );
    this.lintOpenDocuments();
  }

  lintOpenDocuments(): void {
    for (const d of vscode.workspace.textDocuments) this.lintSoon(d, 0);
  }

  /** Whether this document is linted, and as which dialect (undefined: detect from content). */
  applies(doc: vscode.TextDocument): { lint: boolean; dialect?: Dialect; sniff: boolean } {
    if (doc.uri.scheme === RULE_SCHEME || doc.uri.scheme === 'output' || doc.uri.scheme === 'git') return { lint: false, sniff: false };
    if (!lintConfig(doc.uri).get<boolean>('enable', true)) return { lint: false, sniff: false };
    const m = matchesConfig(doc);
    if (m.byLanguage) return { lint: true, dialect: LANGUAGE_DIALECT[doc.languageId], sniff: false };
    return { lint: m.byPath, sniff: true };
  }

  lintSoon(doc: vscode.TextDocument, delay: number): void {
    const key = doc.uri.toString();
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    if (!this.applies(doc).lint) {
      if (this.findings.has(key)) this.clear(doc.uri);
      return;
    }
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      void this.lintDocument(doc);
    }, delay));
  }

  async lintDocument(doc: vscode.TextDocument): Promise<Finding[]> {
    const how = this.applies(doc);
    if (!how.lint || doc.isClosed) return [];
    const core = await loadCore();
    const file = doc.uri.scheme === 'file' ? doc.uri.fsPath : doc.uri.path;
    const text = doc.getText();
    const version = doc.version;
    const dialect = how.dialect ?? core.detectDialect(file, text);
    if (!dialect) { this.clear(doc.uri); return []; } // plain text that is not a config after all
    let findings: Finding[] = [];
    const settings = { ignoreCodes: ignoreCodes(doc.uri), workspaceRoot: workspaceRootFor(doc.uri), serverCaPath: serverCaSetting(doc.uri, dialect) };
    const worker = this.lintWorker();
    let done = false;
    if (worker) {
      // Off the extension host's main thread: it only copies the texts over and the findings back.
      try {
        findings = await worker.lint(text, { file, dialect, settings }, openDocumentTexts());
        done = true;
      } catch (err) {
        this.shared.log.warn(`lint ${file} in the worker thread failed (${(err as Error).message}); linting here instead.`);
      }
    }
    if (!done) {
      try {
        findings = core.lintText(text, { file, dialect, settings, fs: editorAwareFs() });
      } catch (err) {
        this.shared.log.error(`lint ${file}: ${(err as Error).message}`);
      }
    }
    if (doc.isClosed || doc.version !== version) return findings; // a newer lint is on its way
    this.set(doc.uri, findings.filter(f => samePath(f.file, file)), version);
    return findings;
  }

  private worker?: LintWorker | null;

  /** The lint worker thread (dist/lintWorker.js), or null when the bundle has none (then lint runs here). */
  lintWorker(): LintWorker | null {
    if (this.worker !== undefined) return this.worker;
    const script = path.join(this.shared.context.extensionPath, 'dist', 'lintWorker.js');
    this.worker = fs.existsSync(script) ? new LintWorker(script, WORKER_BUDGET_MS) : null;
    return this.worker;
  }

  set(uri: vscode.Uri, findings: Finding[], version?: number): void {
    const byKey = new Map<string, Finding>();
    const diagnostics = findings.map(f => {
      const d = toDiagnostic(f);
      byKey.set(findingKey(f.code, toRange(f)), f);
      return d;
    });
    this.findings.set(uri.toString(), { version, byKey });
    this.collection.set(uri, diagnostics);
  }

  private isShown(uri: vscode.Uri): boolean {
    const key = uri.toString();
    return vscode.window.tabGroups.all.some(g => g.tabs.some(t => t.input instanceof vscode.TabInputText && t.input.uri.toString() === key));
  }

  clear(uri: vscode.Uri): void {
    const key = uri.toString();
    const t = this.timers.get(key);
    if (t) { clearTimeout(t); this.timers.delete(key); }
    this.findings.delete(key);
    this.collection.delete(uri);
  }

  /** The finding behind a diagnostic of ours. */
  findingFor(uri: vscode.Uri, d: vscode.Diagnostic): Finding | undefined {
    const code = typeof d.code === 'object' ? String(d.code.value) : String(d.code ?? '');
    return this.findings.get(uri.toString())?.byKey.get(findingKey(code, d.range));
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.worker?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

function samePath(a: string, b: string): boolean {
  return a.replace(/\\/g, '/') === b.replace(/\\/g, '/');
}

export function registerLint(shared: Shared): LintController {
  const controller = new LintController(shared);
  const ctx = shared.context;
  ctx.subscriptions.push(
    controller,
    vscode.languages.registerCodeActionsProvider(
      [{ scheme: 'file' }, { scheme: 'untitled' }],
      new LintCodeActionProvider(controller),
      { providedCodeActionKinds: LintCodeActionProvider.providedCodeActionKinds },
    ),
    vscode.workspace.registerTextDocumentContentProvider(RULE_SCHEME, new RuleDocumentProvider()),
    registerMtlsCommand('mtls.lintWorkspace', {}, async () => {
      const summary = await lintWorkspace(controller);
      if (summary?.files.length) markWalkthroughStep('mtls.lintRan');
      return summary;
    }),
  );
  registerExplain(ctx);
  registerFixCommands(controller);
  return controller;
}
