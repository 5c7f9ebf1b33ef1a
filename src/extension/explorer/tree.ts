// The Certificates view: CAs at the top, under each the certificates its key signed (core's listStore
// decides by signature, not by folder), then certificates no store CA signed, then unreadable files.
import * as path from 'path';
import { STATUS_MARK } from '../../core/cloudflare/steps';
import * as vscode from 'vscode';
import type { CaEntry, StoreEntry, StoreProblem, StoreTree } from '../../core/pki';
import { describeError } from '../../core/errors';
import type { Shared } from '../context';
import { describeEntry, expiryStatus, ExpiryStatus, tooltipMarkdown } from './present';
import { statusUri } from './decorations';
import { ManagedCaLive, ManagedCaNode, managedCaNodes, managedZoneOf } from './managedCa';

export type ExplorerNode = CaNode | CertNode | GroupNode | ProblemNode | ManagedCaNode | MoreNode;

interface NodeBase {
  /** Unique in the tree (the same certificate may sit under two CAs that share a key). */
  id: string;
  parent?: ExplorerNode;
}
export interface CaNode extends NodeBase { kind: 'ca'; entry: CaEntry; children: ExplorerNode[] }
export interface CertNode extends NodeBase { kind: 'cert'; entry: StoreEntry; /** The CA this row sits under. */ ca?: CaEntry }
export interface GroupNode extends NodeBase { kind: 'group'; group: 'orphans' | 'problems' | 'archive' | 'leftovers'; label: string; children: ExplorerNode[] }
export interface ProblemNode extends NodeBase { kind: 'problem'; problem: StoreProblem }
/** The last row of a long list: how many rows are not shown yet; "Show More Certificates" shows the next page. */
export interface MoreNode extends NodeBase { kind: 'more'; parent: CaNode | GroupNode; shown: number; total: number }

export function isEntryNode(n: unknown): n is CaNode | CertNode {
  return !!n && typeof n === 'object' && ((n as ExplorerNode).kind === 'ca' || (n as ExplorerNode).kind === 'cert') && 'entry' in (n as object);
}

export interface StoreModel {
  root?: string;
  store?: StoreTree;
  roots: ExplorerNode[];
  /** Every CA and certificate row, by certPath (first occurrence). */
  byPath: Map<string, CaNode | CertNode>;
  /** certPath -> CA entry, for chains and issuers. */
  cas: Map<string, CaEntry>;
  error?: string;
}

const EMPTY: StoreModel = { roots: [], byPath: new Map(), cas: new Map() };

export function warnDays(): number {
  const n = vscode.workspace.getConfiguration('mtls').get<number>('expiryWarningDays', 30);
  return Number.isFinite(n) && n > 0 ? n : 30;
}

/** Builds the rows from core's StoreTree. */
export function buildModel(root: string, store: StoreTree): StoreModel {
  const model: StoreModel = { root, store, roots: [], byPath: new Map(), cas: new Map(store.cas.map(c => [c.certPath, c])) };
  const collator = new Intl.Collator(); // many times faster than localeCompare for thousands of rows
  const byName = (a: StoreEntry, b: StoreEntry) => collator.compare(a.info.subjectCn ?? a.name, b.info.subjectCn ?? b.name);

  const caNode = (ca: CaEntry, parent: ExplorerNode | undefined, seen: Set<string>): CaNode => {
    const node: CaNode = { kind: 'ca', id: `${parent?.id ?? ''}/ca:${ca.certPath}`, entry: ca, parent, children: [] };
    if (!model.byPath.has(ca.certPath)) model.byPath.set(ca.certPath, node);
    const inner = new Set(seen).add(ca.certPath);
    const live = ca.certs.filter(c => c.certPath !== ca.certPath && !c.archived).sort(byName);
    const subCas = live.filter(c => model.cas.has(c.certPath) && !inner.has(c.certPath));
    const leaves = live.filter(c => !model.cas.has(c.certPath));
    for (const sub of subCas) node.children.push(caNode(model.cas.get(sub.certPath)!, node, inner));
    for (const leaf of leaves) node.children.push(certNode(leaf, node, ca));
    const archived = ca.certs.filter(c => c.certPath !== ca.certPath && c.archived).sort(byName);
    if (archived.length) {
      const group: GroupNode = { kind: 'group', group: 'archive', id: `${node.id}/archive`, label: `Archived (${archived.length})`, parent: node, children: [] };
      group.children = archived.map(a => certNode(a, group, ca));
      node.children.push(group);
    }
    return node;
  };
  const certNode = (entry: StoreEntry, parent: ExplorerNode | undefined, ca?: CaEntry): CertNode => {
    const node: CertNode = { kind: 'cert', id: `${parent?.id ?? ''}/cert:${entry.certPath}`, entry, parent, ca };
    if (!model.byPath.has(entry.certPath)) model.byPath.set(entry.certPath, node);
    return node;
  };

  // Top level: CAs no other store CA signed (roots, and intermediates whose issuer is elsewhere).
  const tops = store.cas.filter(c => !c.issuerPath || c.issuerPath === c.certPath || !model.cas.has(c.issuerPath)).sort(byName);
  for (const ca of tops) model.roots.push(caNode(ca, undefined, new Set()));
  // CAs only reachable through a cycle (two CAs signing each other) still get a row.
  for (const ca of store.cas) if (!model.byPath.has(ca.certPath)) model.roots.push(caNode(ca, undefined, new Set()));

  // Certificates of a zone's Cloudflare-managed CA (its key stays at Cloudflare) get their own node.
  model.roots.push(...managedCaNodes(root, store.orphans.filter(o => !model.byPath.has(o.certPath)), (e, parent) => certNode(e, parent)));
  const orphans = store.orphans.filter(o => !model.byPath.has(o.certPath) && !managedZoneOf(root, o.certPath)).sort(byName);
  if (orphans.length) {
    const group: GroupNode = { kind: 'group', group: 'orphans', id: '/orphans', label: 'Not issued by a CA in the store', children: [] };
    group.children = orphans.map(o => certNode(o, group));
    model.roots.push(group);
  }
  if (store.problems.length) {
    const group: GroupNode = { kind: 'group', group: 'problems', id: '/problems', label: `Problems (${store.problems.length})`, children: [] };
    group.children = store.problems.map(p => ({ kind: 'problem', id: `/problems/${p.path}`, problem: p, parent: group }) as ProblemNode);
    model.roots.push(group);
  }
  if (store.leftovers?.length) {
    // Remains of interrupted writes: "Clean Up Interrupted Writes" on the group removes them.
    const group: GroupNode = { kind: 'group', group: 'leftovers', id: '/leftovers', label: `Leftovers of interrupted writes (${store.leftovers.length})`, children: [] };
    group.children = store.leftovers.map(l => ({ kind: 'problem', id: `/leftovers/${l.path}`, problem: { path: l.path, message: l.message }, parent: group }) as ProblemNode);
    model.roots.push(group);
  }
  return model;
}

function contextValue(node: CaNode | CertNode, model: StoreModel): string {
  const e = node.entry;
  const flags: string[] = [];
  const kind = node.kind === 'ca' ? 'ca' : `cert-${e.info.profile && e.info.profile !== 'ca' ? e.info.profile : 'other'}`;
  // Issuing needs the CA at <store>/<name>/ca.pem with its key (core's loadCa).
  if (e.keyPath && (node.kind !== 'ca' || path.basename(e.certPath) === 'ca.pem')) flags.push('key');
  if (node.kind === 'ca' && e.keyPath && (e as CaEntry).keyEncrypted === false && path.basename(e.certPath) === 'ca.pem') flags.push('plainkey');
  if (e.issuerPath && e.issuerPath !== e.certPath && model.cas.has(e.issuerPath)) {
    flags.push('issued');
    if (model.cas.get(e.issuerPath)!.keyPath) flags.push('renewable');
  }
  if (e.revoked) flags.push('revoked');
  if (e.info.expired) flags.push('expired');
  if (e.archived) flags.push('archived');
  return [kind, ...flags].join(' ');
}

/**
 * Rows per page under a CA or a group: a CA with more certificates than this starts collapsed, and when
 * opened shows this many rows and a "Show more" row, so a store of thousands renders only what is asked for.
 */
export const PAGE_SIZE = 200;

const PROFILE_ICONS: Record<string, string> = { client: 'person', 'origin-pull': 'cloud', server: 'server-environment' };

export function statusColor(status: ExpiryStatus): vscode.ThemeColor | undefined {
  switch (status) {
    case 'expired': return new vscode.ThemeColor('list.errorForeground');
    case 'soon': case 'not-yet-valid': return new vscode.ThemeColor('list.warningForeground');
    case 'revoked': return new vscode.ThemeColor('disabledForeground');
    default: return undefined;
  }
}

/** What the setup guide last read from Cloudflare, and which store entries it concerns. */
export interface CloudflareLegStatus {
  leg1: string;
  leg2: string;
  caName?: string;
  caFingerprint?: string;
  pullCertPath?: string;
}

const LEG_MARK: Record<string, string> = STATUS_MARK;
const LEG_WORDS: Record<string, string> = { done: 'set up', todo: 'not set up', partial: 'partly set up', error: 'failed to read', unknown: 'unknown', manual: 'to check by hand' };

export class CertificateTreeProvider implements vscode.TreeDataProvider<ExplorerNode> {
  private readonly changed = new vscode.EventEmitter<ExplorerNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly loaded = new vscode.EventEmitter<StoreModel>();
  /** Fires after every (re)load of the store. */
  readonly onDidLoad = this.loaded.event;
  private current: Promise<StoreModel> | undefined;
  private latest: StoreModel = EMPTY;
  private generation = 0;
  private cloudflare: CloudflareLegStatus | undefined;
  /** Rows shown under a CA or group that someone paged through, by node id (kept across refreshes). */
  private readonly pages = new Map<string, number>();
  /** Live status of the Cloudflare-managed CAs' certificates. */
  readonly managed: ManagedCaLive;

  constructor(private readonly shared: Shared) {
    this.managed = new ManagedCaLive(shared);
    this.managed.onDidChange(() => this.changed.fire(undefined));
  }

  /** Shows each leg's Cloudflare status next to the CA (leg 1) and the origin-pull certificate (leg 2) it concerns. */
  setCloudflareStatus(status: CloudflareLegStatus | undefined): void {
    this.cloudflare = status;
    this.changed.fire(undefined);
  }

  /** "Cloudflare leg 1 ✓" for the row the guide's last read concerns, else undefined. */
  cloudflareLabel(node: CaNode | CertNode, marks: Record<string, string> = LEG_MARK): string | undefined {
    const cf = this.cloudflare;
    if (!cf) return undefined;
    const e = node.entry;
    if (node.kind === 'ca' && ((cf.caName && cf.caName === e.name) || (cf.caFingerprint && cf.caFingerprint === e.info.fingerprintSha256))) {
      return `Cloudflare leg 1 ${marks[cf.leg1] ?? cf.leg1}`;
    }
    if (cf.pullCertPath && path.resolve(cf.pullCertPath) === path.resolve(e.certPath)) return `Cloudflare leg 2 ${marks[cf.leg2] ?? cf.leg2}`;
    return undefined;
  }

  dispose() {
    this.changed.dispose();
    this.loaded.dispose();
    this.managed.dispose();
  }

  /** The last model that finished loading (possibly stale by a refresh in flight). */
  get model(): StoreModel { return this.latest; }

  /** The current model, loading the store if needed. */
  load(): Promise<StoreModel> {
    this.current ??= this.read(++this.generation);
    return this.current;
  }

  /** Re-reads the store and redraws; resolves with the new model. */
  refresh(): Promise<StoreModel> {
    this.current = undefined;
    const p = this.load();
    this.changed.fire(undefined);
    return p;
  }

  private async read(generation: number): Promise<StoreModel> {
    const root = this.shared.storeRoot();
    let model: StoreModel;
    if (!root) {
      model = EMPTY;
    } else {
      try {
        const pki = await import('../../core/pki');
        model = buildModel(root, await pki.listStore(root));
      } catch (err) {
        this.shared.log.error(`Reading the certificate store ${root}: ${describeError(err)}`);
        model = { ...EMPTY, root, error: describeError(err), roots: [{ kind: 'problem', id: '/error', problem: { path: root, message: describeError(err) } }] };
      }
    }
    if (generation === this.generation) {
      this.latest = model;
      void vscode.commands.executeCommand('setContext', 'mtls.storeLoaded', true);
      void vscode.commands.executeCommand('setContext', 'mtls.storeEmpty', model.roots.length === 0);
      this.loaded.fire(model);
      this.managed.refresh(model.roots.filter((n): n is ManagedCaNode => n.kind === 'managed-ca').map(n => n.zone));
    }
    return model;
  }

  async getChildren(node?: ExplorerNode): Promise<ExplorerNode[]> {
    if (!node) return (await this.load()).roots;
    if (node.kind === 'ca' || node.kind === 'group') {
      const shown = this.pages.get(node.id) ?? PAGE_SIZE;
      if (node.children.length <= shown) return node.children;
      const more: MoreNode = { kind: 'more', id: `${node.id}/more`, parent: node, shown, total: node.children.length };
      return [...node.children.slice(0, shown), more];
    }
    if (node.kind === 'managed-ca') return node.children as ExplorerNode[];
    return [];
  }

  /** Shows the next page of rows under the list that `more` ends. */
  showMore(more: MoreNode): void {
    this.pages.set(more.parent.id, more.shown + PAGE_SIZE);
    this.changed.fire(more.parent);
  }

  /** Makes sure the pages above `node` include it (before revealing a row past the first page). */
  showPageOf(node: ExplorerNode): void {
    for (let child = node, parent = node.parent; parent; child = parent, parent = parent.parent) {
      if (parent.kind !== 'ca' && parent.kind !== 'group') continue;
      const index = parent.children.indexOf(child);
      if (index >= (this.pages.get(parent.id) ?? PAGE_SIZE)) this.pages.set(parent.id, Math.ceil((index + 1) / PAGE_SIZE) * PAGE_SIZE);
    }
  }

  getParent(node: ExplorerNode): ExplorerNode | undefined {
    return node.parent;
  }

  getTreeItem(node: ExplorerNode): vscode.TreeItem {
    const days = warnDays();
    if (node.kind === 'managed-ca') return this.managed.treeItem(node);
    if (node.kind === 'more') {
      const next = Math.min(PAGE_SIZE, node.total - node.shown);
      const item = new vscode.TreeItem(`Show ${next} more`, vscode.TreeItemCollapsibleState.None);
      item.id = node.id;
      item.contextValue = 'more';
      item.description = `${node.shown.toLocaleString('en-US')} of ${node.total.toLocaleString('en-US')} shown`;
      item.iconPath = new vscode.ThemeIcon('ellipsis');
      item.command = { command: 'mtls.showMoreCertificates', title: 'Show More Certificates', arguments: [node] };
      item.accessibilityInformation = { label: `Show ${next} more certificates; ${node.shown} of ${node.total} are shown` };
      return item;
    }
    if (node.kind === 'group') {
      const item = new vscode.TreeItem(node.label, node.group === 'archive' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded);
      item.id = node.id;
      item.contextValue = `group-${node.group}`;
      item.iconPath = new vscode.ThemeIcon(node.group === 'problems' || node.group === 'leftovers' ? 'warning' : node.group === 'archive' ? 'archive' : 'question',
        node.group === 'problems' || node.group === 'leftovers' ? new vscode.ThemeColor('list.warningForeground') : undefined);
      if (node.group === 'leftovers') item.tooltip = 'Temporary files and staging folders an interrupted create, issue or renewal left behind. Use "Clean Up Interrupted Writes" to remove them.';
      if (node.group === 'orphans') item.tooltip = 'Certificates whose issuing CA is not in the store (imported, or the CA was deleted).';
      return item;
    }
    if (node.kind === 'problem') {
      const item = new vscode.TreeItem(path.basename(node.problem.path), vscode.TreeItemCollapsibleState.None);
      item.id = node.id;
      item.contextValue = 'problem';
      item.description = node.problem.message;
      item.tooltip = `${node.problem.path}\n${node.problem.message}`;
      const leftover = node.parent?.kind === 'group' && node.parent.group === 'leftovers';
      item.iconPath = new vscode.ThemeIcon(leftover ? 'debug-disconnect' : 'error', new vscode.ThemeColor(leftover ? 'list.warningForeground' : 'list.errorForeground'));
      if (leftover) item.contextValue = 'leftover';
      else item.command = { command: 'mtls.openCertificateFile', title: 'Open', arguments: [vscode.Uri.file(node.problem.path)] };
      return item;
    }
    const e = node.entry;
    const status = expiryStatus(e.info, days, !!e.revoked);
    const label = node.kind === 'ca' ? e.name : (e.info.subjectCn ?? e.name);
    // A CA is always expandable, and open while it is small: its first certificate then shows without a click
    // (an item that was a leaf when the tree first drew it would otherwise come back collapsed). A CA with
    // many certificates starts collapsed, so its rows are only rendered when someone opens it.
    const big = node.kind === 'ca' && node.children.length > PAGE_SIZE;
    const item = new vscode.TreeItem(label, node.kind === 'ca' ? (big ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded) : vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    const cloudflare = this.cloudflareLabel(node) ?? (node.parent?.kind === 'managed-ca' ? this.managed.describe(e.certPath) : undefined);
    const plainKey = node.kind === 'ca' && !!e.keyPath && (e as CaEntry).keyEncrypted === false;
    const description = `${describeEntry(e, days)}${plainKey ? ' · key not encrypted' : ''}${big ? ` · ${node.children.length} certificates` : ''}`;
    item.description = cloudflare ? `${description} · ${cloudflare}` : description;
    item.resourceUri = statusUri(e.certPath, status);
    const md = new vscode.MarkdownString(tooltipMarkdown(e, days));
    md.supportThemeIcons = true;
    item.tooltip = md;
    item.contextValue = contextValue(node, this.latest) + (node.parent?.kind === 'managed-ca' ? ' cf-managed' : '');
    const icon = e.revoked ? 'circle-slash' : node.kind === 'ca' ? (plainKey ? 'unlock' : e.keyPath ? 'verified' : 'shield') : PROFILE_ICONS[e.info.profile ?? ''] ?? 'file-binary';
    item.iconPath = new vscode.ThemeIcon(icon, statusColor(status) ?? (plainKey ? new vscode.ThemeColor('list.warningForeground') : undefined));
    if (node.kind === 'cert') {
      item.command = { command: 'mtls.inspectCertificate', title: 'Inspect Certificate', arguments: [node] };
    }
    // Screen readers get words, not the description's separators and check marks.
    const spoken = [describeEntry(e, days).replace(/ · /g, ', '), this.cloudflareLabel(node, LEG_WORDS)].filter(Boolean).join(', ');
    item.accessibilityInformation = { label: `${node.kind === 'ca' ? 'Certificate authority' : 'Certificate'} ${label}, ${spoken}` };
    return item;
  }

  /** Finds the row of a certificate file in the current model. */
  find(certPath: string): CaNode | CertNode | undefined {
    return this.latest.byPath.get(path.resolve(certPath));
  }

  /** Every CA and certificate row. */
  entries(): (CaNode | CertNode)[] {
    return [...this.latest.byPath.values()];
  }
}
