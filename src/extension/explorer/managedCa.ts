// The zone's Cloudflare-managed CA in the Certificates view: one node per zone (the configured zone, and any
// zone folder under <store>/cloudflare-managed/), its certificates from the store with their live status
// from the API (when a token is stored and the workspace is trusted), and the Issue / Revoke commands.
// Export (PKCS#12), Inspect and Test Leg work on these rows like on any other certificate row.
import * as path from 'path';
import * as vscode from 'vscode';
import type { ManagedCertificate } from '../../core/cloudflare/managedCa';
import type { StoreEntry } from '../../core/pki/types';
import { describeError, UserCancelled } from '../../core/errors';
import { registerMtlsCommand } from '../commands';
import type { Shared } from '../context';
import { TokenStore } from '../guide/token';

/** The folder under the store that holds the managed CAs' certificates (core's managedCaDir). */
export const MANAGED_DIR = 'cloudflare-managed';

export interface ManagedCaNode {
  kind: 'managed-ca';
  id: string;
  zone: string;
  parent?: undefined;
  /** Certificate rows (the tree's own cert nodes), built by the tree. */
  children: { kind: 'cert'; entry: StoreEntry }[];
}

/** The zone folder a store file lives in, when it is under <store>/cloudflare-managed/<zone>/. */
export function managedZoneOf(root: string, certPath: string): string | undefined {
  const rel = path.relative(path.join(root, MANAGED_DIR), certPath).split(path.sep);
  return rel.length === 2 && !rel[0].startsWith('..') && rel[0] ? rel[0] : undefined;
}

function configuredZone(): string {
  return (vscode.workspace.getConfiguration('mtls').get<string>('cloudflare.zone') ?? '').trim().toLowerCase().replace(/\.$/, '');
}

function apiBase(): string | undefined {
  return (vscode.workspace.getConfiguration('mtls').get<string>('cloudflare.apiBaseUrl') ?? '').trim() || undefined;
}

/**
 * Builds the managed-CA nodes from the store's files (the configured zone always gets a node, so Issue is
 * one click away); `certNode` is the tree's own row builder, so the rows behave like every other row.
 */
export function managedCaNodes<T extends { kind: 'cert'; entry: StoreEntry }>(root: string, entries: StoreEntry[], certNode: (e: StoreEntry, parent: ManagedCaNode) => T): ManagedCaNode[] {
  const zones = new Map<string, StoreEntry[]>();
  const configured = configuredZone();
  if (configured) zones.set(configured, []);
  for (const e of entries) {
    const z = managedZoneOf(root, e.certPath);
    if (z) zones.set(z, [...(zones.get(z) ?? []), e]);
  }
  return [...zones.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([zone, list]) => {
    const node: ManagedCaNode = { kind: 'managed-ca', id: `/managed-ca:${zone}`, zone, children: [] };
    node.children = list.sort((a, b) => a.name.localeCompare(b.name)).map(e => certNode(e, node));
    return node;
  });
}

/** Live status of the managed CAs' certificates, read in the background when a token is stored. */
export class ManagedCaLive implements vscode.Disposable {
  private byZone = new Map<string, { certs?: ManagedCertificate[]; error?: string; readAt: number }>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  readonly tokens: TokenStore;
  private reading = new Set<string>();

  constructor(private readonly shared: Shared) {
    this.tokens = new TokenStore(shared.context.secrets);
  }

  /** Reads the zones' live status again (in the background); the tree redraws when it arrives. */
  refresh(zones: string[]): void {
    for (const zone of zones) void this.read(zone);
  }

  private async read(zone: string): Promise<void> {
    if (this.reading.has(zone) || !vscode.workspace.isTrusted) return;
    const token = await this.tokens.get();
    if (!token) {
      if (this.byZone.delete(zone)) this.changed.fire();
      return;
    }
    this.reading.add(zone);
    try {
      const core = await import('../../core/cloudflare');
      const certs = await core.listManagedCertificates({ token, baseURL: apiBase(), zoneName: zone, storeDir: this.shared.storeRoot(), timeoutMs: 15000 });
      this.byZone.set(zone, { certs, readAt: Date.now() });
    } catch (err) {
      this.byZone.set(zone, { error: describeError(err), readAt: Date.now() });
    } finally {
      this.reading.delete(zone);
      this.changed.fire();
    }
  }

  /** The live record of a certificate file, when known. */
  certificateFor(certPath: string): ManagedCertificate | undefined {
    for (const z of this.byZone.values()) {
      const c = z.certs?.find(x => x.cert && path.resolve(x.cert) === path.resolve(certPath));
      if (c) return c;
    }
    return undefined;
  }

  treeItem(node: ManagedCaNode): vscode.TreeItem {
    const item = new vscode.TreeItem(`Cloudflare-managed CA · ${node.zone}`, vscode.TreeItemCollapsibleState.Expanded);
    item.id = node.id;
    item.contextValue = 'managed-ca';
    item.iconPath = new vscode.ThemeIcon('cloud');
    const live = this.byZone.get(node.zone);
    const active = live?.certs?.filter(c => c.status === 'active').length;
    item.description = live?.error ? 'status unavailable'
      : live?.certs ? `${active} active of ${live.certs.length} (live)` : `${node.children.length} in the store`;
    item.tooltip = new vscode.MarkdownString([
      `**Cloudflare-managed CA** of zone \`${node.zone}\` (every plan).`,
      'Cloudflare keeps this CA\'s key and signs CSRs made here; the keys stay on this machine.',
      live?.error ? `Live status: ${live.error}` : live?.certs ? `Live status read ${new Date(live.readAt).toLocaleTimeString()}.` : 'Set a Cloudflare API token to see the live status.',
    ].join('\n\n'));
    item.accessibilityInformation = { label: `Cloudflare-managed CA of ${node.zone}, ${item.description}` };
    return item;
  }

  /** The live status for a row's description, e.g. "active" or "pending_revocation". */
  describe(certPath: string): string | undefined {
    return this.certificateFor(certPath)?.status;
  }

  dispose() {
    this.changed.dispose();
    this.tokens.dispose();
  }
}

async function inputsFor(shared: Shared, live: ManagedCaLive, zoneArg?: string) {
  const zone = zoneArg || configuredZone();
  if (!zone) throw new UserCancelledWith('Set the Cloudflare zone first (setting mtls.cloudflare.zone, or the setup guide).');
  const token = await live.tokens.get();
  if (!token) throw new UserCancelledWith('Set a Cloudflare API token first (mTLS: Set Cloudflare API Token).');
  const storeDir = shared.storeRoot();
  if (!storeDir) throw new UserCancelledWith('Open a folder first: certificates go into its store.');
  return { zone, token, storeDir, baseURL: apiBase() };
}

/** Ends a command with a plain message (no error report). */
class UserCancelledWith extends UserCancelled {
  constructor(message: string) {
    super();
    void vscode.window.showWarningMessage(`mTLS: ${message}`);
  }
}

function zoneOf(arg: unknown): string | undefined {
  const a = arg as { kind?: string; zone?: string } | undefined;
  return a?.kind === 'managed-ca' && typeof a.zone === 'string' ? a.zone : undefined;
}

function certPathOf(arg: unknown): string | undefined {
  const a = arg as { entry?: { certPath?: string }; fsPath?: string } | undefined;
  if (a?.entry?.certPath) return a.entry.certPath;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  return typeof arg === 'string' ? arg : undefined;
}

/** Issue / Revoke / Reactivate for the managed CA's certificates. */
export function registerManagedCaCommands(shared: Shared, live: ManagedCaLive, refresh: () => Promise<unknown>): vscode.Disposable[] {
  return [
    registerMtlsCommand('mtls.issueManagedCertificate', { trust: 'Issuing a certificate from the Cloudflare-managed CA' }, async (arg?: unknown) => {
      const { zone, token, storeDir, baseURL } = await inputsFor(shared, live, zoneOf(arg));
      const cn = typeof (arg as { cn?: unknown })?.cn === 'string' ? (arg as { cn: string }).cn : await vscode.window.showInputBox({
        title: `Client certificate from the Cloudflare-managed CA of ${zone}`, prompt: 'Common name (who or what the certificate is for)',
        placeHolder: 'alice@example.com', ignoreFocusOut: true, validateInput: v => (v.trim() && v.trim().length <= 64 ? undefined : 'A name of 1 to 64 characters'),
      });
      if (!cn) throw new UserCancelled();
      const core = await import('../../core/cloudflare');
      const issued = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'mTLS: Issuing from the Cloudflare-managed CA' },
        progress => core.issueManagedCertificate({ token, baseURL, zoneName: zone, storeDir, cn: cn.trim(), onProgress: message => progress.report({ message }) }));
      shared.log.info(`Issued ${issued.cert} from the Cloudflare-managed CA of ${zone} (${issued.id}).`);
      await refresh();
      live.refresh([zone]);
      void vscode.window.showInformationMessage(`mTLS: issued ${issued.commonName ?? cn} by the Cloudflare-managed CA of ${zone} (${vscode.workspace.asRelativePath(issued.cert)}).`);
      return issued;
    }),
    registerMtlsCommand('mtls.revokeManagedCertificate', { trust: 'Revoking a certificate at Cloudflare' }, async (arg?: unknown) => {
      const certPath = certPathOf(arg);
      if (!certPath) throw new UserCancelledWith('Choose a certificate under "Cloudflare-managed CA" in the Certificates view.');
      const root = shared.storeRoot() ?? '';
      const { zone, token, storeDir, baseURL } = await inputsFor(shared, live, managedZoneOf(root, certPath));
      const ok = (arg as { confirmed?: boolean })?.confirmed === true || (await vscode.window.showWarningMessage(
        `Revoke ${path.basename(certPath)} at Cloudflare?`, { modal: true, detail: 'Cloudflare marks it pending revocation, then revoked; the WAF rule blocks it (cf.tls_client_auth.cert_revoked). It can be reactivated while pending.' }, 'Revoke')) === 'Revoke';
      if (!ok) throw new UserCancelled();
      const core = await import('../../core/cloudflare');
      const result = await core.revokeManagedCertificate({ token, baseURL, zoneName: zone, storeDir }, certPath);
      live.refresh([zone]);
      await refresh();
      return result;
    }),
    registerMtlsCommand('mtls.reactivateManagedCertificate', { trust: 'Reactivating a certificate at Cloudflare' }, async (arg?: unknown) => {
      const certPath = certPathOf(arg);
      if (!certPath) throw new UserCancelledWith('Choose a certificate under "Cloudflare-managed CA" in the Certificates view.');
      const { zone, token, storeDir, baseURL } = await inputsFor(shared, live, managedZoneOf(shared.storeRoot() ?? '', certPath));
      const core = await import('../../core/cloudflare');
      const result = await core.reactivateManagedCertificate({ token, baseURL, zoneName: zone, storeDir }, certPath);
      live.refresh([zone]);
      await refresh();
      return result;
    }),
  ];
}
