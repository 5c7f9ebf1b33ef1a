// What the explorer's commands share: their context, argument helpers, progress and refresh after a
// change, and finding the CA or certificate a command acts on (a tree row, a path, or a pick).
import * as path from 'path';
import * as vscode from 'vscode';
import type { CaEntry, StoreEntry } from '../../../core/pki';
import { MtlsError, UserCancelled } from '../../../core/errors';
import type { Shared } from '../../context';
import type { CertificateTreeProvider, CaNode, CertNode, ExplorerNode } from '../tree';
import { isEntryNode, warnDays } from '../tree';
import type { InspectDocumentProvider } from '../inspectDocument';
import { daysLeftText } from '../present';
import { quickPick, splitSans } from '../prompts';

/** core/pki loads node-forge: imported on first use, not at activation. */
export const core = () => import('../../../core/pki');

export interface ExplorerCommandContext {
  shared: Shared;
  tree: CertificateTreeProvider;
  view: vscode.TreeView<ExplorerNode>;
  inspect: InspectDocumentProvider;
}

/**
 * One explorer command. Its argument, in this order of precedence:
 *   - a tree row (context menus, inline actions), a file Uri (Explorer context menu) or a path string;
 *   - an options object (other features, tests): given fields skip their prompts, optional fields that
 *     are absent take their defaults without asking, required ones that are absent are asked for;
 *   - nothing (Command Palette): every field is asked for.
 * It returns what it created or found, so callers can chain; undefined when cancelled or failed.
 */
export interface ExplorerCommand {
  id: string;
  /** The action as the trust warning names it; absent for read-only commands. */
  trust?: string;
  run(ctx: ExplorerCommandContext, arg?: unknown): Promise<unknown>;
}

export interface TargetArgs { path?: string; cert?: string; certPath?: string }

/** A certificate a command acts on: its file, and its row when it is in the store. */
export interface Target { certPath: string; node?: CaNode | CertNode; entry?: StoreEntry }

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !(v instanceof vscode.Uri) && !Array.isArray(v) && !('kind' in (v as object) && 'id' in (v as object));

/**
 * A command's input: scripts and tests pass an options object and are never asked anything; without one
 * (palette, or a tree node from a context menu) a person drives the command and is asked for what is missing.
 */
export function commandInput<T extends object>(arg: unknown): { args: T; interactive: boolean } {
  return isPlainObject(arg) ? { args: arg as T, interactive: false } : { args: {} as T, interactive: true };
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

export function sansOf(v: string[] | string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.map(s => s.trim()).filter(Boolean) : splitSans(v);
}

export function storeRoot(ctx: ExplorerCommandContext): string {
  const root = ctx.shared.storeRoot();
  if (!root) throw new MtlsError('no-folder', 'Open a folder first: the certificate store lives in the workspace.');
  return root;
}

/** A path relative to the workspace folder when it is inside it, for messages. */
export function rel(p: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return folder && p.startsWith(folder + path.sep) ? path.relative(folder, p) : p;
}

export function progress<T>(title: string, fn: (report: (message: string) => void) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: false },
    p => fn(message => p.report({ message })));
}

/** After a change: re-read the store, redraw, and select the new row when the view is open. */
export async function afterChange(ctx: ExplorerCommandContext, revealPath?: string): Promise<void> {
  const { tree, view, inspect } = ctx;
  await tree.refresh();
  inspect.refreshOpen();
  if (revealPath && view.visible) {
    const node = tree.find(revealPath);
    if (node) {
      tree.showPageOf(node);
      await Promise.resolve(view.reveal(node, { select: true, focus: false, expand: true })).then(undefined, () => undefined);
    }
  }
}

export const labelOf = (e: StoreEntry) => (e.info.isCa ? e.name : e.info.subjectCn ?? e.name);

// ---- finding CAs and certificates --------------------------------------------------------------

/** The name core's loadCa expects (`<root>/<name>/ca.pem`), or undefined when the CA cannot issue. */
function caNameOf(ca: CaEntry, root: string): string | undefined {
  if (!ca.keyPath || path.basename(ca.certPath) !== 'ca.pem') return undefined;
  const name = path.relative(root, path.dirname(ca.certPath));
  return name && !name.startsWith('..') && !path.isAbsolute(name) ? name : undefined;
}

async function issuingCas(ctx: ExplorerCommandContext, root: string): Promise<CaEntry[]> {
  const model = await ctx.tree.load();
  return [...model.cas.values()].filter(ca => caNameOf(ca, root) !== undefined);
}

/** The CA that signs: a CA row, an explicit name (or path), the only CA, or a pick. */
export async function resolveIssuingCa(ctx: ExplorerCommandContext, arg: unknown, explicit: string | undefined, title: string, root: string): Promise<string> {
  if (isEntryNode(arg) && arg.kind === 'ca') {
    const name = caNameOf(arg.entry, root);
    if (!name) throw new MtlsError('no-ca-key', `The CA ${arg.entry.name} has no private key in the store, so it cannot sign.`, 'Import its key, or create a CA with "mTLS: Create CA...".');
    return name;
  }
  if (explicit) {
    if (path.isAbsolute(explicit)) {
      const ca = (await ctx.tree.load()).cas.get(path.resolve(explicit));
      const name = ca && caNameOf(ca, root);
      if (!name) throw new MtlsError('not-found', `No CA with a private key at ${explicit}.`);
      return name;
    }
    return explicit;
  }
  const cas = await issuingCas(ctx, root);
  if (cas.length === 0) {
    const create = 'Create CA...';
    void vscode.window.showWarningMessage('mTLS: there is no CA with a private key in the store yet.', create).then(c => {
      if (c === create) void vscode.commands.executeCommand('mtls.createCa');
    });
    throw new UserCancelled();
  }
  if (cas.length === 1) return caNameOf(cas[0], root)!;
  const picked = await quickPick(cas.map(ca => ({
    label: `$(verified) ${ca.name}`, description: daysLeftText(ca.info, warnDays()), detail: ca.info.subject, name: caNameOf(ca, root)!,
  })), { title, placeHolder: 'Which CA signs it?' });
  return picked.name;
}

export async function resolveTarget(ctx: ExplorerCommandContext, arg: unknown, title: string, accept: (t: CaNode | CertNode) => boolean = () => true, what = 'certificate'): Promise<Target> {
  const { tree } = ctx;
  if (isEntryNode(arg)) return { certPath: arg.entry.certPath, node: arg, entry: arg.entry };
  let given: string | undefined;
  if (arg instanceof vscode.Uri) given = arg.fsPath;
  else if (typeof arg === 'string') given = arg;
  else if (isPlainObject(arg)) given = str(arg.path) ?? str(arg.certPath) ?? str(arg.cert);
  if (given) {
    const root = ctx.shared.storeRoot();
    const certPath = path.isAbsolute(given) ? path.resolve(given) : path.resolve(root ?? process.cwd(), given);
    await tree.load();
    let node = tree.find(certPath);
    if (!node) node = (await tree.refresh(), tree.find(certPath));
    return { certPath, node, entry: node?.entry };
  }
  await tree.load();
  const candidates = tree.entries().filter(accept);
  if (candidates.length === 0) throw new MtlsError('not-found', `There is no ${what} in the store for this.`);
  const days = warnDays();
  const picked = await quickPick(candidates.map(n => ({
    label: `$(${n.kind === 'ca' ? 'verified' : n.entry.info.profile === 'origin-pull' ? 'cloud' : 'person'}) ${n.kind === 'ca' ? n.entry.name : n.entry.info.subjectCn ?? n.entry.name}`,
    description: `${n.entry.revoked ? 'revoked · ' : ''}${daysLeftText(n.entry.info, days)}${n.kind === 'cert' && n.ca ? ` · ${n.ca.name}` : ''}`,
    detail: rel(n.entry.certPath),
    node: n,
  })), { title, placeHolder: `Choose a ${what}`, matchOnDetail: true });
  return { certPath: picked.node.entry.certPath, node: picked.node, entry: picked.node.entry };
}

export function requireEntry(ctx: ExplorerCommandContext, t: Target): StoreEntry {
  if (!t.entry) throw new MtlsError('not-found', `${rel(t.certPath)} is not a certificate of the store (${rel(storeRoot(ctx))}).`, 'Import it first with "mTLS: Import CA or Certificate...".');
  return t.entry;
}
