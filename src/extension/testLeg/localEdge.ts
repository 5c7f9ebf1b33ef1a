// "mTLS: Start Local Edge" / "Stop Local Edge": the rehearsal edge (core/edge) in the extension host. Its
// inputs come from the command arguments, the settings and the workspace store (quick picks when there
// is a choice); the status bar shows its address while it runs and Test Leg's Leg 1 goes to it.
import * as path from 'path';
import * as vscode from 'vscode';
import { describeError } from '../../core/errors';
import type { RunningEdge } from '../../core/edge';
import { registerMtlsCommand } from '../commands';
import { requireTrust, Shared } from '../context';
import { askAndSave, config, configuredHostname, loadCredentialFor, readPemFile, resolvePath, setting, validateAddress } from './inputs';

export interface StartEdgeArgs {
  listen?: string;
  origin?: string;
  hostname?: string;
  /** PEM of the CA associated with the hostname (default: mtls.cloudflare.caName's CA, or a pick from the store). */
  caFile?: string;
  pullCert?: string;
  pullKey?: string;
  originCa?: string;
  serverCert?: string;
  serverKey?: string;
  /** Rehearse without the WAF rule / the hostname association (default: both present). */
  wafRule?: boolean;
  association?: boolean;
  sslMode?: 'strict' | 'full';
  /**
   * Rehearse the Cloudflare-managed CA: certificates revoked in the store make cf.tls_client_auth.cert_revoked
   * true and the rule blocks them. Otherwise (your own CA) the rule lists their fingerprints, as
   * `mtls cloudflare apply --revoked` does.
   */
  managedCa?: boolean;
}

export interface EdgeState {
  address: string;
  hostname: string;
  origin: string;
  /** The edge's own CA (generated server certificate): Leg 1 trusts it. */
  serverCaPem?: string;
  /** Settings changed since it started (it still runs with the old values). */
  staleSettings: string[];
}

/** The mtls.* settings the edge reads when they are not given as arguments. */
const EDGE_SETTINGS: { key: string; arg: keyof StartEdgeArgs }[] = [
  { key: 'hostname', arg: 'hostname' },
  { key: 'cloudflare.hostnames', arg: 'hostname' },
  { key: 'originAddress', arg: 'origin' },
  { key: 'edgeAddress', arg: 'listen' },
  { key: 'cloudflare.caName', arg: 'caFile' },
  { key: 'storePath', arg: 'caFile' },
  { key: 'originPullCertificate', arg: 'pullCert' },
  { key: 'originPullKey', arg: 'pullKey' },
  { key: 'trustedOriginCa', arg: 'originCa' },
];

export class LocalEdge implements vscode.Disposable {
  private edge: RunningEdge | undefined;
  private lastArgs: StartEdgeArgs = {};
  private readonly status = vscode.window.createStatusBarItem('mtls.localEdge', vscode.StatusBarAlignment.Left, 50);
  private readonly watcher: vscode.Disposable;

  constructor(private readonly shared: Shared) {
    this.status.name = 'mTLS Local Edge';
    this.status.command = 'mtls.stopLocalEdge';
    this.watcher = vscode.workspace.onDidChangeConfiguration(e => this.settingsChanged(e));
  }

  get state(): EdgeState | undefined {
    const e = this.edge;
    return e ? { address: e.address, hostname: e.options.hostname, origin: e.options.origin, serverCaPem: e.serverCaPem, staleSettings: [...e.staleSettings] } : undefined;
  }

  /**
   * A running edge keeps the values it started with: when one of the settings it read changes, its
   * answers (and the status bar) say it is stale, and a notification offers a one-click restart.
   */
  private settingsChanged(e: vscode.ConfigurationChangeEvent): void {
    const edge = this.edge;
    if (!edge) return;
    const changed = EDGE_SETTINGS.filter(s => this.lastArgs[s.arg] === undefined && e.affectsConfiguration(`mtls.${s.key}`))
      .map(s => `mtls.${s.key}`).filter(k => !edge.staleSettings.includes(k));
    if (!changed.length) return;
    edge.staleSettings.push(...changed);
    this.shared.log.warn(`local edge: ${changed.join(', ')} changed; the edge on ${edge.address} still uses the old value until it restarts.`);
    this.showStatus();
    void vscode.window.showWarningMessage(`mTLS: the local edge on ${edge.address} runs with stale settings (${edge.staleSettings.join(', ')} changed).`, 'Restart Local Edge').then(choice => {
      if (choice && this.edge === edge) void vscode.commands.executeCommand('mtls.restartLocalEdge');
    });
  }

  private showStatus(): void {
    const e = this.edge;
    if (!e) return;
    const stale = e.staleSettings.length > 0;
    this.status.text = stale ? `$(warning) Local edge ${e.address} (stale)` : `$(shield) Local edge ${e.address}`;
    this.status.command = stale ? 'mtls.restartLocalEdge' : 'mtls.stopLocalEdge';
    this.status.backgroundColor = stale ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.status.tooltip = new vscode.MarkdownString(`**mTLS local edge** on \`https://${e.address}\`\n\n${e.options.hostname} → origin \`${e.options.origin}\`\n\n` +
      (stale ? `Changed since it started: ${e.staleSettings.join(', ')}. Click to restart with the current settings.` : 'Click to stop.'));
    this.status.show();
  }

  /** Stops and starts again with the same arguments and the current settings. */
  async restart(): Promise<EdgeState | undefined> {
    const args = this.lastArgs;
    await this.stop();
    return this.start(args, false);
  }

  /** `interactive`: a person started it (palette, menu): notifications and quick picks. */
  async start(args: StartEdgeArgs = {}, interactive = false): Promise<EdgeState | undefined> {
    if (!requireTrust('Starting the local edge')) return undefined;
    const log = this.shared.log;
    if (this.edge) {
      if (!interactive) await this.stop();
      else {
        const choice = await vscode.window.showInformationMessage(`mTLS: the local edge already runs on ${this.edge.address}.`, 'Restart', 'Keep');
        if (choice !== 'Restart') return this.state;
        await this.stop();
      }
    }
    const hostname = args.hostname ?? configuredHostname() ?? await askAndSave('hostname', 'The public hostname the edge fronts (mtls.hostname)', 'mtls.example.com');
    if (!hostname) return undefined;
    const origin = args.origin ?? setting<string>('originAddress') ?? await askAndSave('originAddress', 'The origin address the edge forwards to (mtls.originAddress)', '127.0.0.1:8444', validateAddress);
    if (!origin) return undefined;
    const caFile = resolvePath(args.caFile) ?? await this.pickCa();
    if (!caFile) return undefined;
    const clientCa = await readPemFile(caFile);
    const revoked = await this.revokedFingerprints(caFile);
    const pullFile = args.pullCert ?? setting<string>('originPullCertificate');
    const pull = pullFile
      ? await loadCredentialFor(this.shared, pullFile, args.pullKey ?? setting<string>('originPullKey'), undefined, 'origin-pull certificate', true)
      : interactive ? await this.pickPull() : undefined;
    const configured = setting<string>('edgeAddress');
    const listen = args.listen ?? (configured && /^(127\.|\[?::1\]?|localhost)/.test(configured) ? configured : '127.0.0.1:8443');
    const { startEdge } = await import('../../core/edge');
    try {
      this.edge = await startEdge({
        listen, origin, hostname, clientCa: clientCa!,
        association: args.association !== false,
        wafRule: args.wafRule !== false,
        ...(args.managedCa ? { managedCa: true, revokedFingerprints: revoked } : { ruleRevokedFingerprints: revoked }),
        pull,
        server: args.serverCert ? { certPem: (await readPemFile(args.serverCert))!, keyPem: (await readPemFile(args.serverKey))! } : undefined,
        originCa: await readPemFile(args.originCa ?? setting<string>('trustedOriginCa')),
        originCaSource: args.originCa ? 'the originCa argument' : 'mtls.trustedOriginCa',
        sslMode: args.sslMode,
        onRequest: e => log.info(`local edge: ${e.status} ${e.method} ${e.host}${e.path} cert=${e.certPresented ? (e.certVerified ? 'verified' : 'unverified') : 'none'} ${e.action}${e.detail ? ': ' + e.detail : ''}`),
      });
    } catch (err) {
      void vscode.window.showErrorMessage(`mTLS: the local edge did not start: ${describeError(err)}`);
      throw err;
    }
    this.lastArgs = args;
    const e = this.edge;
    log.info(`local edge: listening on https://${e.address} for ${hostname} -> origin ${origin}; client CA ${path.basename(caFile)}${args.association === false ? ' (not associated: no certificate is asked for)' : ''}; ` +
      `WAF rule ${e.rule ?? 'absent'}; origin pull ${pull ? `with ${pull.source ?? 'the configured certificate'}` : 'off'}. Test Leg's Leg 1 now connects here.`);
    this.showStatus();
    void vscode.commands.executeCommand('setContext', 'mtls.localEdgeRunning', true);
    if (interactive) {
      void vscode.window.showInformationMessage(`mTLS: local edge on https://${e.address} for ${hostname}. Test Leg now sends Leg 1 here.`, 'Test Leg...').then(c => {
        if (c) void vscode.commands.executeCommand('mtls.testLeg');
      });
    }
    return this.state;
  }

  async stop(): Promise<boolean> {
    const e = this.edge;
    if (!e) return false;
    this.edge = undefined;
    await e.stop();
    this.status.hide();
    void vscode.commands.executeCommand('setContext', 'mtls.localEdgeRunning', false);
    this.shared.log.info(`local edge: stopped (${e.address})`);
    return true;
  }

  /** The CA associated with the hostname: mtls.cloudflare.caName, else the store's CAs (pick when several), else a file. */
  private async pickCa(): Promise<string | undefined> {
    const root = this.shared.storeRoot();
    const caName = setting<string>('cloudflare.caName');
    if (root && caName) return path.join(root, caName, 'ca.pem');
    let cas: { label: string; description: string; file: string }[] = [];
    if (root) {
      try {
        const { listStore } = await import('../../core/pki');
        const store = await listStore(root);
        cas = store.cas.filter(c => !c.archived).map(c => ({ label: c.name, description: c.info.subject, file: c.certPath }));
      } catch (err) {
        this.shared.log.warn(`local edge: cannot read the store: ${describeError(err)}`);
      }
    }
    if (cas.length === 1) return cas[0].file;
    if (cas.length > 1) {
      const pick = await vscode.window.showQuickPick(cas, { title: 'mTLS: Start Local Edge', placeHolder: 'The CA associated with the hostname (clients need a certificate from it)' });
      return pick?.file;
    }
    const files = await vscode.window.showOpenDialog({ title: 'The CA associated with the hostname (PEM)', canSelectMany: false, filters: { 'PEM certificates': ['pem', 'crt', 'cer'] } });
    return files?.[0]?.fsPath;
  }

  /** An origin-pull certificate from the store (or none: AOP off). */
  private async pickPull() {
    const root = this.shared.storeRoot();
    if (!root) return undefined;
    const { listStore } = await import('../../core/pki');
    const store = await listStore(root).catch(() => undefined);
    const pulls = (store?.cas ?? []).flatMap(c => c.certs).filter(c => c.info.profile === 'origin-pull' && c.keyPath && !c.archived && !c.revoked);
    if (!pulls.length) {
      this.shared.log.info('local edge: no origin-pull certificate in the store or settings: the edge forwards without one (AOP off).');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      [...pulls.map(c => ({ label: c.name, description: c.info.subject, detail: `issued by ${c.info.issuer}`, entry: c })), { label: 'None', description: 'forward without a client certificate (AOP off)', entry: undefined }],
      { title: 'mTLS: Start Local Edge', placeHolder: 'The origin-pull certificate the edge presents to the origin' });
    if (!pick?.entry) return undefined;
    await config().update('originPullCertificate', pick.entry.certPath, vscode.ConfigurationTarget.Workspace);
    await config().update('originPullKey', pick.entry.keyPath, vscode.ConfigurationTarget.Workspace);
    return loadCredentialFor(this.shared, pick.entry.certPath, pick.entry.keyPath, undefined, 'origin-pull certificate', true);
  }

  /** SHA-256 fingerprints of the certificates revoked in the store under this CA (its revoked.json). */
  private async revokedFingerprints(caFile: string): Promise<string[]> {
    if (path.basename(caFile) !== 'ca.pem') return [];
    try {
      const { readRevocations } = await import('../../core/pki');
      return (await readRevocations(path.dirname(caFile))).map(r => r.sha256);
    } catch (err) {
      this.shared.log.warn(`local edge: cannot read the revocations next to ${caFile}: ${describeError(err)}`);
      return [];
    }
  }

  dispose(): void {
    void this.stop();
    this.watcher.dispose();
    this.status.dispose();
  }
}

export function registerLocalEdge(shared: Shared): LocalEdge {
  const edge = new LocalEdge(shared);
  shared.context.subscriptions.push(
    edge,
    registerMtlsCommand('mtls.startLocalEdge', { rethrow: true }, (arg?: unknown) => {
      // From the explorer's CA context menu the argument is the tree node: use that CA.
      const node = arg as { kind?: string; entry?: { certPath?: string } } | undefined;
      const fromTree = node?.kind === 'ca' && !!node.entry?.certPath;
      const args: StartEdgeArgs = fromTree ? { caFile: node!.entry!.certPath } : (arg as StartEdgeArgs | undefined) ?? {};
      return edge.start(args, !arg || fromTree);
    }),
    registerMtlsCommand('mtls.stopLocalEdge', {}, () => edge.stop()),
    registerMtlsCommand('mtls.restartLocalEdge', { trust: 'Starting the local edge', rethrow: true }, () => edge.restart()),
  );
  return edge;
}
