// The explorer's commands. Each accepts, in this order of precedence:
//   - a tree row (context menus, inline actions), a file Uri (Explorer context menu) or a path string;
//   - an options object (other features, tests): given fields skip their prompts, optional fields that
//     are absent take their defaults without asking, required ones that are absent are asked for;
//   - nothing (Command Palette): every field is asked for.
// Each returns what it created or found, so callers can chain; undefined when cancelled or failed.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { CaEntry, CertProfile, KeyAlgorithm, P12Flavor, RenewResult, RevokeResult, StoredCertificate, StoreEntry, VerifyResult } from '../../core/pki';
import { describeError, MtlsError } from '../../core/errors';
import { KEY_MODE, writeFileAtomic } from '../../core/fsutil';
import { requireTrust, Shared } from '../context';
import type { CertificateTreeProvider, CaNode, CertNode, ExplorerNode } from './tree';
import { isEntryNode, warnDays } from './tree';
import { InspectDocumentProvider, inspectUri } from './inspectDocument';
import { daysLeftText } from './present';
import {
  Cancelled, askDays, askNewPassword, inputBox, normalizeKey, P12_CHOICES, parseDays, pickKey, pickProfile, PROFILE_CHOICES,
  quickPick, REVOKE_REASONS, splitSans, validateCaName, validateCommonName,
} from './prompts';

const core = () => import('../../core/pki');

export interface CreateCaArgs { name?: string; commonName?: string; cn?: string; org?: string; organization?: string; key?: string; days?: number | string }
export interface IssueArgs { ca?: string; commonName?: string; cn?: string; org?: string; name?: string; key?: string; days?: number | string; sans?: string[] | string }
export interface SignCsrArgs { csr?: string; ca?: string; profile?: CertProfile; days?: number | string; name?: string; sans?: string[] | string }
export interface ImportArgs { cert?: string; key?: string; name?: string; caName?: string }
export interface TargetArgs { path?: string; cert?: string; certPath?: string }
export interface ExportArgs extends TargetArgs { key?: string; out?: string; password?: string; flavor?: P12Flavor; legacy?: boolean }
export interface VerifyArgs extends TargetArgs { ca?: string }
export interface RenewArgs extends TargetArgs { days?: number | string; key?: string }
export interface RevokeArgs extends TargetArgs { reason?: string }
export interface DeleteArgs extends TargetArgs { confirm?: boolean }
export interface CopyArgs extends TargetArgs { format?: 'cloudflare' | 'openssl' }

export interface ExportResult { out: string; flavor: P12Flavor }
export interface InspectResult { uri: string; certPath: string }

/** A certificate a command acts on: its file, and its row when it is in the store. */
interface Target { certPath: string; node?: CaNode | CertNode; entry?: StoreEntry }

interface Ctx {
  shared: Shared;
  tree: CertificateTreeProvider;
  view: vscode.TreeView<ExplorerNode>;
  inspect: InspectDocumentProvider;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !(v instanceof vscode.Uri) && !Array.isArray(v) && !('kind' in (v as object) && 'id' in (v as object));

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function sansOf(v: string[] | string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.map(s => s.trim()).filter(Boolean) : splitSans(v);
}

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  const { shared, tree, view, inspect } = ctx;
  const log = shared.log;

  const storeRoot = (): string => {
    const root = shared.storeRoot();
    if (!root) throw new MtlsError('no-folder', 'Open a folder first: the certificate store lives in the workspace.');
    return root;
  };

  const rel = (p: string) => {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    return folder && p.startsWith(folder + path.sep) ? path.relative(folder, p) : p;
  };

  const progress = <T>(title: string, fn: (report: (message: string) => void) => Promise<T>): Thenable<T> =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: false },
      p => fn(message => p.report({ message })));

  /** After a change: re-read the store, redraw, and select the new row when the view is open. */
  const afterChange = async (revealPath?: string) => {
    await tree.refresh();
    inspect.refreshOpen();
    if (revealPath && view.visible) {
      const node = tree.find(revealPath);
      if (node) await Promise.resolve(view.reveal(node, { select: true, focus: false, expand: true })).then(undefined, () => undefined);
    }
  };

  const register = (id: string, trust: string | undefined, handler: (...args: any[]) => Promise<unknown>) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      if (trust && !requireTrust(trust)) return undefined;
      try {
        return await handler(...args);
      } catch (err) {
        if (err instanceof Cancelled) return undefined;
        const message = describeError(err);
        log.error(`${id}: ${message}`);
        void vscode.window.showErrorMessage(`mTLS: ${message}`);
        return undefined;
      }
    });

  // ---- finding CAs and certificates --------------------------------------------------------------

  /** The name core's loadCa expects (`<root>/<name>/ca.pem`), or undefined when the CA cannot issue. */
  const caNameOf = (ca: CaEntry, root: string): string | undefined => {
    if (!ca.keyPath || path.basename(ca.certPath) !== 'ca.pem') return undefined;
    const name = path.relative(root, path.dirname(ca.certPath));
    return name && !name.startsWith('..') && !path.isAbsolute(name) ? name : undefined;
  };

  const issuingCas = async (root: string) => {
    const model = await tree.load();
    return [...model.cas.values()].filter(ca => caNameOf(ca, root) !== undefined);
  };

  /** The CA that signs: a CA row, an explicit name (or path), the only CA, or a pick. */
  const resolveIssuingCa = async (arg: unknown, explicit: string | undefined, title: string, root: string): Promise<string> => {
    if (isEntryNode(arg) && arg.kind === 'ca') {
      const name = caNameOf(arg.entry, root);
      if (!name) throw new MtlsError('no-ca-key', `The CA ${arg.entry.name} has no private key in the store, so it cannot sign.`, 'Import its key, or create a CA with "mTLS: Create CA...".');
      return name;
    }
    if (explicit) {
      if (path.isAbsolute(explicit)) {
        const ca = (await tree.load()).cas.get(path.resolve(explicit));
        const name = ca && caNameOf(ca, root);
        if (!name) throw new MtlsError('not-found', `No CA with a private key at ${explicit}.`);
        return name;
      }
      return explicit;
    }
    const cas = await issuingCas(root);
    if (cas.length === 0) {
      const create = 'Create CA...';
      void vscode.window.showWarningMessage('mTLS: there is no CA with a private key in the store yet.', create).then(c => {
        if (c === create) void vscode.commands.executeCommand('mtls.createCa');
      });
      throw new Cancelled();
    }
    if (cas.length === 1) return caNameOf(cas[0], root)!;
    const picked = await quickPick(cas.map(ca => ({
      label: `$(verified) ${ca.name}`, description: daysLeftText(ca.info, warnDays()), detail: ca.info.subject, name: caNameOf(ca, root)!,
    })), { title, placeHolder: 'Which CA signs it?' });
    return picked.name;
  };

  const resolveTarget = async (arg: unknown, title: string, accept: (t: CaNode | CertNode) => boolean = () => true, what = 'certificate'): Promise<Target> => {
    if (isEntryNode(arg)) return { certPath: arg.entry.certPath, node: arg, entry: arg.entry };
    let given: string | undefined;
    if (arg instanceof vscode.Uri) given = arg.fsPath;
    else if (typeof arg === 'string') given = arg;
    else if (isPlainObject(arg)) given = str(arg.path) ?? str(arg.certPath) ?? str(arg.cert);
    if (given) {
      const root = shared.storeRoot();
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
  };

  const requireEntry = (t: Target): StoreEntry => {
    if (!t.entry) throw new MtlsError('not-found', `${rel(t.certPath)} is not a certificate of the store (${rel(storeRoot())}).`, 'Import it first with "mTLS: Import CA or Certificate...".');
    return t.entry;
  };

  const labelOf = (e: StoreEntry) => (e.info.isCa ? e.name : e.info.subjectCn ?? e.name);

  // ---- create / issue / sign / import -----------------------------------------------------------

  const createCa = async (arg?: unknown): Promise<StoredCertificate | undefined> => {
    const root = storeRoot();
    const a: CreateCaArgs = isPlainObject(arg) ? (arg as CreateCaArgs) : {};
    const interactive = !isPlainObject(arg);
    const title = 'mTLS: Create CA';
    const total = 5;
    const name = str(a.name) ?? await inputBox({
      title, step: 1, totalSteps: total, prompt: 'Name of the CA (its folder in the store)', placeHolder: 'e.g. acme-clients',
      validateInput: v => validateCaName(v) ?? (fs.existsSync(path.join(root, v.trim(), 'ca.pem')) ? `A CA named ${v.trim()} already exists in the store.` : undefined),
    });
    const cn = str(a.commonName) ?? str(a.cn) ?? await inputBox({
      title, step: 2, totalSteps: total, prompt: 'Common name (CN) of the CA, as clients and Cloudflare show it', value: `${name} Root CA`, validateInput: validateCommonName,
    });
    let org = str(a.org) ?? str(a.organization);
    if (org === undefined && interactive) {
      org = await inputBox({ title, step: 3, totalSteps: total, prompt: 'Organization (O), optional', placeHolder: 'e.g. Acme Inc. (leave empty to skip)' }) || undefined;
    }
    const key: KeyAlgorithm = a.key ? normalizeKey(a.key) : interactive ? await pickKey('rsa4096', { title, step: 4, totalSteps: total }) : 'rsa4096';
    const days = a.days !== undefined ? parseDays(a.days) : interactive ? await askDays(3650, { title, step: 5, totalSteps: total }) : 3650;

    const pki = await core();
    const created = await progress(`mTLS: Creating CA ${name}`, report =>
      pki.createCa(root, name, { cn, org, key, days, onProgress: report }));
    log.info(`Created CA ${name}: ${created.certPath}`);
    await afterChange(created.certPath);
    const issue = 'Issue Client Certificate...';
    void vscode.window.showInformationMessage(`mTLS: created CA ${name} (${rel(created.certPath)}). Its key stays in ${rel(path.dirname(created.certPath))}, out of git.`, issue).then(c => {
      if (c === issue) void vscode.commands.executeCommand('mtls.issueClientCert', { ca: name });
    });
    return created;
  };

  const issue = (profile: CertProfile) => async (arg?: unknown): Promise<StoredCertificate | undefined> => {
    const root = storeRoot();
    const a: IssueArgs = isPlainObject(arg) ? (arg as IssueArgs) : {};
    const interactive = !isPlainObject(arg);
    const what = profile === 'client' ? 'Client Certificate' : 'Origin-Pull Certificate';
    const title = `mTLS: Issue ${what}`;
    const total = 4;
    const caName = await resolveIssuingCa(arg, str(a.ca), title, root);
    const cn = str(a.commonName) ?? str(a.cn) ?? await inputBox({
      title, step: 1, totalSteps: total,
      prompt: profile === 'client' ? `Common name (CN) of the person or device (signed by ${caName})` : `Common name (CN) of the origin-pull certificate (signed by ${caName})`,
      placeHolder: profile === 'client' ? 'e.g. alice@example.com or laptop-42' : 'e.g. origin-pull.example.com',
      validateInput: validateCommonName,
    });
    let sans = sansOf(a.sans);
    if (sans === undefined && interactive) {
      sans = splitSans(await inputBox({
        title, step: 2, totalSteps: total, prompt: 'Subject alternative names, optional (comma-separated: DNS names, IPs, e-mails, URIs)',
        placeHolder: profile === 'client' ? 'e.g. alice@example.com' : 'e.g. origin.example.com',
      }));
    }
    const key: KeyAlgorithm = a.key ? normalizeKey(a.key) : interactive ? await pickKey('rsa2048', { title, step: 3, totalSteps: total }) : 'rsa2048';
    const days = a.days !== undefined ? parseDays(a.days) : interactive ? await askDays(365, { title, step: 4, totalSteps: total }) : 365;

    const pki = await core();
    const issued = await progress(`mTLS: Issuing ${profile} certificate ${cn}`, report =>
      pki.issueToStore(root, caName, { cn, org: str(a.org), profile, key, days, sans: sans?.length ? sans : undefined, name: str(a.name), onProgress: report }));
    log.info(`Issued ${profile} certificate ${cn}: ${issued.certPath}`);
    await afterChange(issued.certPath);
    const exportP12 = 'Export PKCS#12...';
    const actions = profile === 'client' ? [exportP12] : [];
    void vscode.window.showInformationMessage(`mTLS: issued ${profile} certificate ${cn} (${rel(issued.certPath)}), valid ${days} days.`, ...actions).then(c => {
      if (c === exportP12) void vscode.commands.executeCommand('mtls.exportPkcs12', vscode.Uri.file(issued.certPath));
    });
    return issued;
  };

  const signCsr = async (arg?: unknown): Promise<StoredCertificate | undefined> => {
    const root = storeRoot();
    const a: SignCsrArgs = isPlainObject(arg) ? (arg as SignCsrArgs) : {};
    const interactive = !isPlainObject(arg);
    const title = 'mTLS: Sign CSR';
    let csr: string | Buffer;
    let source: string;
    if (arg instanceof vscode.Uri) {
      source = arg.fsPath;
      csr = await fs.promises.readFile(source);
    } else if (str(a.csr)) {
      const v = a.csr!;
      if (v.includes('-----BEGIN')) { csr = v; source = 'the CSR'; } else { source = path.resolve(v); csr = await fs.promises.readFile(source); }
    } else {
      const picked = await vscode.window.showOpenDialog({
        title: `${title}: choose the certificate signing request`, canSelectMany: false, openLabel: 'Sign',
        filters: { 'Certificate signing requests': ['csr', 'req', 'pem'], 'All files': ['*'] },
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      });
      if (!picked?.[0]) throw new Cancelled();
      source = picked[0].fsPath;
      csr = await fs.promises.readFile(source);
    }
    const pki = await core();
    const request = pki.parseCsr(csr, source); // fails early, before any more questions
    const caName = await resolveIssuingCa(arg, str(a.ca), title, root);
    const profile: CertProfile = a.profile ?? (interactive ? await pickProfile({ title }) : 'client');
    if (!PROFILE_CHOICES.some(p => p.id === profile)) throw new MtlsError('bad-option', `Unknown profile ${profile}.`);
    const days = a.days !== undefined ? parseDays(a.days) : interactive ? await askDays(365, { title }) : 365;
    const signed = await progress(`mTLS: Signing the CSR of ${request.subjectCn ?? request.subject}`, report =>
      pki.signCsrToStore(root, caName, csr, { profile, days, name: str(a.name), sans: sansOf(a.sans), onProgress: report }));
    log.info(`Signed CSR ${source} with ${caName}: ${signed.certPath}`);
    await afterChange(signed.certPath);
    void vscode.window.showInformationMessage(`mTLS: signed ${request.subjectCn ?? request.subject} with ${caName} (${rel(signed.certPath)}). The private key stays with the requester.`);
    return signed;
  };

  const importCertificate = async (arg?: unknown): Promise<StoredCertificate | undefined> => {
    const root = storeRoot();
    const a: ImportArgs = isPlainObject(arg) ? (arg as ImportArgs) : {};
    const interactive = !isPlainObject(arg);
    const title = 'mTLS: Import CA or Certificate';
    let certFile = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg : str(a.cert);
    if (!certFile) {
      const picked = await vscode.window.showOpenDialog({
        title: `${title}: choose the certificate (PEM or DER; a PEM may hold the key too)`, canSelectMany: false, openLabel: 'Import',
        filters: { Certificates: ['pem', 'crt', 'cer', 'der'], 'All files': ['*'] }, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      });
      if (!picked?.[0]) throw new Cancelled();
      certFile = picked[0].fsPath;
    }
    certFile = path.resolve(certFile);
    const certData = await fs.promises.readFile(certFile);
    let keyFile = str(a.key);
    if (!keyFile && interactive && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(certData.toString('latin1'))) {
      const choice = await quickPick([
        { label: 'No private key', detail: 'Only the certificate (a CA you trust, or a certificate you only inspect and verify).', choose: false },
        { label: 'Choose the private key file...', detail: 'Needed to issue from a CA or to export a PKCS#12.', choose: true },
      ], { title, placeHolder: 'Import a private key with it?' });
      if (choice.choose) {
        const picked = await vscode.window.showOpenDialog({
          title: `${title}: choose the private key`, canSelectMany: false, openLabel: 'Use this key',
          filters: { 'Private keys': ['key', 'pem', 'der'], 'All files': ['*'] }, defaultUri: vscode.Uri.file(path.dirname(certFile)),
        });
        if (!picked?.[0]) throw new Cancelled();
        keyFile = picked[0].fsPath;
      }
    }
    const keyData = keyFile ? await fs.promises.readFile(path.resolve(keyFile)) : undefined;
    const pki = await core();
    const imported = await pki.importToStore(root, {
      cert: certData, key: keyData, name: str(a.name), caName: str(a.caName), certSource: certFile, keySource: keyFile,
    });
    log.info(`Imported ${certFile}${keyFile ? ' with its key' : ''}: ${imported.certPath}`);
    await afterChange(imported.certPath);
    void vscode.window.showInformationMessage(`mTLS: imported ${imported.info.isCa ? 'CA' : 'certificate'} ${imported.info.subjectCn ?? imported.name} (${rel(imported.certPath)})${imported.keyPath ? ' with its key' : ''}.`);
    return imported;
  };

  // ---- read-only actions ------------------------------------------------------------------------

  const inspectCertificate = async (arg?: unknown): Promise<InspectResult | undefined> => {
    const t = await resolveTarget(arg, 'mTLS: Inspect Certificate');
    const label = t.entry ? labelOf(t.entry) : path.basename(t.certPath);
    const uri = inspectUri(t.certPath, label);
    const doc = await vscode.workspace.openTextDocument(uri);
    inspect.refreshOpen();
    await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: isEntryNode(arg) });
    return { uri: uri.toString(), certPath: t.certPath };
  };

  const verifyCertificate = async (arg?: unknown): Promise<VerifyResult | undefined> => {
    const a: VerifyArgs = isPlainObject(arg) ? (arg as VerifyArgs) : {};
    const t = await resolveTarget(arg, 'mTLS: Verify Against CA', n => n.kind === 'cert');
    const pki = await core();
    const certPem = t.entry?.info.pem ?? pki.parseCertificate(await fs.promises.readFile(t.certPath), t.certPath);
    const model = tree.model;
    let ca: CaEntry | undefined;
    const explicit = str(a.ca);
    if (explicit) {
      ca = [...model.cas.values()].find(c => c.name === explicit || c.certPath === path.resolve(explicit) || path.relative(storeRoot(), c.dir) === explicit);
      if (!ca) throw new MtlsError('not-found', `No CA ${explicit} in the store.`);
    } else if (t.entry?.issuerPath && model.cas.has(t.entry.issuerPath) && t.entry.issuerPath !== t.certPath) {
      ca = model.cas.get(t.entry.issuerPath);
    } else if (t.node?.kind === 'cert' && t.node.ca) {
      ca = t.node.ca;
    } else {
      const cas = [...model.cas.values()];
      if (!cas.length) throw new MtlsError('not-found', 'There is no CA in the store to verify against.');
      ca = (await quickPick(cas.map(c => ({ label: `$(verified) ${c.name}`, detail: c.info.subject, ca: c })), { title: 'mTLS: Verify Against CA', placeHolder: 'Which CA?' })).ca;
    }
    const result = pki.verifyCertificate(certPem, ca!.info.pem);
    const name = t.entry ? labelOf(t.entry) : path.basename(t.certPath);
    const revoked = t.entry?.revoked ? ` It is revoked (${t.entry.revoked.reason}, ${t.entry.revoked.revokedAt.slice(0, 10)}).` : '';
    if (result.ok && !revoked) {
      void vscode.window.showInformationMessage(`mTLS: ${name} verifies against ${ca!.name}: signature, issuer name and validity are OK.`);
    } else {
      void vscode.window.showWarningMessage(`mTLS: ${name} ${result.ok ? 'verifies against' : 'does not verify against'} ${ca!.name}.${result.problems.length ? ' ' + result.problems.join(' ') : ''}${revoked}`);
    }
    return result;
  };

  const copyFingerprint = async (arg?: unknown): Promise<string | undefined> => {
    const a: CopyArgs = isPlainObject(arg) ? (arg as CopyArgs) : {};
    const t = await resolveTarget(arg, 'mTLS: Copy SHA-256 Fingerprint');
    const info = t.entry?.info ?? (await core()).inspectCertificate(await fs.promises.readFile(t.certPath), t.certPath);
    const value = a.format === 'openssl' ? info.fingerprintSha256 : info.sha256;
    await vscode.env.clipboard.writeText(value);
    vscode.window.setStatusBarMessage(`$(copy) SHA-256 of ${info.subjectCn ?? path.basename(t.certPath)} copied (${a.format === 'openssl' ? 'OpenSSL' : 'Cloudflare'} format)`, 4000);
    return value;
  };

  const openCertificateFile = async (arg?: unknown): Promise<string | undefined> => {
    const t = await resolveTarget(arg, 'mTLS: Open PEM File');
    const uri = vscode.Uri.file(t.certPath);
    await vscode.window.showTextDocument(uri, { preview: true });
    return uri.fsPath;
  };

  const revealCertificateFile = async (arg?: unknown): Promise<string | undefined> => {
    const t = await resolveTarget(arg, 'mTLS: Reveal in Explorer View');
    const uri = vscode.Uri.file(t.certPath);
    if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
    else await vscode.window.showTextDocument(uri, { preview: true });
    return uri.fsPath;
  };

  const refreshCertificates = async () => {
    const model = await tree.refresh();
    inspect.refreshOpen();
    return { root: model.root, cas: model.cas.size, certificates: model.byPath.size - model.cas.size, problems: model.store?.problems.length ?? 0 };
  };

  // ---- export / lifecycle ------------------------------------------------------------------------

  /** The issuing CA certificates, nearest first, as far as the store knows them. */
  const chainOf = (entry: StoreEntry): string[] => {
    const chain: string[] = [];
    const seen = new Set<string>([entry.certPath]);
    let next = entry.issuerPath;
    while (next && !seen.has(next)) {
      const ca = tree.model.cas.get(next);
      if (!ca) break;
      chain.push(ca.info.pem);
      seen.add(next);
      next = ca.issuerPath;
    }
    return chain;
  };

  const exportPkcs12 = async (arg?: unknown): Promise<ExportResult | undefined> => {
    const a: ExportArgs = isPlainObject(arg) ? (arg as ExportArgs) : {};
    const interactive = !isPlainObject(arg);
    const title = 'mTLS: Export PKCS#12 (Browsers)';
    const t = await resolveTarget(arg, title, n => !!n.entry.keyPath, 'certificate with a private key');
    const entry = requireEntry(t);
    const keyPath = str(a.key) ?? entry.keyPath;
    if (!keyPath) throw new MtlsError('not-found', `The store has no private key for ${labelOf(entry)}, so there is nothing to put in a PKCS#12.`, 'Import the key with the certificate, or issue a new certificate.');
    const flavor: P12Flavor = a.flavor ?? (a.legacy === true ? 'legacy' : a.legacy === false ? 'modern'
      : interactive ? (await quickPick(P12_CHOICES.map(c => ({ ...c })), { title, step: 1, totalSteps: 3, placeHolder: 'Which browsers or keychains will import it?' })).id : 'modern');
    if (flavor !== 'modern' && flavor !== 'legacy') throw new MtlsError('bad-option', `Unknown PKCS#12 flavour ${flavor}: use modern or legacy.`);
    const password = a.password ?? (await askNewPassword(title));
    const base = path.basename(entry.certPath).replace(/\.(pem|crt|cer)$/i, '');
    const suggested = path.join(path.dirname(entry.certPath), `${base}${flavor === 'legacy' ? '-legacy' : ''}.p12`);
    let out = str(a.out) ? path.resolve(a.out!) : undefined;
    let overwrite = false;
    if (!out) {
      const picked = await vscode.window.showSaveDialog({
        title: `${title}: save as`, defaultUri: vscode.Uri.file(suggested), saveLabel: 'Export', filters: { 'PKCS#12': ['p12', 'pfx'] },
      });
      if (!picked) throw new Cancelled();
      out = picked.fsPath;
      overwrite = true; // the save dialog asked before replacing a file
    }
    const pki = await core();
    const [certPem, keyPem] = await Promise.all([fs.promises.readFile(entry.certPath, 'utf8'), fs.promises.readFile(keyPath, 'utf8')]);
    const data = await progress(`mTLS: Exporting ${path.basename(out)}`, async () =>
      pki.exportPkcs12({ certPem, keyPem, chainPems: chainOf(entry), password, flavor, friendlyName: entry.info.subjectCn }));
    await writeFileAtomic(out, data, { mode: KEY_MODE, overwrite });
    log.info(`Exported ${flavor} PKCS#12 of ${entry.certPath} to ${out}`); // never the password
    await afterChange();
    const reveal = 'Reveal';
    void vscode.window.showInformationMessage(`mTLS: wrote ${rel(out)} (${flavor === 'legacy' ? 'legacy 3DES' : 'modern AES-256'}). Import it into the browser or keychain with the password you typed; keep it out of git.`, reveal).then(c => {
      if (c === reveal && out) void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(out));
    });
    return { out, flavor };
  };

  const renewCertificate = async (arg?: unknown): Promise<RenewResult | undefined> => {
    const root = storeRoot();
    const a: RenewArgs = isPlainObject(arg) ? (arg as RenewArgs) : {};
    const t = await resolveTarget(arg, 'mTLS: Renew Certificate', n => n.kind === 'cert' && !!n.entry.issuerPath && !n.entry.archived);
    const entry = requireEntry(t);
    const pki = await core();
    const result = await progress(`mTLS: Renewing ${labelOf(entry)}`, report =>
      pki.renewCertificate(root, entry.certPath, { days: a.days !== undefined ? parseDays(a.days) : undefined, key: a.key ? normalizeKey(a.key) : undefined, onProgress: report }));
    log.info(`Renewed ${entry.certPath}: ${result.renewed.certPath}; archived ${result.archived.join(', ')}`);
    await afterChange(result.renewed.certPath);
    void vscode.window.showInformationMessage(`mTLS: renewed ${labelOf(entry)}: new key and serial, valid until ${result.renewed.info.notAfter.toISOString().slice(0, 10)}. The previous pair moved to ${rel(path.dirname(result.archived[0] ?? entry.certPath))}. Export a new PKCS#12 for browsers.`);
    return result;
  };

  const revokeCertificate = async (arg?: unknown): Promise<RevokeResult | undefined> => {
    const root = storeRoot();
    const a: RevokeArgs = isPlainObject(arg) ? (arg as RevokeArgs) : {};
    const interactive = !isPlainObject(arg);
    const title = 'mTLS: Revoke Certificate';
    const t = await resolveTarget(arg, title, n => n.kind === 'cert' && !!n.entry.issuerPath && !n.entry.revoked);
    const entry = requireEntry(t);
    const reason = str(a.reason) ?? (interactive
      ? (await quickPick(REVOKE_REASONS.map(r => ({ ...r })), { title: `${title}: ${labelOf(entry)}`, placeHolder: 'Reason (recorded in the CA\'s revoked.json)' })).label
      : 'unspecified');
    const pki = await core();
    const result = await pki.revokeCertificate(root, entry.certPath, reason);
    log.info(`Revoked ${entry.certPath} (${reason}); recorded in ${result.revokedPath}`);
    await vscode.env.clipboard.writeText(result.expression);
    await afterChange();
    const show = 'Show Expression';
    void vscode.window.showWarningMessage(
      `mTLS: revoked ${labelOf(entry)}. Cloudflare does not read revocations from your CA: block it with a WAF custom rule. The expression is on the clipboard: ${result.expression}`, show,
    ).then(async c => {
      if (c !== show) return;
      const doc = await vscode.workspace.openTextDocument({
        language: 'plaintext',
        content: `# Cloudflare WAF custom rule (action: Block) for the certificates revoked by this CA\n# Recorded in ${result.revokedPath}\n${result.expression}\n`,
      });
      await vscode.window.showTextDocument(doc);
    });
    return result;
  };

  const deleteCertificate = async (arg?: unknown): Promise<string[] | undefined> => {
    const root = storeRoot();
    const a: DeleteArgs = isPlainObject(arg) ? (arg as DeleteArgs) : {};
    const t = await resolveTarget(arg, 'mTLS: Delete');
    const entry = t.entry;
    const isCa = t.node?.kind === 'ca';
    const name = entry ? labelOf(entry) : path.basename(t.certPath);
    const files = [t.certPath, ...(entry?.keyPath ? [entry.keyPath] : [])].map(p => path.basename(p)).join(' and ');
    if (a.confirm !== false) {
      const issuedCount = isCa ? (t.node as CaNode).entry.certs.filter(c => c.certPath !== t.certPath).length : 0;
      const detail = isCa
        ? `This removes ${files}. ${issuedCount ? `The ${issuedCount} certificate(s) it issued stay, but can no longer be renewed or revoked here. ` : ''}Clients and Cloudflare that trust this CA keep trusting it until you remove it there. This cannot be undone.`
        : `This removes ${files}${entry?.keyPath ? ' (the private key is gone for good)' : ''}. Revoke it first if someone still holds a copy. This cannot be undone.`;
      const ok = await vscode.window.showWarningMessage(`Delete ${isCa ? 'the CA' : ''} ${name}?`.replace('  ', ' '), { modal: true, detail }, 'Delete');
      if (ok !== 'Delete') throw new Cancelled();
    }
    const pki = await core();
    const removed = await pki.deleteCertificate(root, t.certPath);
    log.info(`Deleted ${removed.join(', ')}`);
    await afterChange();
    vscode.window.setStatusBarMessage(`$(trash) Deleted ${name}`, 4000);
    return removed;
  };

  return [
    register('mtls.createCa', 'Creating a CA', createCa),
    register('mtls.issueClientCert', 'Issuing a certificate', issue('client')),
    register('mtls.issueOriginPullCert', 'Issuing a certificate', issue('origin-pull')),
    register('mtls.signCsr', 'Signing a CSR', signCsr),
    register('mtls.importCertificate', 'Importing a certificate', importCertificate),
    register('mtls.inspectCertificate', undefined, inspectCertificate),
    register('mtls.exportPkcs12', 'Exporting a PKCS#12 file', exportPkcs12),
    register('mtls.verifyCertificate', undefined, verifyCertificate),
    register('mtls.renewCertificate', 'Renewing a certificate', renewCertificate),
    register('mtls.revokeCertificate', 'Revoking a certificate', revokeCertificate),
    register('mtls.deleteCertificate', 'Deleting from the certificate store', deleteCertificate),
    register('mtls.copyFingerprint', undefined, copyFingerprint),
    register('mtls.openCertificateFile', undefined, openCertificateFile),
    register('mtls.revealCertificateFile', undefined, revealCertificateFile),
    register('mtls.refreshCertificates', undefined, refreshCertificates),
  ];
}
