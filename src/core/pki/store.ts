// The store: plain PEM files in the workspace, readable by people and by openssl. The files are the truth:
// the tree is rebuilt from them on every scan (issuer = the CA whose key verifies the signature), so a PEM
// dropped in appears and nothing depends on a database that could drift.
//
//   <store>/.gitignore                 *.key, *.p12, *.pfx
//   <store>/<ca>/ca.pem  ca.key        the CA
//   <store>/<ca>/certs/<name>.pem .key certificates it issued
//   <store>/<ca>/origin-pull/<name>.pem .key  origin-pull certificates (the folder is their profile)
//   <store>/<ca>/revoked.json          revocations (serial, sha256, reason, date)
//   <store>/<ca>/archive/              renewed-away certificates and keys
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { execFile } from 'child_process';
import { MtlsError } from '../errors';
import {
  KEY_MODE, PUBLIC_MODE, assertRealFoldersInside, crashPoint, ensurePrivateDir, exists, isTempName, makeStagingDir,
  readRegularFile, withLock, writeFileAtomic, writeStaged,
} from '../fsutil';
import type {
  CertificateInfo,
  CaEntry, CaPaths, CertAndKey, CertProfile, CreateCaOptions, ImportOptions, PassphraseProvider, RenewOptions, RenewResult, RevocationRecord,
  RevokeResult, StoreEntry, StoreIssueOptions, StoreLeftover, StoreProblem, StoreSignCsrOptions, StoreTree, StoredCertificate,
} from './types';
import { assertKeyMatches, hasPrivateKeyBlock, keyAlgorithmOf, parseCertificate, parseCertificates, parsePrivateKey, privateKeyObject } from './pem';
import { encryptPrivateKey, isEncryptedKey, readPrivateKey } from './keyfile';
import { createRootCa, issueCertificate, parseCsr, signCsr, checkPrintable, BACKDATE_MS } from './certs';
import { inspectCertificate } from './inspect';
import { ORIGIN_PULL_DIR, ScanHelper, fileStamp, mayHaveIssued, scanFile, withStoreProfile } from './scan';
import type { ScannedCert, ScannedFile, SignaturePair } from './scan';

export { ORIGIN_PULL_DIR };

export const DEFAULT_STORE_DIR = '.mtls';
const CERT_EXTENSIONS = new Set(['.pem', '.crt', '.cer', '.der']);
const GITIGNORE = '# mTLS Workbench: private keys and PKCS#12 bundles stay out of git.\n*.key\n*.p12\n*.pfx\n# interrupted writes and lock files\n.*.tmp\n.*.tmp.*\n.mtls.lock\n';
const LOCK_NAME = '.mtls.lock';
const DAY_MS = 24 * 60 * 60 * 1000;

/** The store folder for a workspace folder and the `mtls.storePath` setting (relative to the workspace, or absolute). */
export function resolveStorePath(workspaceDir: string, storePath?: string): string {
  return path.resolve(workspaceDir, storePath && storePath.trim() ? storePath.trim() : DEFAULT_STORE_DIR);
}

/** Throws bad-name unless `name` is usable as a file or folder name everywhere. */
export function checkName(name: string, what = 'name'): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name) || name.endsWith('.') || /\.(pem|key|crt|cer|der|p12|pfx)$/i.test(name)) {
    throw new MtlsError('bad-name', `"${name}" cannot be used as a ${what}.`, 'Use letters, digits, ".", "_" and "-" (at most 64, starting with a letter or digit, without a file extension).');
  }
  return name;
}

/** A file-name-friendly name derived from a CN: "Alice Example" -> "alice-example". */
export function nameFromCn(cn: string): string {
  const slug = cn.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/^\*\./, 'wildcard.').replace(/[^a-z0-9._-]+/g, '-').replace(/^[-._]+|[-._]+$/g, '').slice(0, 64).replace(/[-._]+$/, '');
  return slug || 'cert';
}

/** Where a CA named `name` lives. */
export function caPaths(root: string, name: string): CaPaths {
  checkName(name, 'CA name');
  const dir = path.join(path.resolve(root), name);
  return {
    dir,
    certPath: path.join(dir, 'ca.pem'),
    keyPath: path.join(dir, 'ca.key'),
    certsDir: path.join(dir, 'certs'),
    originPullDir: path.join(dir, ORIGIN_PULL_DIR),
    revokedPath: path.join(dir, 'revoked.json'),
    archiveDir: path.join(dir, 'archive'),
  };
}

function keyPathFor(certPath: string): string {
  return certPath.replace(/\.(pem|crt|cer|der)$/i, '') + '.key';
}

/** Maps low-level file errors to MtlsErrors that say what to do. */
function fsError(err: unknown, target: string): unknown {
  if (err instanceof MtlsError) {
    return err;
  }
  const code = (err as NodeJS.ErrnoException).code;
  if (code) return new MtlsError('fs-unwritable', `Cannot write in ${target}: ${code}.`, 'Check that the store folder is a writable folder.', { cause: err });
  return err;
}

/** Throws "not a folder" when the store path exists and is something else. */
export async function checkStoreRoot(root: string): Promise<void> {
  const dir = path.resolve(root);
  let st: fs.Stats;
  try {
    st = await fs.promises.lstat(dir);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) throw new MtlsError('symlink-folder', `The store ${dir} is a symbolic link; the store must be a real folder.`, 'Point --store (or mtls.storePath) at the folder itself.');
  if (!st.isDirectory()) throw new MtlsError('not-a-folder', `The store ${dir} is not a folder.`, 'Point --store (or mtls.storePath) at a folder, or remove the file.');
}

/** Creates (or tightens to 0700) every folder from the store root down to `dir`, refusing symlinks and paths outside the store. */
async function ensureStoreDir(root: string, dir: string): Promise<void> {
  const base = path.resolve(root);
  await checkStoreRoot(base);
  await assertRealFoldersInside(base, dir);
  const parts = path.relative(base, path.resolve(dir)).split(path.sep).filter(Boolean);
  let cur = base;
  await ensurePrivateDir(cur);
  for (const part of parts) {
    cur = path.join(cur, part);
    await ensurePrivateDir(cur);
  }
  await assertRealFoldersInside(base, dir); // nothing swapped a folder for a link meanwhile
}

/** Runs `fn` holding the lock of a store folder (a CA folder, or the store root for CA creation). */
function locked<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  return withLock(path.join(dir, LOCK_NAME), fn);
}

interface NewFile { name: string; data: string; mode: number }

/**
 * Puts new files into `dir` as one unit. They are written and flushed in a staging folder inside `dir`
 * (hidden, covered by the ignore rules), then hard-linked into place keys first and the certificate last
 * (link() never replaces a file), and the staging folder is removed. A crash leaves the staging folder,
 * which `listStore` reports and `cleanupStore` (or the next write under the same lock) rolls back.
 * The caller holds the folder's lock.
 */
async function installFiles(root: string, dir: string, files: NewFile[], step: string): Promise<void> {
  await ensureStoreDir(root, dir);
  await rollBackLeftovers(dir);
  for (const f of files) {
    if (await exists(path.join(dir, f.name))) {
      throw new MtlsError('exists', `${path.join(dir, f.name)} already exists; nothing was written.`, 'Choose another name, or renew/delete the existing certificate.');
    }
  }
  const stem = path.basename(files[files.length - 1].name, path.extname(files[files.length - 1].name));
  const staging = await makeStagingDir(dir, stem);
  crashPoint(`${step}:staging-created`);
  try {
    await writeStaged(staging, files);
    crashPoint(`${step}:staged`);
    const linked: string[] = [];
    try {
      for (const f of files) {
        await fs.promises.link(path.join(staging, f.name), path.join(dir, f.name));
        linked.push(path.join(dir, f.name));
        crashPoint(`${step}:linked-${f.name.replace(/^.*\./, '')}`);
      }
    } catch (err) {
      for (const l of linked) await fs.promises.unlink(l).catch(() => undefined);
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new MtlsError('exists', `A file of the same name appeared in ${dir} meanwhile; nothing was written.`, 'Choose another name.');
      throw err;
    }
  } finally {
    await fs.promises.rm(staging, { recursive: true, force: true }).catch(() => undefined);
  }
  crashPoint(`${step}:done`);
}

/** Leftovers of interrupted writes directly inside `dir`: staging folders, temporary files, and what they had linked. */
async function leftoversIn(dir: string): Promise<StoreLeftover[]> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: StoreLeftover[] = [];
  for (const e of entries) {
    if (!isTempName(e.name)) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      // A staging folder: files it holds that are also linked into `dir` (same inode) belong to the interrupted write.
      const staged = await fs.promises.readdir(full).catch(() => [] as string[]);
      const partial: string[] = [];
      const certLinked = await Promise.all(staged.filter(n => CERT_EXTENSIONS.has(path.extname(n))).map(n => sameFile(path.join(full, n), path.join(dir, n))));
      if (!certLinked.some(Boolean)) {
        for (const n of staged) if (await sameFile(path.join(full, n), path.join(dir, n))) partial.push(path.join(dir, n));
      }
      out.push({ path: full, partial: partial[0], message: `An interrupted write left ${e.name}${partial.length ? ` and ${path.basename(partial[0])} without its certificate` : ''}.` });
    } else if (e.isFile()) {
      out.push({ path: full, message: `An interrupted write left the temporary file ${e.name}.` });
    }
  }
  return out;
}

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([fs.promises.lstat(a), fs.promises.lstat(b)]);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** Removes the leftovers directly inside `dir` (the caller holds its lock, so none of them is in progress). */
async function rollBackLeftovers(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const l of await leftoversIn(dir)) {
    if (l.partial) {
      await fs.promises.unlink(l.partial).catch(() => undefined);
      removed.push(l.partial);
    }
    await fs.promises.rm(l.path, { recursive: true, force: true });
    removed.push(l.path);
  }
  return removed;
}

/** Removes every leftover of interrupted writes in the store (taking each folder's lock); returns what was removed. */
export async function cleanupStore(root: string): Promise<string[]> {
  const base = path.resolve(root);
  const tree = await listStore(base);
  const dirs = [...new Set(tree.leftovers.map(l => path.dirname(l.path)))];
  const removed: string[] = [];
  for (const dir of dirs) {
    await assertRealFoldersInside(base, dir);
    const lockDir = lockDirFor(base, dir);
    removed.push(...(await locked(lockDir, () => rollBackLeftovers(dir))));
  }
  return removed;
}

/** The folder whose lock guards writes in `dir`: its CA folder (the first level under the store), else the store root. */
function lockDirFor(root: string, dir: string): string {
  const rel = path.relative(root, dir).split(path.sep).filter(Boolean);
  return rel.length ? path.join(root, rel[0]) : root;
}

/** Creates the store folder (0700) and its .gitignore when missing. */
export async function initStore(root: string): Promise<void> {
  const dir = path.resolve(root);
  await checkStoreRoot(dir);
  await ensurePrivateDir(dir);
  const gi = path.join(dir, '.gitignore');
  if (!(await exists(gi))) {
    try {
      await writeFileAtomic(gi, GITIGNORE, { mode: PUBLIC_MODE });
    } catch (err) {
      if (!(err instanceof MtlsError && err.code === 'exists')) throw fsError(err, dir);
    }
  }
}

/** inspectCertificate, plus the profile that only the store knows: a clientAuth leaf under `origin-pull/`. */
function inspectStored(certPem: string, certPath: string): CertificateInfo {
  return withStoreProfile(inspectCertificate(certPem, certPath), certPath);
}

function stored(name: string, certPath: string, keyPath: string | undefined, certPem: string, caName?: string, keyEncrypted?: boolean): StoredCertificate {
  return { name, certPath, keyPath, info: inspectStored(certPem, certPath), caName, ...(keyEncrypted !== undefined ? { keyEncrypted } : {}) };
}

/**
 * Writes a new CA folder `<root>/<name>/` with ca.key and ca.pem as one step: both are written and flushed
 * in a staging folder of the store root, which is then renamed to the CA's name. A crash leaves either no
 * CA folder (and a staging folder `listStore` reports) or the complete one.
 */
async function installCaFolder(root: string, name: string, files: NewFile[], step: string): Promise<void> {
  const base = path.resolve(root);
  const p = caPaths(base, name);
  await initStore(base);
  await assertRealFoldersInside(base, p.dir);
  await locked(base, async () => {
    for (const f of files) {
      if (await exists(path.join(p.dir, f.name))) throw new MtlsError('exists', `A CA named "${name}" already exists (${path.join(p.dir, f.name)}); it was left as it was.`, 'Choose another name.');
    }
    await rollBackLeftovers(base);
    if (await exists(p.dir)) {
      // A folder without a CA in it (e.g. emptied by hand): the files go in one by one.
      await installFiles(base, p.dir, files, step);
      return;
    }
    const staging = await makeStagingDir(base, name);
    crashPoint(`${step}:staging-created`);
    try {
      await writeStaged(staging, files);
      crashPoint(`${step}:staged`);
      try {
        await fs.promises.rename(staging, p.dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new MtlsError('exists', `A CA named "${name}" was created meanwhile; it was left as it was.`, 'Choose another name.');
        throw fsError(err, base);
      }
      crashPoint(`${step}:renamed`);
    } finally {
      await fs.promises.rm(staging, { recursive: true, force: true }).catch(() => undefined);
    }
  });
}

/** Creates a root CA in `<root>/<name>/`; the key is encrypted when `options.passphrase` is non-empty. */
export async function createCa(root: string, name: string, options: CreateCaOptions): Promise<StoredCertificate> {
  const p = caPaths(root, name);
  await checkStoreRoot(root);
  for (const f of [p.certPath, p.keyPath]) {
    if (await exists(f)) throw new MtlsError('exists', `A CA named "${name}" already exists (${f}); it was left as it was.`, 'Choose another name.');
  }
  const ca = await createRootCa(options); // validates options before anything touches the disk
  const encrypted = !!options.passphrase;
  let keyData = ca.keyPem;
  if (encrypted) {
    options.onProgress?.('Encrypting the CA key…');
    keyData = await encryptPrivateKey(ca.keyPem, options.passphrase!);
  }
  options.onProgress?.('Writing the CA files…');
  await installCaFolder(root, name, [{ name: 'ca.key', data: keyData, mode: KEY_MODE }, { name: 'ca.pem', data: ca.certPem, mode: PUBLIC_MODE }], 'ca-create');
  return stored(name, p.certPath, p.keyPath, ca.certPem, name, encrypted);
}

/** Encrypts the key of CA `name` in place (atomic rename over the old file; the plaintext is kept nowhere). */
export async function encryptCaKey(root: string, name: string, passphrase: string): Promise<void> {
  if (!passphrase) throw new MtlsError('bad-option', 'An empty passphrase does not encrypt anything.');
  const p = caPaths(root, name);
  await assertRealFoldersInside(root, p.dir);
  await locked(p.dir, async () => {
    const data = await readRegularFile(p.keyPath);
    if (isEncryptedKey(data)) throw new MtlsError('exists', `The key of the CA "${name}" is already encrypted; it was left as it was.`);
    const keyPem = parsePrivateKey(data, p.keyPath);
    assertKeyMatches(parseCertificate(await readRegularFile(p.certPath), p.certPath), keyPem, p.keyPath, p.certPath);
    const encrypted = await encryptPrivateKey(keyPem, passphrase);
    await writeFileAtomic(p.keyPath, encrypted, { mode: KEY_MODE, overwrite: true });
  });
}

async function caFolderNames(root: string): Promise<string[]> {
  try {
    const names: string[] = [];
    for (const d of await fs.promises.readdir(root, { withFileTypes: true })) {
      if (d.isDirectory() && (await exists(path.join(root, d.name, 'ca.pem')))) names.push(d.name);
    }
    return names.sort();
  } catch {
    return [];
  }
}

/** Loads a CA's certificate and key from `<root>/<name>/`; asks `passphrase` only when the key is encrypted. */
export async function loadCa(root: string, name: string, passphrase?: PassphraseProvider): Promise<CertAndKey & { certPath: string; keyPath: string; dir: string; keyEncrypted: boolean }> {
  const p = caPaths(root, name);
  await checkStoreRoot(root);
  if (!(await exists(p.certPath))) {
    const known = await caFolderNames(root);
    throw new MtlsError('not-found', `There is no CA named "${name}" in ${path.resolve(root)} (no ${p.certPath}).`, known.length ? `Known CAs: ${known.join(', ')}.` : 'Create one with `mtls ca create`.');
  }
  const certPem = parseCertificate(await readRegularFile(p.certPath), p.certPath);
  if (!(await exists(p.keyPath))) {
    throw new MtlsError('no-ca-key', `The CA "${name}" has no private key (${p.keyPath} is missing), so it cannot sign.`, 'Import the CA together with its key.');
  }
  const { keyPem, encrypted } = await readPrivateKey(await readRegularFile(p.keyPath), p.keyPath, async () => passphrase?.({ name, keyPath: p.keyPath }));
  assertKeyMatches(certPem, keyPem, p.keyPath, p.certPath);
  return { certPem, keyPem, certPath: p.certPath, keyPath: p.keyPath, dir: p.dir, keyEncrypted: encrypted };
}

/** Issues a certificate from CA `caName` into `<root>/<caName>/certs/<name>.pem` + `.key`. */
export async function issueToStore(root: string, caName: string, options: StoreIssueOptions): Promise<StoredCertificate> {
  const name = checkName(options.name ?? nameFromCn(options.cn ?? ''), 'certificate name');
  const p = caPaths(root, caName);
  const dir = options.profile === 'origin-pull' ? p.originPullDir : p.certsDir;
  const certPath = path.join(dir, `${name}.pem`);
  const keyPath = path.join(dir, `${name}.key`);
  await checkStoreRoot(root);
  await assertRealFoldersInside(root, dir);
  if (await exists(certPath)) throw new MtlsError('exists', `A certificate named "${name}" already exists under the CA "${caName}" (${certPath}); it was left as it was.`, 'Choose another name with --name, or renew the existing one.');
  const ca = await loadCa(root, caName, options.caPassphrase);
  const leaf = await issueCertificate(ca, options);
  options.onProgress?.('Writing the certificate files…');
  await initStore(root); // puts the .gitignore back if someone removed it
  // Under the CA's lock; installFiles first rolls back what an interrupted issue left (a key without its certificate).
  await locked(p.dir, () => installFiles(root, dir, [{ name: `${name}.key`, data: leaf.keyPem, mode: KEY_MODE }, { name: `${name}.pem`, data: leaf.certPem, mode: PUBLIC_MODE }], 'issue'));
  return stored(name, certPath, keyPath, leaf.certPem, caName);
}

/** Signs a CSR with CA `caName` into `<root>/<caName>/certs/<name>.pem` (the key stays with the requester). */
export async function signCsrToStore(root: string, caName: string, csr: string | Uint8Array, options: StoreSignCsrOptions = {}): Promise<StoredCertificate> {
  const info = parseCsr(csr, 'the CSR');
  const name = checkName(options.name ?? nameFromCn(info.subjectCn ?? info.sans[0]?.value ?? 'cert'), 'certificate name');
  const p = caPaths(root, caName);
  const certPath = path.join(p.certsDir, `${name}.pem`);
  await checkStoreRoot(root);
  await assertRealFoldersInside(root, p.certsDir);
  if (await exists(certPath)) throw new MtlsError('exists', `A certificate named "${name}" already exists under the CA "${caName}" (${certPath}); it was left as it was.`, 'Choose another name.');
  const ca = await loadCa(root, caName, options.caPassphrase);
  const certPem = await signCsr(ca, csr, options);
  await initStore(root);
  await locked(p.dir, () => installFiles(root, p.certsDir, [{ name: `${name}.pem`, data: certPem, mode: PUBLIC_MODE }], 'sign-csr'));
  return stored(name, certPath, undefined, certPem, caName);
}

/** Imports a CA (into its own folder) or a certificate (under the CA that signed it); checks the key matches. */
export async function importToStore(root: string, options: ImportOptions): Promise<StoredCertificate> {
  const certSource = options.certSource ?? 'the certificate';
  await checkStoreRoot(root);
  const certPem = parseCertificates(options.cert, certSource)[0];
  let keyPem: string | undefined;
  if (options.key !== undefined) keyPem = parsePrivateKey(options.key, options.keySource ?? 'the key');
  else if (hasPrivateKeyBlock(options.cert)) keyPem = parsePrivateKey(options.cert, certSource);
  if (keyPem) assertKeyMatches(certPem, keyPem, options.keySource, options.certSource);
  const info = inspectCertificate(certPem, certSource);
  const name = checkName(options.name ?? nameFromCn(info.subjectCn ?? 'imported'), info.isCa ? 'CA name' : 'certificate name');

  const files: NewFile[] = [];
  const base = path.basename;
  if (info.isCa) {
    const p = caPaths(root, name);
    if (keyPem) files.push({ name: 'ca.key', data: keyPem, mode: KEY_MODE });
    files.push({ name: 'ca.pem', data: certPem, mode: PUBLIC_MODE });
    await installCaFolder(root, name, files, 'import');
    return stored(name, p.certPath, keyPem ? p.keyPath : undefined, certPem, name, keyPem ? false : undefined);
  }
  let dir: string;
  let caName: string | undefined;
  if (options.caName) {
    const p = caPaths(root, options.caName);
    if (!(await exists(p.certPath))) throw new MtlsError('not-found', `There is no CA named "${options.caName}" in ${path.resolve(root)}.`);
    const caCert = new crypto.X509Certificate(parseCertificate(await readRegularFile(p.certPath), p.certPath));
    if (!new crypto.X509Certificate(certPem).verify(caCert.publicKey)) {
      throw new MtlsError('bad-option', `${certSource} was not signed by the CA "${options.caName}".`, 'Import it without choosing a CA, or under the CA that issued it.');
    }
    dir = p.certsDir;
    caName = options.caName;
  } else {
    const tree = await listStore(root);
    const x = new crypto.X509Certificate(certPem);
    const issuer = tree.cas.find(ca => ca.info.subject === info.issuer && x.verify(new crypto.X509Certificate(ca.info.pem).publicKey));
    if (issuer && base(issuer.certPath) === 'ca.pem') {
      dir = path.join(path.dirname(issuer.certPath), 'certs');
      caName = base(path.dirname(issuer.certPath));
    } else if (issuer) {
      dir = path.dirname(issuer.certPath);
    } else {
      dir = path.join(path.resolve(root), 'imported');
    }
  }
  const certPath = path.join(dir, `${name}.pem`);
  const keyPath = keyPathFor(certPath);
  if (keyPem) files.push({ name: base(keyPath), data: keyPem, mode: KEY_MODE });
  files.push({ name: base(certPath), data: certPem, mode: PUBLIC_MODE });
  await initStore(root);
  const lockDir = lockDirFor(path.resolve(root), dir);
  await ensureStoreDir(root, lockDir);
  await locked(lockDir, () => installFiles(root, dir, files, 'import'));
  return stored(name, certPath, keyPem ? keyPath : undefined, certPem, caName);
}

// ---- scanning -------------------------------------------------------------------------------

interface WalkResult {
  files: string[];
  /** Every file name per folder (for `x.key` beside `x.pem` without a system call per certificate). */
  names: Map<string, Set<string>>;
  leftoverDirs: Set<string>;
}

async function walk(dir: string, out: WalkResult, problems: StoreProblem[], depth = 0): Promise<void> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (err) {
    problems.push({ path: dir, message: `Cannot read the folder: ${(err as NodeJS.ErrnoException).code ?? err}.` });
    return;
  }
  out.names.set(dir, new Set(entries.filter(e => e.isFile()).map(e => e.name)));
  const subdirs: string[] = [];
  const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep;
  for (const e of entries) {
    if (isTempName(e.name)) out.leftoverDirs.add(dir);
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    // Dirent types come from lstat: symbolic links are neither folders nor files here, so the scan never leaves the store.
    if (e.isDirectory()) {
      if (depth < 8) subdirs.push(prefix + e.name);
    } else if (e.isFile() && CERT_EXTENSIONS.has(path.extname(e.name).toLowerCase())) {
      out.files.push(prefix + e.name);
    }
  }
  await Promise.all(subdirs.map(d => walk(d, out, problems, depth + 1)));
}

/** The revocations recorded in a CA folder ([] when none). */
export async function readRevocations(caDir: string): Promise<RevocationRecord[]> {
  const file = path.join(caDir, 'revoked.json');
  let text: string;
  try {
    text = (await readRegularFile(file)).toString('utf8');
  } catch (err) {
    if (err instanceof MtlsError && err.code !== 'fs-unreadable') throw err;
    return [];
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new MtlsError('bad-option', `${file} is not valid JSON (${(err as Error).message}).`, 'Fix or remove the file; it lists revoked certificates.');
  }
  const list = Array.isArray(data) ? data : (data as { revoked?: unknown })?.revoked;
  if (!Array.isArray(list)) return [];
  return list.filter((r): r is RevocationRecord => !!r && typeof r === 'object' && typeof (r as RevocationRecord).sha256 === 'string');
}

/** CA sha256 -> certificate sha256 -> whether the CA's key verifies the certificate's signature. */
const verifyCache = new Map<string, Map<string, boolean>>();
const MAX_VERIFY_CACHE = 100000;
let verifyCacheSize = 0;
/** Per store root: path -> what its last scan found. Only files seen in the latest scan are kept. */
const scanCache = new Map<string, Map<string, ScannedFile>>();

/** Runs `fn` over `items` synchronously in batches, yielding to the event loop between batches (the explorer stays responsive). */
async function mapInBatches<T, R>(items: T[], batch: number, fn: (item: T) => R): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += batch) {
    if (i > 0) await new Promise(resolve => setImmediate(resolve));
    for (const item of items.slice(i, i + batch)) out.push(fn(item));
  }
  return out;
}

/** The verdict already known for `ca`'s key on `cert`'s signature (on the scanned certificate, or by both fingerprints). */
function knownVerdict(cert: ScannedCert, ca: ScannedCert): boolean | undefined {
  const mine = cert.verdicts?.get(ca.info.sha256);
  if (mine !== undefined) return mine;
  const v = verifyCache.get(ca.info.sha256)?.get(cert.info.sha256);
  if (v !== undefined) (cert.verdicts ??= new Map()).set(ca.info.sha256, v);
  return v;
}

function recordVerdict(cert: ScannedCert, ca: ScannedCert, v: boolean): void {
  if (verifyCacheSize >= MAX_VERIFY_CACHE) {
    verifyCache.clear();
    verifyCacheSize = 0;
  }
  let byCert = verifyCache.get(ca.info.sha256);
  if (!byCert) verifyCache.set(ca.info.sha256, (byCert = new Map()));
  if (!byCert.has(cert.info.sha256)) verifyCacheSize++;
  byCert.set(cert.info.sha256, v);
  (cert.verdicts ??= new Map()).set(ca.info.sha256, v);
}

/**
 * What each of `files` holds: a file seen by the previous scan costs one lstat while its stamp holds; the
 * others are read (the open file gives the stamp). CA files are read first, so that while the rest are read
 * the signature checks against the CAs found so far run in the helper thread, which also reads shares of
 * files whenever it has nothing to check.
 */
async function scanFilesOf(dir: string, files: string[], previous: Map<string, ScannedFile>, helper: ScanHelper): Promise<Map<string, ScannedFile>> {
  const byPath = new Map<string, ScannedFile>();
  const toRead: string[] = [];
  await mapInBatches(files, 500, file => {
    const old = previous.get(file);
    if (!old) return toRead.push(file);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(file); // a few microseconds: cheaper than a thread-pool round trip per file
    } catch (err) {
      return byPath.set(file, { stamp: '', problem: `Cannot read: ${(err as NodeJS.ErrnoException).code ?? err}` });
    }
    if (old.stamp === fileStamp(st)) byPath.set(file, old);
    else toRead.push(file);
  });
  helper.prepare(toRead.length);
  const looksLikeCa = (file: string) => /[\\/]ca\.[^\\/]*$/i.test(file);
  const ordered = [...toRead.filter(looksLikeCa), ...toRead.filter(f => !looksLikeCa(f))];
  const casBySubject = new Map<string, ScannedCert[]>();
  const addCa = (c?: ScannedCert) => {
    if (c?.info.isCa) casBySubject.set(c.subject, [...(casBySubject.get(c.subject) ?? []), c]);
  };
  for (const s of byPath.values()) addCa(s.cert);
  const scanned = (file: string, s: ScannedFile) => {
    byPath.set(file, s);
    if (!s.cert || !helper.available) return;
    addCa(s.cert);
    const cert = s.cert;
    helper.queue((casBySubject.get(cert.issuer) ?? []).filter(ca => mayHaveIssued(cert, ca) && knownVerdict(cert, ca) === undefined).map(ca => ({ cert, ca })));
  };
  const helped: Promise<void>[] = [];
  for (let i = 0; i < ordered.length; i += SCAN_SHARE) {
    const share = ordered.slice(i, i + SCAN_SHARE);
    const remote = i > 0 ? helper.scan(share, dir) : undefined; // the first share (the CAs) is read here
    if (remote) {
      helped.push(remote.then(results => share.forEach((file, k) => scanned(file, results[k]))));
      continue;
    }
    for (const file of share) scanned(file, scanFile(file, dir));
    // Lets the helper's replies in (and its next share out), and keeps an editor responsive during a long scan.
    await new Promise(resolve => setImmediate(resolve));
  }
  await Promise.all(helped);
  return byPath;
}

/** Where a certificate file sits: its entry's name, its key file's folder and name, whether it is archived. */
function placeOf(dir: string, file: string): NonNullable<ScannedFile['place']> {
  const base = path.basename(file).replace(/\.[^.]+$/, '');
  const keyPath = keyPathFor(file);
  const rel = (file.startsWith(dir + path.sep) ? file.slice(dir.length + 1) : path.relative(dir, file)).split(path.sep);
  return {
    name: base === 'ca' && rel.length > 1 ? path.basename(path.dirname(file)) : base,
    dir: path.dirname(file), keyPath, keyName: path.basename(keyPath), archived: rel.slice(0, -1).includes('archive'),
  };
}

/** Files per share of a scan (this thread yields between shares; the helper thread takes whole shares). */
const SCAN_SHARE = 100;

/** Options of a store scan. */
export interface ListStoreOptions {
  /** Helper threads a large cold scan may use (default: 1 when the machine has another core; 0: this thread does everything). */
  threads?: number;
}

/**
 * Scans every certificate file under `root` and builds the CA tree by signature; unreadable files become
 * problems, remains of interrupted writes become leftovers. What each file held is cached on its identity
 * (device, inode), size and times, so a rescan after a change re-reads only what changed.
 */
export async function listStore(root: string, options: ListStoreOptions = {}): Promise<StoreTree> {
  const dir = path.resolve(root);
  const tree: StoreTree = { root: dir, exists: false, cas: [], orphans: [], problems: [], leftovers: [] };
  try {
    if (!(await fs.promises.stat(dir)).isDirectory()) {
      tree.problems.push({ path: dir, message: 'The store path is not a folder.' });
      return tree;
    }
  } catch {
    return tree;
  }
  tree.exists = true;
  const walked: WalkResult = { files: [], names: new Map(), leftoverDirs: new Set() };
  await walk(dir, walked, tree.problems);
  walked.files.sort();
  for (const d of [...walked.leftoverDirs].sort()) tree.leftovers.push(...(await leftoversIn(d)));
  const hiddenKeys = new Set(tree.leftovers.map(l => l.partial).filter((p): p is string => !!p));

  const previous = scanCache.get(dir) ?? new Map<string, ScannedFile>();
  const current = new Map<string, ScannedFile>();
  const now = new Date();
  const helper = new ScanHelper(({ cert, ca }, verified) => recordVerdict(cert, ca, verified), options.threads);
  try {
    const scannedByPath = await scanFilesOf(dir, walked.files, previous, helper);
    const entries: { entry: StoreEntry; x509: ScannedCert }[] = [];
    for (const file of walked.files) {
      const s = scannedByPath.get(file)!;
      current.set(file, s);
      if (s.problem) tree.problems.push({ path: file, message: s.problem });
      if (!s.cert) continue;
      s.place ??= placeOf(dir, file);
      const place = s.place;
      const i = s.cert.info;
      // The copy with today's validity figures is kept until one of them changes (at most daily).
      const daysLeft = Math.floor((i.notAfter.getTime() - now.getTime()) / DAY_MS), expired = now > i.notAfter, notYetValid = now < i.notBefore;
      let info = i;
      if (i.daysLeft !== daysLeft || i.expired !== expired || i.notYetValid !== notYetValid) {
        const last = s.cert.current;
        info = last && last.daysLeft === daysLeft && last.expired === expired && last.notYetValid === notYetValid ? last : (s.cert.current = { ...i, daysLeft, expired, notYetValid });
      }
      const hasKey = walked.names.get(place.dir)?.has(place.keyName) && !hiddenKeys.has(place.keyPath);
      entries.push({
        entry: {
          name: place.name,
          certPath: file,
          keyPath: hasKey ? place.keyPath : undefined,
          info,
          archived: place.archived,
        },
        x509: s.cert,
      });
    }
    scanCache.set(dir, current);

    const cas: { ca: CaEntry; x509: ScannedCert }[] = [];
    for (const { entry, x509 } of entries) {
      if (!entry.info.isCa) continue;
      const caDir = path.dirname(entry.certPath);
      let revocations: RevocationRecord[] = [];
      try {
        revocations = await readRevocations(caDir);
      } catch (err) {
        tree.problems.push({ path: path.join(caDir, 'revoked.json'), message: (err as Error).message });
      }
      let keyEncrypted: boolean | undefined;
      if (entry.keyPath) {
        try {
          keyEncrypted = isEncryptedKey(await readRegularFile(entry.keyPath, { maxBytes: 1024 * 1024 }));
        } catch {
          keyEncrypted = undefined;
        }
      }
      cas.push({ ca: { ...entry, keyEncrypted, dir: caDir, certs: [], revocations }, x509 });
    }
    const casBySubject = new Map<string, { ca: CaEntry; x509: ScannedCert }[]>();
    for (const c of cas) {
      const list = casBySubject.get(c.x509.subject) ?? [];
      list.push(c);
      casBySubject.set(c.x509.subject, list);
    }
    const caByPath = new Map(cas.map(c => [c.ca.certPath, c.ca]));
    // The CAs that may have issued each certificate (name and key identifiers), found once.
    const candidates = entries.map(({ entry, x509 }) => (casBySubject.get(x509.issuer) ?? []).filter(c => c.ca.certPath !== entry.certPath && mayHaveIssued(x509, c.x509)));
    // Every signature not checked yet (nor queued while the files were read) is checked now.
    const unchecked: SignaturePair[] = [];
    entries.forEach(({ x509 }, k) => {
      for (const c of candidates[k]) if (knownVerdict(x509, c.x509) === undefined && !helper.queued(x509, c.x509)) unchecked.push({ cert: x509, ca: c.x509 });
    });
    await helper.finish(unchecked);
    const revokedBy = new Map(cas.map(c => {
      const bySha = new Map<string, RevocationRecord>();
      for (const r of c.ca.revocations) if (!bySha.has(r.sha256)) bySha.set(r.sha256, r);
      return [c.ca, bySha];
    }));
    entries.forEach(({ entry, x509 }, k) => {
      // The first CA whose key verifies the signature, preferring the one whose folder holds the certificate
      // (a copied ca.pem elsewhere should not steal it).
      let issuer: { ca: CaEntry; x509: ScannedCert } | undefined;
      for (const c of candidates[k]) {
        if (knownVerdict(x509, c.x509) !== true) continue;
        if (entry.certPath.startsWith(c.ca.dir + path.sep)) { issuer = c; break; }
        issuer ??= c;
      }
      const target = entry.info.isCa ? caByPath.get(entry.certPath)! : entry;
      if (issuer) {
        target.issuerPath = issuer.ca.certPath;
        target.revoked = revokedBy.get(issuer.ca)!.get(entry.info.sha256);
        issuer.ca.certs.push(target);
      } else if (!entry.info.isCa) {
        tree.orphans.push(entry);
      }
    });
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0); // code-point order: stable and fast for thousands
    tree.cas = cas.map(c => c.ca).sort((a, b) => cmp(a.name, b.name) || cmp(a.certPath, b.certPath));
    for (const ca of tree.cas) ca.certs.sort((a, b) => Number(a.archived) - Number(b.archived) || cmp(a.name, b.name));
    return tree;
  } finally {
    helper.close();
  }
}

async function findIssuer(root: string, certPath: string): Promise<{ entry: StoreEntry; ca: CaEntry }> {
  const tree = await listStore(root);
  const abs = path.resolve(certPath);
  for (const ca of tree.cas) {
    const entry = ca.certs.find(c => c.certPath === abs);
    if (entry) return { entry, ca };
  }
  if (!(await exists(abs))) throw new MtlsError('not-found', `${abs} does not exist.`);
  const problem = tree.problems.find(p => p.path === abs);
  if (problem) throw new MtlsError('bad-pem', problem.message);
  if (!abs.startsWith(tree.root + path.sep)) throw new MtlsError('not-found', `${abs} is not in the store ${tree.root}.`);
  throw new MtlsError('not-found', `No CA in the store ${tree.root} signed ${abs}.`, 'Only certificates issued by a CA of the store can be renewed or revoked here.');
}

async function moveNoClobber(from: string, to: string): Promise<void> {
  await fs.promises.link(from, to); // fails with EEXIST instead of replacing
  await fs.promises.unlink(from);
}

/** Re-issues a certificate of the store (same CN, O, profile, SANs) with a new key and serial; the old pair moves to `archive/`. */
export async function renewCertificate(root: string, certPath: string, options: RenewOptions = {}): Promise<RenewResult> {
  const base = path.resolve(root);
  await checkStoreRoot(base);
  const { entry, ca } = await findIssuer(base, certPath);
  const info = entry.info;
  if (info.isCa) throw new MtlsError('unsupported', 'Renewing a CA is not supported; create a new CA and re-issue its certificates.');
  if (!ca.keyPath) throw new MtlsError('no-ca-key', `The CA "${ca.name}" has no private key in the store, so it cannot sign the renewal.`);
  const archiveDir = path.join(ca.dir, 'archive');
  await assertRealFoldersInside(base, path.dirname(entry.certPath));
  await assertRealFoldersInside(base, archiveDir);
  const caKeyPath = ca.keyPath;
  const { keyPem: caKeyPem } = await readPrivateKey(await readRegularFile(caKeyPath), caKeyPath, async () => options.caPassphrase?.({ name: ca.name, keyPath: caKeyPath }));
  let keyAlg = options.key;
  if (!keyAlg && entry.keyPath) keyAlg = keyAlgorithmOf(privateKeyObject(await readRegularFile(entry.keyPath), entry.keyPath));
  if (!keyAlg) keyAlg = keyAlgorithmOf(new crypto.X509Certificate(info.pem).publicKey) ?? 'rsa2048';
  const days = options.days ?? Math.max(1, Math.round((info.notAfter.getTime() - info.notBefore.getTime() - BACKDATE_MS) / DAY_MS));
  const profile: CertProfile = info.profile === 'server' || info.profile === 'origin-pull' ? info.profile : 'client';
  const renewed = await issueCertificate({ certPem: ca.info.pem, keyPem: caKeyPem }, {
    cn: info.subjectCn ?? entry.name,
    org: info.subjectOrg,
    profile,
    key: keyAlg,
    days,
    sans: info.sans.map(s => `${s.type === 'dns' ? 'DNS' : s.type === 'ip' ? 'IP' : s.type === 'email' ? 'email' : 'URI'}:${s.value}`),
    onProgress: options.onProgress,
  });
  options.onProgress?.('Archiving the previous certificate…');
  const stamp = info.serial.toLowerCase();
  const newKeyPath = keyPathFor(entry.certPath);
  const moves: [string, string][] = [[entry.certPath, path.join(archiveDir, `${entry.name}.${stamp}${path.extname(entry.certPath)}`)]];
  if (entry.keyPath) moves.push([entry.keyPath, path.join(archiveDir, `${entry.name}.${stamp}.key`)]);
  const concurrently = () => new MtlsError('renewed-concurrently', `${entry.certPath} was renewed concurrently (another renewal replaced it while this one ran); this renewal changed nothing.`, 'List the store again to see the current certificate.');
  await locked(lockDirFor(base, path.dirname(entry.certPath)), async () => {
    // The certificate must still be the one this renewal started from.
    let current: string | undefined;
    try {
      current = crypto.createHash('sha256').update(new crypto.X509Certificate(parseCertificate(await readRegularFile(entry.certPath), entry.certPath)).raw).digest('hex');
    } catch {
      current = undefined;
    }
    if (current !== info.sha256) throw concurrently();
    const done: [string, string][] = [];
    try {
      await ensureStoreDir(base, archiveDir);
      for (const [from, to] of moves) {
        await moveNoClobber(from, to);
        done.push([from, to]);
      }
      await installFiles(base, path.dirname(entry.certPath), [{ name: path.basename(newKeyPath), data: renewed.keyPem, mode: KEY_MODE }, { name: path.basename(entry.certPath), data: renewed.certPem, mode: PUBLIC_MODE }], 'renew');
    } catch (err) {
      for (const [from, to] of done.reverse()) await moveNoClobber(to, from).catch(() => undefined);
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw concurrently();
      throw fsError(err, path.dirname(entry.certPath));
    }
  });
  return {
    renewed: stored(entry.name, entry.certPath, newKeyPath, renewed.certPem, path.basename(ca.dir)),
    archived: moves.map(m => m[1]),
  };
}

/** `cf.tls_client_auth.cert_fingerprint_sha256 in {"…" "…"}` for the given plain-hex SHA-256 fingerprints. */
export function revocationExpression(sha256s: string[]): string {
  const list = [...new Set(sha256s.map(s => s.replace(/:/g, '').toLowerCase()))];
  if (list.length === 0) throw new MtlsError('bad-option', 'No fingerprints to block.');
  for (const s of list) if (!/^[0-9a-f]{64}$/.test(s)) throw new MtlsError('bad-option', `"${s}" is not a SHA-256 fingerprint (64 hex digits).`);
  return `cf.tls_client_auth.cert_fingerprint_sha256 in {${list.map(s => `"${s}"`).join(' ')}}`;
}

/** The Cloudflare expression for all revocations of a CA folder, undefined when it has none. */
export async function caRevocationExpression(caDir: string): Promise<string | undefined> {
  const list = await readRevocations(caDir);
  return list.length ? revocationExpression(list.map(r => r.sha256)) : undefined;
}

/** Records a revocation in the issuing CA's revoked.json (under the CA folder's lock, so none is lost) and returns the Cloudflare expression for all of that CA's revocations. */
export async function revokeCertificate(root: string, certPath: string, reason: string): Promise<RevokeResult> {
  const base = path.resolve(root);
  await checkStoreRoot(base);
  const { entry, ca } = await findIssuer(base, certPath);
  const why = (reason ?? '').trim() || 'unspecified';
  if (why.length > 200) throw new MtlsError('bad-option', 'The reason may be at most 200 characters.');
  checkPrintable(why, 'reason');
  const revokedPath = path.join(ca.dir, 'revoked.json');
  await assertRealFoldersInside(base, ca.dir);
  return locked(ca.dir, async () => {
    const list = await readRevocations(ca.dir);
    let record = list.find(r => r.sha256 === entry.info.sha256);
    const alreadyRevoked = !!record;
    if (!record) {
      record = {
        serial: entry.info.serial,
        sha256: entry.info.sha256,
        subject: entry.info.subject,
        reason: why,
        revokedAt: new Date().toISOString(),
        file: path.relative(ca.dir, entry.certPath).split(path.sep).join('/'),
      };
      list.push(record);
      const doc = {
        about: 'Certificates revoked by this CA (mTLS Workbench). Block them at Cloudflare with the expression below.',
        expression: revocationExpression(list.map(r => r.sha256)),
        revoked: list,
      };
      try {
        await writeFileAtomic(revokedPath, JSON.stringify(doc, null, 2) + '\n', { mode: PUBLIC_MODE, overwrite: true });
      } catch (err) {
        throw fsError(err, ca.dir);
      }
    }
    return { record, alreadyRevoked, expression: revocationExpression(list.map(r => r.sha256)), revokedPath };
  });
}

/** Removes a certificate and its key (the adapter confirms first); returns the removed paths. Never follows a symlinked folder. */
export async function deleteCertificate(root: string, certPath: string): Promise<string[]> {
  const dir = path.resolve(root);
  const abs = path.resolve(certPath);
  if (!abs.startsWith(dir + path.sep)) throw new MtlsError('bad-option', `${abs} is not in the store ${dir}; nothing was deleted.`);
  if (!CERT_EXTENSIONS.has(path.extname(abs).toLowerCase())) throw new MtlsError('bad-option', `${abs} is not a certificate file; nothing was deleted.`);
  await checkStoreRoot(dir);
  await assertRealFoldersInside(dir, path.dirname(abs));
  if (!(await exists(abs))) throw new MtlsError('not-found', `${abs} does not exist.`);
  const removed: string[] = [];
  await locked(lockDirFor(dir, path.dirname(abs)), async () => {
    for (const f of [abs, keyPathFor(abs)]) {
      try {
        await fs.promises.unlink(f);
        removed.push(f);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, path.dirname(f));
      }
    }
  });
  return removed;
}

/** Private keys and bundles under `root` that git tracks (absolute paths); [] outside git or without git. */
export function trackedKeys(root: string): Promise<string[]> {
  const dir = path.resolve(root);
  return new Promise(resolve => {
    execFile('git', ['ls-files', '-z', '--', '*.key', '*.p12', '*.pfx', '*.KEY', '*.P12', '*.PFX'], { cwd: dir, timeout: 10000, windowsHide: true }, (err, stdout) => {
      if (err) return resolve([]);
      resolve(stdout.split('\0').filter(Boolean).map(f => path.resolve(dir, f)));
    });
  });
}

// ---- certificates signed by a zone's Cloudflare-managed CA ----------------------------------
// Cloudflare keeps that CA's key; the store keeps what it signed for us, with the key made here and a
// small record of the API object (id, zone) next to each certificate: <store>/cloudflare-managed/<zone>/<name>.{pem,key,json}.

/** Folder of the Cloudflare-managed CA of `zone` in the store. */
export function managedCaDir(root: string, zone: string): string {
  const z = zone.trim().toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9][a-z0-9.-]{0,252}$/.test(z) || z.includes('..')) throw new MtlsError('bad-name', `"${zone}" is not a zone name.`);
  return path.join(path.resolve(root), 'cloudflare-managed', z);
}

export interface ManagedCertificateFiles {
  name: string;
  certPath: string;
  keyPath?: string;
  recordPath: string;
  /** The JSON record (id, zone, ...), as written. */
  record: Record<string, unknown>;
}

/** Writes a certificate signed by the Cloudflare-managed CA, its key (0600) and its record; never overwrites. */
export async function storeManagedCertificate(root: string, zone: string, name: string, certPem: string, keyPem: string, record: Record<string, unknown>): Promise<ManagedCertificateFiles> {
  checkName(name, 'certificate name');
  const dir = managedCaDir(root, zone);
  const certPath = path.join(dir, `${name}.pem`);
  const keyPath = path.join(dir, `${name}.key`);
  const recordPath = path.join(dir, `${name}.json`);
  await initStore(root);
  // Staged, locked and linked like every other write of the store (keys first, the certificate last).
  const lockDir = lockDirFor(path.resolve(root), dir);
  await ensureStoreDir(root, lockDir);
  await locked(lockDir, () => installFiles(root, dir, [
    { name: path.basename(keyPath), data: keyPem, mode: KEY_MODE },
    { name: path.basename(recordPath), data: JSON.stringify(record, null, 2) + '\n', mode: PUBLIC_MODE },
    { name: path.basename(certPath), data: certPem, mode: PUBLIC_MODE },
  ], 'managed'));
  return { name, certPath, keyPath, recordPath, record };
}

/** The certificates of a zone's Cloudflare-managed CA folder that have a record ([] when none). */
export async function listManagedCertificateFiles(root: string, zone: string): Promise<ManagedCertificateFiles[]> {
  const dir = managedCaDir(root, zone);
  let names: string[];
  try {
    names = (await fs.promises.readdir(dir, { withFileTypes: true })).filter(d => d.isFile() && d.name.endsWith('.json')).map(d => d.name);
  } catch {
    return [];
  }
  const out: ManagedCertificateFiles[] = [];
  for (const file of names.sort()) {
    const name = file.slice(0, -'.json'.length);
    const recordPath = path.join(dir, file);
    try {
      const stat = await fs.promises.stat(recordPath);
      if (stat.size > 64 * 1024) continue;
      const record = JSON.parse(await fs.promises.readFile(recordPath, 'utf8')) as Record<string, unknown>;
      const certPath = path.join(dir, `${name}.pem`);
      const keyPath = path.join(dir, `${name}.key`);
      if (!(await exists(certPath))) continue;
      out.push({ name, certPath, keyPath: (await exists(keyPath)) ? keyPath : undefined, recordPath, record });
    } catch {
      // A broken record is skipped: the certificate itself still shows in the store's tree.
    }
  }
  return out;
}

/** Updates the record of a managed-CA certificate (e.g. its last known status). */
export async function updateManagedCertificateRecord(recordPath: string, record: Record<string, unknown>): Promise<void> {
  try {
    await writeFileAtomic(recordPath, JSON.stringify(record, null, 2) + '\n', { mode: PUBLIC_MODE, overwrite: true });
  } catch (err) {
    throw fsError(err, path.dirname(recordPath));
  }
}
