// The guide's connection to everything outside the webview: settings, the workspace store, the token, and
// core's Cloudflare plan (loaded lazily: the SDK is only required when the guide is used). One instance per
// window, shared by the webview controllers, the status bar and the `mtls.cloudflareStatus` command.
import * as vscode from 'vscode';
import * as fs from 'fs/promises';
import * as path from 'path';
import type * as CoreCloudflare from '../../core/cloudflare';
import type { AopMode, CaMode, CloudflareOptions, ExplainedError, SetupStatus, StepStatus, ZoneInfo } from '../../core/cloudflare/types';
import { STEP_META } from '../../core/cloudflare/steps';
import type { CaEntry, StoreEntry, StoreTree } from '../../core/pki/types';
import { describeError } from '../../core/errors';
import { Shared } from '../context';
import { GuideView, ORIGIN_SERVERS, OriginServer, StoreItemView } from './protocol';
import { TokenStore, scrub } from './token';

export type CoreModule = typeof CoreCloudflare;

export const DEFAULT_API_BASE = 'https://api.cloudflare.com/client/v4';
const PULL_CERT_KEY = 'mtls.guide.pullCertPath';
const ORIGIN_SERVER_KEY = 'mtls.guide.originServer';

export interface GuideSettings {
  zone: string;
  hostnames: string[];
  apiBaseUrl: string;
  aopMode: AopMode;
  /** 'auto': preselected from the zone's plan (managed unless the plan allows your own CA and the store has one). */
  caMode: CaMode | 'auto';
  caName: string;
  pinIssuerSki: boolean;
  minTlsVersion: '1.0' | '1.1' | '1.2' | '1.3';
}

/** Both legs at a glance, for the status bar and the Certificates tree. */
export interface LegSummary {
  leg1: StepStatus;
  leg2: StepStatus;
  /** The workspace CA the leg-1 status concerns (store name and SHA-256 "AB:CD:…"). */
  caName?: string;
  caFingerprint?: string;
  /** The origin-pull certificate leg 2 uses (aopMode zone/hostname). */
  pullCertPath?: string;
  zone?: string;
  /** One line per step: "1. Upload the workspace CA: done — …". */
  lines: string[];
  readAt: string;
}

export interface Inputs {
  view: GuideView;
  /** Complete options when nothing is missing (the token included: keep them local). */
  options?: CloudflareOptions;
  ca?: CaEntry;
  pullCert?: StoreEntry;
  tree?: StoreTree;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').map(s => s.trim()).filter(Boolean) : [];
}

export class GuideService implements vscode.Disposable {
  private core: CoreModule | undefined;
  private readonly statusEmitter = new vscode.EventEmitter<SetupStatus | undefined>();
  private readonly legEmitter = new vscode.EventEmitter<LegSummary | undefined>();
  private readonly inputsEmitter = new vscode.EventEmitter<void>();
  /** The last successful read (undefined before the first one, or after the inputs changed). */
  lastStatus: SetupStatus | undefined;
  lastLegs: LegSummary | undefined;
  readonly onDidChangeStatus = this.statusEmitter.event;
  /** Per-leg status for the status bar and the tree (the tree shows it next to `caName`/`caFingerprint`). */
  readonly onDidChangeLegStatus = this.legEmitter.event;
  /** Settings, token or store changed: the view must be rebuilt and the status read again. */
  readonly onDidChangeInputs = this.inputsEmitter.event;
  private readonly subs: vscode.Disposable[] = [];
  /** The zone's plan, looked up once per zone and API base (it decides the preselected CA mode). */
  private zoneCache: { key: string; zone?: ZoneInfo } | undefined;

  constructor(readonly shared: Shared, readonly tokens: TokenStore, private readonly coreLoader: () => Promise<CoreModule> = () => import('../../core/cloudflare')) {
    this.subs.push(
      tokens.onDidChange(() => this.inputsChanged()),
      vscode.workspace.onDidChangeConfiguration(e => {
        if (e.affectsConfiguration('mtls.cloudflare') || e.affectsConfiguration('mtls.storePath') || e.affectsConfiguration('mtls.originPullCertificate')) this.inputsChanged();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.inputsChanged()),
    );
  }

  private inputsChanged() {
    this.zoneCache = undefined;
    this.inputsEmitter.fire();
  }

  /** Tell the service the store changed (another command wrote a certificate). */
  storeChanged() {
    this.inputsChanged();
  }

  async loadCore(): Promise<CoreModule> {
    this.core ??= await this.coreLoader();
    return this.core;
  }

  settings(): GuideSettings {
    const c = vscode.workspace.getConfiguration('mtls');
    const aop = c.get<string>('cloudflare.aopMode');
    const tls = c.get<string>('cloudflare.minTlsVersion');
    return {
      zone: (c.get<string>('cloudflare.zone') ?? '').trim(),
      hostnames: stringList(c.get('cloudflare.hostnames')),
      apiBaseUrl: (c.get<string>('cloudflare.apiBaseUrl') ?? '').trim(),
      aopMode: aop === 'zone' || aop === 'hostname' ? aop : 'global',
      caMode: ((m: string | undefined) => (m === 'managed' || m === 'byo' ? m : 'auto'))(c.get<string>('cloudflare.caMode')),
      caName: (c.get<string>('cloudflare.caName') ?? '').trim(),
      pinIssuerSki: c.get<boolean>('cloudflare.pinIssuerSki') ?? false,
      minTlsVersion: tls === '1.0' || tls === '1.1' || tls === '1.3' ? tls : '1.2',
    };
  }

  /** The API base the SDK will use: the setting, else CLOUDFLARE_BASE_URL, else Cloudflare's. */
  apiBase(s = this.settings()): string {
    return s.apiBaseUrl || process.env.CLOUDFLARE_BASE_URL || DEFAULT_API_BASE;
  }

  async updateSetting(key: string, value: unknown): Promise<void> {
    const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await vscode.workspace.getConfiguration('mtls').update(key, value, target);
  }

  originServer(): OriginServer {
    const saved = this.shared.context.workspaceState.get<OriginServer>(ORIGIN_SERVER_KEY);
    return saved && (ORIGIN_SERVERS as readonly string[]).includes(saved) ? saved : 'nginx';
  }

  async setOriginServer(server: OriginServer) {
    await this.shared.context.workspaceState.update(ORIGIN_SERVER_KEY, server);
  }

  async setPullCertPath(certPath: string | undefined) {
    await this.shared.context.workspaceState.update(PULL_CERT_KEY, certPath);
    this.inputsChanged();
  }

  /** The workspace store (listStore); undefined without a folder or when it cannot be read. */
  async store(): Promise<StoreTree | undefined> {
    const root = this.shared.storeRoot();
    if (!root) return undefined;
    try {
      const pki = await import('../../core/pki');
      return await pki.listStore(root);
    } catch (err) {
      this.log('warn', `Could not read the certificate store ${root}: ${describeError(err)}`);
      return undefined;
    }
  }

  private testLegPullCert(): string | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const v = (vscode.workspace.getConfiguration('mtls', folder?.uri).get<string>('originPullCertificate') ?? '').trim();
    if (!v) return undefined;
    return path.isAbsolute(v) || !folder ? v : path.join(folder.uri.fsPath, v);
  }

  /**
   * Leaf certificates that can serve as the origin-pull certificate (clientAuth, with a key, not expired,
   * revoked or archived): the ones with the origin-pull profile first, then the newest. The store cannot
   * always tell an origin-pull certificate from a client certificate (same EKU), so only an explicit choice
   * or the origin-pull profile selects one: the guide never uploads a person's client key by guessing.
   */
  pullCerts(tree: StoreTree | undefined): StoreEntry[] {
    if (!tree) return [];
    const all = [...tree.cas.flatMap(ca => ca.certs), ...tree.orphans];
    const usable = all.filter(e => !e.info.isCa && e.keyPath && !e.archived && !e.revoked && !e.info.expired &&
      (e.info.profile === 'origin-pull' || e.info.profile === 'client' || e.info.extKeyUsage?.includes('clientAuth')));
    const rank = (e: StoreEntry) => (e.info.profile === 'origin-pull' ? 0 : 1);
    return usable.sort((a, b) => rank(a) - rank(b) || b.info.notBefore.getTime() - a.info.notBefore.getTime());
  }

  /** The zone and its plan (cached); undefined when it cannot be looked up (no token, network, ...). */
  async zoneInfo(s = this.settings()): Promise<ZoneInfo | undefined> {
    if (!s.zone || !vscode.workspace.isTrusted) return undefined;
    const key = `${this.apiBase(s)} ${s.zone}`;
    if (this.zoneCache?.key === key) return this.zoneCache.zone;
    const token = await this.tokens.get();
    if (!token) return undefined;
    try {
      const core = await this.loadCore();
      const zone = await core.lookupZone({ token, baseURL: this.apiBase(s), zoneName: s.zone, timeoutMs: 15000 });
      this.zoneCache = { key, zone };
      return zone;
    } catch {
      return undefined; // the full read reports why
    }
  }

  /** Everything the guide needs before it can read the live state, and what is missing. */
  async inputs(): Promise<Inputs> {
    const s = this.settings();
    const trusted = vscode.workspace.isTrusted;
    const tokenSet = await this.tokens.isSet();
    const tree = await this.store();
    const cas = (tree?.cas ?? []).filter(c => !c.archived);
    const ca = s.caName ? cas.find(c => c.name === s.caName) : cas.length === 1 ? cas[0] : undefined;
    const pulls = this.pullCerts(tree);
    // The guide's own choice, else the certificate Test Leg is set up with (mtls.originPullCertificate).
    const chosenPull = this.shared.context.workspaceState.get<string>(PULL_CERT_KEY) ?? this.testLegPullCert();
    const pullCert = s.aopMode === 'global' ? undefined
      : pulls.find(p => p.certPath === chosenPull) ?? pulls.find(p => p.info.profile === 'origin-pull');
    const zone = s.caMode === 'auto' && tokenSet ? await this.zoneInfo(s) : this.zoneCache?.zone;
    // Preselection from the plan: your own CA only where the plan allows it and the store has one.
    const caMode: CaMode = s.caMode !== 'auto' ? s.caMode : zone?.ownCaAllowed && cas.length ? 'byo' : 'managed';
    const missing: GuideView['missing'] = [];
    if (!trusted) missing.push('trust');
    if (!tokenSet) missing.push('token');
    if (!s.zone) missing.push('zone');
    if (!s.hostnames.length) missing.push('hostnames');
    if (caMode === 'byo' && !ca) missing.push('ca');
    if (s.aopMode !== 'global' && !pullCert) missing.push('pullCert');
    const commands = await vscode.commands.getCommands(true);
    const view: GuideView = {
      trusted,
      token: tokenSet ? 'set' : 'not set',
      zone: s.zone,
      hostnames: s.hostnames,
      ca: ca ? itemView(ca) : undefined,
      caMissing: s.caName && !ca ? s.caName : undefined,
      caCount: cas.length,
      caMode,
      caModeFromPlan: s.caMode === 'auto',
      plan: zone?.plan,
      ownCaAllowed: zone?.ownCaAllowed,
      aopMode: s.aopMode,
      pullCert: pullCert ? itemView(pullCert) : undefined,
      pinIssuerSki: s.pinIssuerSki,
      minTlsVersion: s.minTlsVersion,
      originServer: this.originServer(),
      apiBase: this.apiBase(s),
      missing,
      testLegAvailable: commands.includes('mtls.testLeg'),
    };
    return { view, ca, pullCert, tree };
  }

  /** The complete core options (with the token) or the inputs that are missing. */
  async options(): Promise<Inputs> {
    const inputs = await this.inputs();
    const managed = inputs.view.caMode === 'managed';
    if (inputs.view.missing.length || (!managed && !inputs.ca)) return inputs;
    const token = await this.tokens.get();
    if (!token) return { ...inputs, view: { ...inputs.view, missing: ['token'] } };
    const s = this.settings();
    let pullCertPem: string | undefined;
    let pullKeyPem: string | undefined;
    let pullCaPem: string | undefined;
    if (inputs.pullCert?.keyPath) {
      pullCertPem = inputs.pullCert.info.pem;
      pullKeyPem = await fs.readFile(inputs.pullCert.keyPath, 'utf8');
      const issuer = inputs.pullCert.issuerPath;
      pullCaPem = issuer ? inputs.tree?.cas.find(c => c.certPath === issuer)?.info.pem : undefined;
    }
    const options: CloudflareOptions = {
      token,
      baseURL: this.apiBase(s),
      zoneName: s.zone,
      hostnames: s.hostnames,
      caMode: inputs.view.caMode,
      caPem: managed ? undefined : inputs.ca!.info.pem,
      aopMode: s.aopMode,
      pullCertPem,
      pullKeyPem,
      pullCaPem,
      revokedFingerprints: managed ? undefined : inputs.ca!.revocations.map(r => r.sha256),
      // The setting turns pinning on; off leaves the automatic pin (another CA on a target hostname) in place.
      pinIssuerSki: managed ? undefined : s.pinIssuerSki ? true : undefined,
      minTlsVersion: s.minTlsVersion,
      originServer: this.originServer(),
    };
    return { ...inputs, options };
  }

  /**
   * Reads the live state (GET requests only). Needs workspace trust: the read sends the token to the
   * configured API base. Returns the status, or an explained error.
   */
  async readStatus(inputs?: Inputs): Promise<{ status?: SetupStatus; error?: ExplainedError; inputs: Inputs }> {
    const i = inputs?.options ? inputs : await this.options();
    if (!i.options) {
      this.setStatus(undefined, i);
      return { inputs: i };
    }
    const core = await this.loadCore();
    try {
      const status = await core.readStatus(i.options);
      this.setStatus(status, i);
      this.log('info', `Cloudflare status of ${i.options.zoneName}: leg 1 ${status.legs[1]}, leg 2 ${status.legs[2]}`);
      return { status, inputs: i };
    } catch (err) {
      const error = core.explainCloudflareError(err, undefined, undefined, i.options.token);
      this.log('warn', `Reading the Cloudflare status failed: ${error.code ?? ''} ${error.message}`);
      this.setStatus(undefined, i);
      return { error, inputs: i };
    }
  }

  setStatus(status: SetupStatus | undefined, inputs: Inputs) {
    this.lastStatus = status;
    this.lastLegs = status ? legSummary(status, inputs) : undefined;
    this.statusEmitter.fire(status);
    this.legEmitter.fire(this.lastLegs);
  }

  /** Logs without ever writing the token (it is looked up and scrubbed from the line). */
  log(level: 'info' | 'warn' | 'error', line: string, token?: string) {
    this.shared.log[level](scrub(line, token));
  }

  dispose() {
    for (const s of this.subs) s.dispose();
    this.statusEmitter.dispose();
    this.legEmitter.dispose();
    this.inputsEmitter.dispose();
  }
}

function itemView(e: StoreEntry): StoreItemView {
  return { name: e.name, subject: e.info.subject, fingerprint: e.info.fingerprintSha256, notAfter: e.info.notAfter.toISOString() };
}

export function legSummary(status: SetupStatus, inputs: Inputs): LegSummary {
  const managed = status.caMode === 'managed';
  return {
    leg1: status.legs[1],
    leg2: status.legs[2],
    caName: managed ? `Cloudflare-managed CA of ${status.zone?.name ?? inputs.view.zone}` : inputs.ca?.name,
    caFingerprint: managed ? undefined : inputs.ca?.info.fingerprintSha256,
    pullCertPath: inputs.pullCert?.certPath,
    zone: status.zone?.name ?? inputs.view.zone,
    lines: status.steps.map(s => `${STEP_META[s.id].number}. ${s.title}: ${s.status}${s.summary ? ` — ${s.summary}` : ''}`),
    readAt: status.readAt,
  };
}
