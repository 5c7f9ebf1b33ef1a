// Certificate Explorer: the Certificates view, its commands, expiry decorations, the inspect
// document, a watcher on the store folder and the warning about keys tracked by git.
// Activation stays light: core/pki (node-forge) is imported on first use, inside handlers.
import * as path from 'path';
import * as vscode from 'vscode';
import { describeError } from '../../core/errors';
import type { Shared } from '../context';
import { registerCommands } from './commands';
import { ExpiryDecorationProvider } from './decorations';
import { registerManagedCaCommands } from './managedCa';
import { INSPECT_SCHEME, InspectDocumentProvider } from './inspectDocument';
import { CertificateTreeProvider, CloudflareLegStatus, ExplorerNode, StoreModel } from './tree';

export type { ExplorerNode } from './tree';

/** What `activate` hands out as `explorer` (tests and other features). */
export interface ExplorerApi {
  getChildren(node?: ExplorerNode): Promise<ExplorerNode[]>;
  getTreeItem(node: ExplorerNode): vscode.TreeItem;
  /** Re-reads the store; resolves when the tree has the new content. */
  refresh(): Promise<StoreModel>;
  /** Resolves with the next (re)load of the store, e.g. after the watcher saw a change. */
  nextLoad(): Promise<StoreModel>;
  /** Keys and bundles in the store that git tracks (warns once per session when there are any). */
  trackedKeys(): Promise<string[]>;
  /** The provider's decoration for a row's resourceUri. */
  decoration(uri: vscode.Uri): vscode.FileDecoration | undefined;
  readonly treeView: vscode.TreeView<ExplorerNode>;
  /** The setup guide's last Cloudflare read, shown next to the CA and origin-pull certificate it concerns. */
  setCloudflareStatus(status: CloudflareLegStatus | undefined): void;
}

const WATCH_DEBOUNCE_MS = 300;

export function registerExplorer(shared: Shared): ExplorerApi {
  const { context, log } = shared;
  const tree = new CertificateTreeProvider(shared);
  const treeView = vscode.window.createTreeView('mtls.certificates', { treeDataProvider: tree, showCollapseAll: true });
  const inspect = new InspectDocumentProvider(tree);
  const decorations = new ExpiryDecorationProvider();
  context.subscriptions.push(
    tree, treeView, inspect,
    vscode.window.registerFileDecorationProvider(decorations),
    vscode.workspace.registerTextDocumentContentProvider(INSPECT_SCHEME, inspect),
    ...registerCommands({ shared, tree, view: treeView, inspect }),
    ...registerManagedCaCommands(shared, tree.managed, () => tree.refresh()),
  );

  // ---- the view's message and badge ------------------------------------------------------------
  const updateView = (model: StoreModel) => {
    const days = vscode.workspace.getConfiguration('mtls').get<number>('expiryWarningDays', 30);
    const entries = [...model.byPath.values()].filter(n => !n.entry.revoked && !n.entry.archived);
    const expired = entries.filter(n => n.entry.info.expired).length;
    const soon = entries.filter(n => !n.entry.info.expired && n.entry.info.daysLeft < days).length;
    treeView.badge = expired + soon ? { value: expired + soon, tooltip: `${expired ? `${expired} expired` : ''}${expired && soon ? ', ' : ''}${soon ? `${soon} expiring within ${days} days` : ''}` } : undefined;
    treeView.message = !vscode.workspace.isTrusted && model.roots.length ? 'Read-only: this workspace is not trusted.' : undefined;
  };
  context.subscriptions.push(tree.onDidLoad(updateView));

  // ---- refresh on file changes and on mtls.storePath -----------------------------------------------
  let timer: NodeJS.Timeout | undefined;
  const scheduleRefresh = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => { timer = undefined; void tree.refresh().then(() => inspect.refreshOpen()); }, WATCH_DEBOUNCE_MS);
  };
  let watcher: vscode.Disposable | undefined;
  const watch = () => {
    watcher?.dispose();
    watcher = undefined;
    const root = shared.storeRoot();
    if (!root) return;
    const folder = vscode.workspace.workspaceFolders?.[0];
    const inside = folder && !path.relative(folder.uri.fsPath, root).startsWith('..') && !path.isAbsolute(path.relative(folder.uri.fsPath, root));
    const pattern = inside
      ? new vscode.RelativePattern(folder!, `${path.relative(folder!.uri.fsPath, root).split(path.sep).join('/')}/**`)
      : new vscode.RelativePattern(vscode.Uri.file(root), '**');
    const w = vscode.workspace.createFileSystemWatcher(pattern);
    watcher = vscode.Disposable.from(w, w.onDidCreate(scheduleRefresh), w.onDidChange(scheduleRefresh), w.onDidDelete(scheduleRefresh));
  };
  watch();
  context.subscriptions.push(
    { dispose: () => { watcher?.dispose(); if (timer) clearTimeout(timer); } },
    vscode.workspace.onDidChangeConfiguration(e => {
      if (e.affectsConfiguration('mtls.storePath')) { watch(); void tree.refresh(); }
      else if (e.affectsConfiguration('mtls.expiryWarningDays')) void tree.refresh();
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => { watch(); void tree.refresh(); }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void tree.refresh()),
  );

  // ---- keys tracked by git: warn once per session ---------------------------------------------------
  let warnedGit = false;
  let checkingGit: Promise<string[]> | undefined;
  const showTracked = async (keys: string[]) => {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const rel = (k: string) => (folder && k.startsWith(folder + path.sep) ? path.relative(folder, k) : k);
    log.warn(`Private keys or PKCS#12 bundles tracked by git: ${keys.map(rel).join(', ')}. Remove them from the index (git rm --cached) and replace the certificates: anyone with the repository has these keys.`);
    const show = 'Show';
    const choice = await vscode.window.showWarningMessage(
      `mTLS: ${keys.length === 1 ? 'a private key in the certificate store is' : `${keys.length} private keys or bundles in the certificate store are`} tracked by git (${keys.slice(0, 3).map(rel).join(', ')}${keys.length > 3 ? ', ...' : ''}). Remove ${keys.length === 1 ? 'it' : 'them'} with "git rm --cached" and replace the certificates.`, show);
    if (choice !== show) return;
    const picked = await vscode.window.showQuickPick(keys.map(k => ({ label: rel(k), description: 'tracked by git', file: k })), { title: 'mTLS: private keys tracked by git', placeHolder: 'Reveal the file in the Explorer' });
    if (picked) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(path.resolve(folder ?? '', picked.file)));
  };
  /** Asks core which keys git tracks; warns (once per session) when there are any. */
  const checkTrackedKeys = (root: string | undefined): Promise<string[]> => {
    if (!root) return Promise.resolve([]);
    checkingGit ??= (async () => {
      try {
        const pki = await import('../../core/pki');
        const keys = await pki.trackedKeys(root);
        if (keys.length && !warnedGit) {
          warnedGit = true;
          void showTracked(keys);
        }
        return keys;
      } catch (err) {
        log.warn(`Could not check whether git tracks keys: ${describeError(err)}`);
        return [];
      } finally {
        checkingGit = undefined;
      }
    })();
    return checkingGit;
  };
  context.subscriptions.push(tree.onDidLoad(model => { if (!warnedGit && model.store?.exists) void checkTrackedKeys(model.root); }));

  // Load lazily: the first getChildren (the view opening) reads the store, not activation.
  return {
    getChildren: node => tree.getChildren(node),
    getTreeItem: node => tree.getTreeItem(node),
    refresh: () => tree.refresh(),
    nextLoad: () => new Promise(resolve => { const d = tree.onDidLoad(m => { d.dispose(); resolve(m); }); }),
    trackedKeys: () => checkTrackedKeys(shared.storeRoot()),
    decoration: uri => decorations.provideFileDecoration(uri),
    treeView,
    setCloudflareStatus: status => tree.setCloudflareStatus(status),
  };
}
