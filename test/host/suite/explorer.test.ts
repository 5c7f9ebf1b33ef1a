// Certificate Explorer in the real extension host: the commands (called with arguments, as other
// features and scripts call them) write the store, and the tree, its decorations and the inspect
// document show what core reads back from the files.
import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import * as pki from '../../../src/core/pki';
import type { ExplorerApi, ExplorerNode } from '../../../src/extension/explorer';
import { validateCaName, validateCommonName, validateDays } from '../../../src/extension/explorer/prompts';

import { EXTENSION_ID } from './support';
const mode = (p: string) => fs.statSync(p).mode & 0o777;
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

type EntryNode = Extract<ExplorerNode, { kind: 'ca' | 'cert' }>;

describe('Certificate Explorer', function () {
  this.timeout(120000);
  let api: ExplorerApi;
  let root: string;
  const suffix = crypto.randomBytes(3).toString('hex');
  const caName = `explorer-${suffix}`;
  let ca: pki.StoredCertificate;
  let alice: pki.StoredCertificate;
  let soon: pki.StoredCertificate;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-explorer-'));

  before(async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const exports = await ext.activate();
    api = exports.explorer;
    assert.ok(api, 'activate() returns { explorer }');
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(ws, 'the suite runs with a workspace folder');
    root = path.join(ws!, '.mtls');
  });

  after(async () => {
    // Leave the shared test workspace as the other suites expect it.
    for (const dir of [caName, `paged-${suffix}`, `imported-${suffix}`, `dropped-${suffix}`, `locked-${suffix}`, `plain-${suffix}`, '.git']) fs.rmSync(path.join(root, dir), { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
    await api?.refresh();
  });

  const caRow = async (name: string) => (await api.getChildren()).find(n => n.kind === 'ca' && n.entry.name === name) as EntryNode | undefined;
  const findRow = async (certPath: string, nodes?: ExplorerNode[]): Promise<EntryNode | undefined> => {
    for (const n of nodes ?? await api.getChildren()) {
      if ((n.kind === 'ca' || n.kind === 'cert') && n.entry.certPath === certPath) return n;
      const inner = await findRow(certPath, await api.getChildren(n));
      if (inner) return inner;
    }
    return undefined;
  };
  const icon = (item: vscode.TreeItem) => item.iconPath as vscode.ThemeIcon;

  it('declares the explorer commands, view actions and welcome views', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes;
    const ids: string[] = pkg.commands.map((c: { command: string }) => c.command);
    for (const id of ['mtls.createCa', 'mtls.issueClientCert', 'mtls.issueOriginPullCert', 'mtls.signCsr', 'mtls.importCertificate',
      'mtls.inspectCertificate', 'mtls.exportPkcs12', 'mtls.verifyCertificate', 'mtls.renewCertificate', 'mtls.revokeCertificate',
      'mtls.deleteCertificate', 'mtls.copyFingerprint', 'mtls.openCertificateFile', 'mtls.refreshCertificates']) {
      assert.ok(ids.includes(id), `${id} declared`);
    }
    const titleActions = pkg.menus['view/title'].filter((m: { when: string }) => m.when.includes('mtls.certificates')).map((m: { command: string }) => m.command);
    assert.deepStrictEqual(['mtls.createCa', 'mtls.importCertificate', 'mtls.refreshCertificates'].filter(c => titleActions.includes(c)).length, 3);
    const welcome = pkg.viewsWelcome.filter((w: { view: string }) => w.view === 'mtls.certificates').map((w: { contents: string }) => w.contents).join('\n');
    assert.match(welcome, /No certificate authority yet/);
    assert.match(welcome, /\(command:mtls\.createCa\)/);
    assert.match(welcome, /\(command:mtls\.importCertificate\)/);
  });

  it('validates what the prompts ask for', () => {
    assert.strictEqual(validateCaName('acme-root_1.x'), undefined);
    for (const bad of ['', '../up', '.hidden', 'a/b', 'with space', 'x'.repeat(65)]) assert.ok(validateCaName(bad), `CA name ${JSON.stringify(bad)} refused`);
    assert.ok(validateCommonName('  '));
    assert.strictEqual(validateCommonName('alice@example.com'), undefined);
    for (const bad of ['0', '-3', '1.5', 'ten', '']) assert.ok(validateDays(bad), `days ${JSON.stringify(bad)} refused`);
    assert.strictEqual(validateDays('365'), undefined);
  });

  it('creates a CA from command arguments: key 0600, folders 0700, and shows it at the top of the tree', async () => {
    ca = await vscode.commands.executeCommand<pki.StoredCertificate>('mtls.createCa', { name: caName, commonName: `Explorer ${suffix} Root CA`, key: 'ec-p256', days: 3650 });
    assert.ok(ca, 'mtls.createCa returned the created CA');
    assert.strictEqual(path.dirname(path.dirname(ca.certPath)), root);
    assert.ok(fs.existsSync(ca.certPath) && ca.keyPath && fs.existsSync(ca.keyPath));
    assert.strictEqual(mode(ca.keyPath!), 0o600, 'CA key is 0600');
    assert.strictEqual(mode(path.dirname(ca.certPath)), 0o700, 'CA folder is 0700');
    assert.strictEqual(mode(root), 0o700, 'store folder is 0700');
    const row = await caRow(caName);
    assert.ok(row, 'the CA is a top-level row');
    const item = api.getTreeItem(row!);
    assert.strictEqual(item.label, caName);
    assert.match(item.contextValue!, /^ca\b.*\bkey\b/);
    // created without a passphrase: the row says the key is not encrypted and offers to encrypt it
    assert.match(item.contextValue!, /\bplainkey\b/);
    assert.strictEqual(icon(item).id, 'unlock');
    assert.match(String(item.description), /^36(49|50) days · key not encrypted$/);
  });

  it('encrypts CA keys at rest: a passphrase on create, signing in the same session without asking, a wrong one writes nothing, Encrypt CA Key on a plain one', async () => {
    const locked = await vscode.commands.executeCommand<pki.StoredCertificate>('mtls.createCa', { name: `locked-${suffix}`, commonName: `Locked ${suffix}`, key: 'ec-p256', passphrase: 'host pass' });
    assert.ok(locked?.keyEncrypted, 'the key is encrypted');
    assert.match(fs.readFileSync(locked.keyPath!, 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    const lockedItem = api.getTreeItem((await caRow(`locked-${suffix}`))!);
    assert.strictEqual(icon(lockedItem).id, 'verified');
    assert.doesNotMatch(lockedItem.contextValue!, /\bplainkey\b/);
    const issued = await vscode.commands.executeCommand<pki.StoredCertificate>('mtls.issueClientCert', { ca: `locked-${suffix}`, commonName: 'bob', key: 'ec-p256' });
    assert.ok(issued, 'signed with the passphrase of this session, without a prompt');
    const certs = path.join(root, `locked-${suffix}`, 'certs');
    const before = fs.readdirSync(certs).sort();
    const wrong = await vscode.commands.executeCommand('mtls.issueClientCert', { ca: `locked-${suffix}`, commonName: 'carol', key: 'ec-p256', caPassphrase: 'wrong' });
    assert.strictEqual(wrong, undefined, 'a wrong passphrase fails (error shown)');
    assert.deepStrictEqual(fs.readdirSync(certs).sort(), before, 'and writes nothing');

    const plain = await vscode.commands.executeCommand<pki.StoredCertificate>('mtls.createCa', { name: `plain-${suffix}`, commonName: `Plain ${suffix}`, key: 'ec-p256' });
    assert.strictEqual(plain?.keyEncrypted, false);
    assert.match(api.getTreeItem((await caRow(`plain-${suffix}`))!).contextValue!, /\bplainkey\b/);
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes;
    assert.ok(pkg.menus['view/item/context'].some((m: { command: string; when: string }) => m.command === 'mtls.encryptCaKey' && /plainkey/.test(m.when)), 'Encrypt CA Key is on rows with a plain key');
    await vscode.commands.executeCommand('mtls.encryptCaKey', { ca: `plain-${suffix}`, passphrase: 'later' });
    const keyText = fs.readFileSync(plain!.keyPath!, 'utf8');
    assert.match(keyText, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.strictEqual(mode(plain!.keyPath!), 0o600);
    assert.deepStrictEqual(fs.readdirSync(path.dirname(plain!.keyPath!)).filter(n => n.startsWith('.') && n !== '.mtls.lock'), [], 'no plaintext copy left');
    const pub = crypto.createPublicKey(crypto.createPrivateKey({ key: keyText, passphrase: 'later' })).export({ type: 'spki', format: 'pem' });
    assert.strictEqual(pub, new crypto.X509Certificate(fs.readFileSync(plain!.certPath)).publicKey.export({ type: 'spki', format: 'pem' }));
    const after = api.getTreeItem((await caRow(`plain-${suffix}`))!);
    assert.doesNotMatch(after.contextValue!, /\bplainkey\b/);
    assert.strictEqual(icon(after).id, 'verified');
  });

  it('lists leftovers of interrupted writes in their own group and cleans them up', async () => {
    const staging = path.join(root, `.half-${suffix}.0123456789ab.tmp`);
    fs.mkdirSync(staging, { mode: 0o700 });
    fs.writeFileSync(path.join(staging, 'ca.key'), 'half a key', { mode: 0o600 });
    await api.refresh();
    const group = (await api.getChildren()).find(n => n.kind === 'group' && n.group === 'leftovers');
    assert.ok(group, 'a Leftovers group');
    const item = api.getTreeItem(group!);
    assert.strictEqual(item.contextValue, 'group-leftovers');
    assert.match(String(item.label), /Leftovers of interrupted writes \(1\)/);
    const removed = await vscode.commands.executeCommand<string[]>('mtls.cleanupStore', { confirm: false });
    assert.deepStrictEqual(removed, [staging]);
    assert.ok(!fs.existsSync(staging));
    assert.ok(!(await api.getChildren()).some(n => n.kind === 'group' && n.group === 'leftovers'), 'the group is gone');
  });

  it('issues a client certificate and shows it under its CA with days left, icon and tooltip', async () => {
    alice = await vscode.commands.executeCommand<pki.StoredCertificate>('mtls.issueClientCert', { ca: caName, commonName: `alice-${suffix}@example.com`, key: 'ec-p256', days: 365 });
    assert.ok(alice, 'mtls.issueClientCert returned the certificate');
    assert.strictEqual(mode(alice.keyPath!), 0o600, 'client key is 0600');
    const caNode = await caRow(caName);
    assert.strictEqual(api.getTreeItem(caNode!).collapsibleState, vscode.TreeItemCollapsibleState.Expanded, 'a CA with certificates opens expanded');
    const children = await api.getChildren(caNode!);
    const child = children.find(n => n.kind === 'cert' && n.entry.certPath === alice.certPath) as EntryNode | undefined;
    assert.ok(child, `the client certificate is a child of ${caName}: ${children.map(c => c.id).join(', ')}`);
    const item = api.getTreeItem(child!);
    assert.strictEqual(item.label, `alice-${suffix}@example.com`);
    assert.match(String(item.description), /^36[45] days$/);
    assert.match(item.contextValue!, /^cert-client\b/);
    assert.match(item.contextValue!, /\bkey\b/);
    assert.match(item.contextValue!, /\bissued\b/);
    assert.strictEqual(icon(item).id, 'person');
    assert.strictEqual(icon(item).color, undefined, 'no colour while valid for long');
    const tooltip = (item.tooltip as vscode.MarkdownString).value;
    for (const needle of ['Subject', 'Issuer', 'Serial', 'Key', 'EKU', 'clientAuth', 'SHA-256', alice.info.fingerprintSha256.slice(0, 47), alice.info.fingerprintSha256.slice(48), alice.info.serial]) {
      assert.ok(tooltip.includes(needle), `tooltip has ${needle}`);
    }
    assert.strictEqual(api.decoration(item.resourceUri!), undefined, 'no decoration while valid for long');
  });

  it('colours a certificate that expires within 30 days and says so', async () => {
    soon = await vscode.commands.executeCommand<pki.StoredCertificate>('mtls.issueClientCert', { ca: caName, commonName: `soon-${suffix}`, key: 'ec-p256', days: 10 });
    const row = await findRow(soon.certPath);
    assert.ok(row);
    const item = api.getTreeItem(row!);
    assert.match(String(item.description), /^expires in (9|10) days$/);
    const deco = api.decoration(item.resourceUri!);
    assert.ok(deco, 'a file decoration for the row');
    assert.strictEqual((deco!.color as vscode.ThemeColor).id, 'list.warningForeground');
    assert.strictEqual((icon(item).color as vscode.ThemeColor).id, 'list.warningForeground');
    assert.ok(api.treeView.badge && api.treeView.badge.value >= 1, 'the view badge counts expiring certificates');
  });

  it('shows an expired certificate (dropped into the store) in the error colour', async () => {
    const caDir = path.join(root, caName);
    const expired = await makeExpiredCert(caDir, path.join(caDir, 'certs', `expired-${suffix}.pem`));
    await api.refresh();
    const row = await findRow(expired);
    assert.ok(row, 'expired certificate listed');
    assert.strictEqual(row!.kind === 'cert' && row!.ca?.certPath, ca.certPath, 'under the CA that signed it');
    const item = api.getTreeItem(row!);
    assert.match(String(item.description), /^expired/);
    assert.strictEqual((api.decoration(item.resourceUri!)!.color as vscode.ThemeColor).id, 'list.errorForeground');
    fs.rmSync(expired);
  });

  it('issues an origin-pull certificate (leaf, clientAuth) under its CA', async () => {
    const op = await vscode.commands.executeCommand<pki.StoredCertificate>('mtls.issueOriginPullCert', { ca: caName, commonName: `origin-pull-${suffix}.example.com`, key: 'ec-p256' });
    assert.ok(op, 'mtls.issueOriginPullCert returned the certificate');
    assert.deepStrictEqual(op.info.extKeyUsage, ['clientAuth']);
    assert.strictEqual(op.info.isCa, false);
    const row = await findRow(op.certPath);
    assert.ok(row && row.kind === 'cert' && row.ca?.certPath === ca.certPath, 'listed under its CA');
    // The row's icon follows the profile core reads from the certificate: an origin-pull certificate is a
    // clientAuth leaf like a client certificate, so core may report it as either.
    const item = api.getTreeItem(row!);
    const expected = op.info.profile === 'origin-pull' ? ['cloud', /^cert-origin-pull\b/] as const : ['person', /^cert-client\b/] as const;
    assert.strictEqual(icon(item).id, expected[0]);
    assert.match(item.contextValue!, expected[1]);
  });

  it('signs a CSR from a file: the certificate goes under the CA, the key stays with the requester', async () => {
    const dir = path.join(tmp, 'csr');
    fs.mkdirSync(dir);
    const csrFile = path.join(dir, 'carol.csr');
    require('child_process').execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', path.join(dir, 'carol.key'), '-out', csrFile, '-subj', `/CN=carol-${suffix}`], { stdio: 'ignore' });
    const signed = await vscode.commands.executeCommand<pki.StoredCertificate>('mtls.signCsr', { csr: csrFile, ca: caName, days: 30 });
    assert.ok(signed, 'mtls.signCsr returned the certificate');
    assert.strictEqual(signed.info.subjectCn, `carol-${suffix}`);
    assert.strictEqual(signed.keyPath, undefined);
    const row = await findRow(signed.certPath);
    assert.ok(row && row.kind === 'cert' && row.ca?.certPath === ca.certPath, 'listed under the CA that signed it');
    assert.doesNotMatch(api.getTreeItem(row!).contextValue!, /\bkey\b/, 'no key: no PKCS#12 export in its menu');
    const tooltip = (api.getTreeItem(row!).tooltip as vscode.MarkdownString).value;
    assert.match(tooltip, /Private key \| not in the store/);
    // A garbled CSR is refused before anything is written.
    fs.writeFileSync(path.join(dir, 'bad.csr'), '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n');
    const before = fs.readdirSync(path.join(root, caName, 'certs')).sort();
    assert.strictEqual(await vscode.commands.executeCommand('mtls.signCsr', { csr: path.join(dir, 'bad.csr'), ca: caName }), undefined);
    assert.deepStrictEqual(fs.readdirSync(path.join(root, caName, 'certs')).sort(), before);
  });

  it('imports an existing CA with its key: a top-level row that can issue', async () => {
    const outside = await pki.createRootCa({ cn: `Imported ${suffix} CA`, key: 'ec-p256', days: 100 });
    const certFile = path.join(tmp, 'imported-ca.pem');
    const keyFile = path.join(tmp, 'imported-ca.key');
    fs.writeFileSync(certFile, outside.certPem);
    fs.writeFileSync(keyFile, outside.keyPem, { mode: 0o600 });
    const imported = await vscode.commands.executeCommand<pki.StoredCertificate>('mtls.importCertificate', { cert: certFile, key: keyFile, name: `imported-${suffix}` });
    assert.ok(imported, 'mtls.importCertificate returned the stored CA');
    assert.ok(imported.info.isCa);
    assert.strictEqual(mode(imported.keyPath!), 0o600);
    const row = await caRow(`imported-${suffix}`);
    assert.ok(row, 'the imported CA is a top-level row');
    assert.match(api.getTreeItem(row!).contextValue!, /^ca\b.*\bkey\b/);
    const leaf = await vscode.commands.executeCommand<pki.StoredCertificate>('mtls.issueClientCert', { ca: `imported-${suffix}`, commonName: `dave-${suffix}`, key: 'ec-p256', days: 5 });
    assert.ok(leaf, 'the imported CA issues');
    assert.strictEqual(pki.verifyCertificate(leaf.info.pem, outside.certPem).ok, true);
    // A key that does not belong to the certificate is refused and nothing is written.
    const other = await pki.createRootCa({ cn: 'Other', key: 'ec-p256', days: 10 });
    fs.writeFileSync(path.join(tmp, 'other.key'), other.keyPem, { mode: 0o600 });
    const listing = fs.readdirSync(root).sort();
    assert.strictEqual(await vscode.commands.executeCommand('mtls.importCertificate', { cert: certFile, key: path.join(tmp, 'other.key'), name: `mismatch-${suffix}` }), undefined);
    assert.deepStrictEqual(fs.readdirSync(root).sort(), listing);
  });

  it('finds private keys that git tracks (and warns about them)', async function () {
    const git = (...args: string[]) => require('child_process').execFileSync('git', args, { cwd: root, stdio: 'pipe' });
    try { git('--version'); } catch { this.skip(); }
    git('init', '-q', '.');
    try {
      assert.deepStrictEqual(await api.trackedKeys(), [], 'nothing tracked: .gitignore keeps keys out');
      git('add', '-f', path.relative(root, ca.keyPath!));
      const keys = await api.trackedKeys();
      assert.deepStrictEqual(keys, [ca.keyPath]);
    } finally {
      fs.rmSync(path.join(root, '.git'), { recursive: true, force: true });
    }
  });

  it('inspects a certificate in a read-only document with every core field', async () => {
    const result = await vscode.commands.executeCommand<{ uri: string }>('mtls.inspectCertificate', { path: alice.certPath });
    assert.ok(result);
    const doc = vscode.workspace.textDocuments.find(d => d.uri.toString() === result.uri);
    assert.ok(doc, 'the inspect document is open');
    assert.strictEqual(doc!.uri.scheme, 'mtls-cert');
    const text = doc!.getText();
    for (const needle of ['Subject:', 'Issuer:', 'Serial:', 'Key:', 'EKU:', 'clientAuth', 'Basic constraints:', 'CA:FALSE', 'Not after:',
      'SHA-256:', 'SHA-1:', 'SKI:', 'AKI:', alice.info.fingerprintSha256, alice.info.fingerprintSha1, 'Verified against', 'OK', alice.info.sha256]) {
      assert.ok(text.includes(needle), `inspect document has ${needle}`);
    }
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('verifies a certificate against its CA and copies its fingerprint', async () => {
    const result = await vscode.commands.executeCommand<pki.VerifyResult>('mtls.verifyCertificate', { path: alice.certPath });
    assert.ok(result?.ok, `verifies: ${result?.problems.join('; ')}`);
    const fp = await vscode.commands.executeCommand<string>('mtls.copyFingerprint', { path: alice.certPath });
    assert.strictEqual(fp, alice.info.sha256);
    assert.strictEqual(await vscode.env.clipboard.readText(), alice.info.sha256);
  });

  it('exports PKCS#12 files (modern and legacy) that core opens with the password, and only with it', async () => {
    const password = `pw-${crypto.randomBytes(6).toString('hex')}`;
    for (const flavor of ['modern', 'legacy'] as const) {
      const out = path.join(tmp, `alice-${flavor}.p12`);
      const result = await vscode.commands.executeCommand<{ out: string; flavor: string }>('mtls.exportPkcs12', { path: alice.certPath, out, password, flavor });
      assert.deepStrictEqual(result, { out, flavor });
      assert.strictEqual(mode(out), 0o600, 'the p12 holds a key: 0600');
      const contents = pki.readPkcs12(fs.readFileSync(out), password);
      assert.strictEqual(contents.certPem.trim(), fs.readFileSync(alice.certPath, 'utf8').trim());
      assert.strictEqual(contents.chainPems.length, 1, 'the chain holds the CA');
      assert.ok(pki.keyMatchesCertificate(contents.certPem, contents.keyPem));
      assert.throws(() => pki.readPkcs12(fs.readFileSync(out), 'wrong'), (e: unknown) => (e as pki.CertificateInfo & { code?: string }).code === 'p12-password');
    }
    // Never overwrites a file it was given by argument (no save dialog asked).
    const again = await vscode.commands.executeCommand('mtls.exportPkcs12', { path: alice.certPath, out: path.join(tmp, 'alice-modern.p12'), password, flavor: 'modern' });
    assert.strictEqual(again, undefined);
  });

  it('shows a PEM dropped into the store through the file watcher', async () => {
    const dropped = await pki.createRootCa({ cn: `Dropped ${suffix} CA`, key: 'ec-p256', days: 30 });
    const dir = path.join(root, `dropped-${suffix}`);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, 'ca.pem');
    fs.writeFileSync(file, dropped.certPem);
    const deadline = Date.now() + 15000;
    let row: EntryNode | undefined;
    while (!(row = await findRow(file)) && Date.now() < deadline) await Promise.race([api.nextLoad(), sleep(1000)]);
    assert.ok(row, 'the dropped CA appeared without a manual refresh');
    assert.strictEqual(row!.kind, 'ca');
    assert.doesNotMatch(api.getTreeItem(row!).contextValue!, /\bkey\b/, 'no key: cannot issue');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists unreadable files as problems instead of failing', async () => {
    const bad = path.join(root, caName, 'certs', `broken-${suffix}.pem`);
    fs.writeFileSync(bad, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    await api.refresh();
    const problems = (await api.getChildren()).find(n => n.kind === 'group' && n.group === 'problems');
    assert.ok(problems, 'a Problems group');
    const rows = await api.getChildren(problems);
    assert.ok(rows.some(r => r.kind === 'problem' && r.problem.path === bad), 'the broken file is listed');
    assert.ok(await caRow(caName), 'the rest of the store is still shown');
    fs.rmSync(bad);
    await api.refresh();
  });

  it('revokes a certificate: recorded, marked in the tree, Cloudflare expression returned and copied', async () => {
    const bob = await vscode.commands.executeCommand<pki.StoredCertificate>('mtls.issueClientCert', { ca: caName, commonName: `bob-${suffix}`, key: 'ec-p256', days: 30 });
    const result = await vscode.commands.executeCommand<pki.RevokeResult>('mtls.revokeCertificate', { path: bob.certPath, reason: 'keyCompromise' });
    assert.ok(result, 'revoke returned its result');
    assert.match(result.expression, /cf\.tls_client_auth\.cert_fingerprint_sha256/);
    assert.ok(result.expression.includes(bob.info.sha256));
    assert.ok(fs.existsSync(result.revokedPath));
    assert.strictEqual(await vscode.env.clipboard.readText(), result.expression);
    const item = api.getTreeItem((await findRow(bob.certPath))!);
    assert.match(item.contextValue!, /\brevoked\b/);
    assert.match(String(item.description), /^revoked/);
    assert.strictEqual(icon(item).id, 'circle-slash');
    assert.strictEqual((api.decoration(item.resourceUri!)!.color as vscode.ThemeColor).id, 'disabledForeground');
    // Revoking again keeps the first record and says so.
    const again = await vscode.commands.executeCommand<pki.RevokeResult>('mtls.revokeCertificate', { path: bob.certPath, reason: 'superseded' });
    assert.strictEqual(again.alreadyRevoked, true);
    assert.strictEqual(again.record.reason, 'keyCompromise');
  });

  it('renews a certificate: new serial, old pair archived', async () => {
    const result = await vscode.commands.executeCommand<pki.RenewResult>('mtls.renewCertificate', { path: soon.certPath, days: 90 });
    assert.ok(result, 'renew returned its result');
    assert.notStrictEqual(result.renewed.info.serial, soon.info.serial);
    assert.strictEqual(result.renewed.info.subject, soon.info.subject);
    assert.ok(result.renewed.info.daysLeft >= 89);
    for (const p of result.archived) assert.ok(fs.existsSync(p), `${p} archived`);
    const row = await findRow(result.renewed.certPath);
    assert.ok(row && !row.entry.archived);
    soon = result.renewed;
  });

  it('deletes a certificate and its key (confirmation skipped by argument) and the row goes away', async () => {
    const removed = await vscode.commands.executeCommand<string[]>('mtls.deleteCertificate', { path: soon.certPath, confirm: false });
    assert.ok(removed?.includes(soon.certPath), 'the certificate was removed');
    assert.ok(!fs.existsSync(soon.certPath) && !fs.existsSync(soon.keyPath!));
    assert.strictEqual(await findRow(soon.certPath), undefined);
    assert.ok(await findRow(alice.certPath), 'the others stay');
  });

  it('refuses an existing CA name and leaves its files as they were', async () => {
    const before = fs.readFileSync(ca.keyPath!, 'utf8');
    const again = await vscode.commands.executeCommand('mtls.createCa', { name: caName, commonName: 'Other', key: 'ec-p256' });
    assert.strictEqual(again, undefined, 'the command failed (error shown, nothing returned)');
    assert.strictEqual(fs.readFileSync(ca.keyPath!, 'utf8'), before);
  });

  it('pages a CA with many certificates: collapsed, 200 rows and a "Show more" row at a time, kept across refreshes', async () => {
    const name = `paged-${suffix}`;
    await pki.createCa(root, name, { cn: `Paged ${suffix}`, key: 'ec-p256' });
    const pagedCa = await pki.loadCa(root, name);
    const total = 450;
    const certsDir = path.join(root, name, 'certs');
    fs.mkdirSync(certsDir, { recursive: true, mode: 0o700 });
    for (let i = 0; i < total; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, total - i) }, (_, k) => pki.issueCertificate(pagedCa, { cn: `member-${String(i + k).padStart(3, '0')}`, key: 'ec-p256', days: 30 })));
      batch.forEach((c, k) => fs.writeFileSync(path.join(certsDir, `member-${String(i + k).padStart(3, '0')}.pem`), c.certPem));
      await sleep(10); // key generation blocks this thread: let the extension host answer in between
    }
    await api.refresh();
    const caNode = await caRow(name);
    assert.ok(caNode, 'the CA is listed');
    const caItem = api.getTreeItem(caNode!);
    assert.strictEqual(caItem.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed, 'a CA with many certificates starts collapsed');
    assert.match(String(caItem.description), /450 certificates/);

    let rows = await api.getChildren(caNode!);
    assert.strictEqual(rows.length, 201);
    let more = rows[200];
    assert.strictEqual(more.kind, 'more');
    assert.deepStrictEqual(rows.slice(0, 3).map(r => api.getTreeItem(r).label), ['member-000', 'member-001', 'member-002']);
    const moreItem = api.getTreeItem(more);
    assert.strictEqual(moreItem.label, 'Show 200 more');
    assert.strictEqual(moreItem.description, '200 of 450 shown');
    assert.strictEqual(moreItem.command?.command, 'mtls.showMoreCertificates');
    assert.strictEqual((moreItem.iconPath as vscode.ThemeIcon).id, 'ellipsis');

    await vscode.commands.executeCommand('mtls.showMoreCertificates', ...(moreItem.command!.arguments ?? []));
    rows = await api.getChildren(caNode!);
    assert.strictEqual(rows.length, 401);
    more = rows[400];
    assert.strictEqual(api.getTreeItem(more).label, 'Show 50 more');
    await vscode.commands.executeCommand('mtls.showMoreCertificates', more);
    rows = await api.getChildren(caNode!);
    assert.strictEqual(rows.length, total, 'every certificate is shown, no "more" row');
    assert.ok(rows.every(r => r.kind === 'cert'));
    // A refresh (a file changed) keeps what was opened.
    await api.refresh();
    assert.strictEqual((await api.getChildren((await caRow(name))!)).length, total);
  });
});

/** A client certificate that expired yesterday, signed by the CA in `caDir` (core only issues from now on). */
async function makeExpiredCert(caDir: string, out: string): Promise<string> {
  require('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const subtle = crypto.webcrypto.subtle as unknown as SubtleCrypto;
  x509.cryptoProvider.set(crypto.webcrypto as unknown as Crypto);
  const caCert = new x509.X509Certificate(fs.readFileSync(path.join(caDir, 'ca.pem'), 'utf8'));
  const der = crypto.createPrivateKey(fs.readFileSync(path.join(caDir, 'ca.key'))).export({ format: 'der', type: 'pkcs8' });
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  const caKey = await subtle.importKey('pkcs8', new Uint8Array(der) as Uint8Array<ArrayBuffer>, alg, false, ['sign']);
  const leaf = await subtle.generateKey(alg, true, ['sign', 'verify']) as CryptoKeyPair;
  const day = 86400000;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: crypto.randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
    subject: 'CN=expired-client',
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - 40 * day),
    notAfter: new Date(Date.now() - day),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    publicKey: leaf.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  fs.writeFileSync(out, cert.toString('pem') + '\n');
  return out;
}
