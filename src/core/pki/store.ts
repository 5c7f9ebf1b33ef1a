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
import { DIR_MODE, KEY_MODE, PUBLIC_MODE, ensurePrivateDir, exists, readFileOrThrow, writeFileAtomic, writeFilesAtomic } from '../fsutil';
import type {
  CertificateInfo,
  CaEntry, CaPaths, CertAndKey, CertProfile, CreateCaOptions, ImportOptions, RenewOptions, RenewResult, RevocationRecord, RevokeResult,
  StoreEntry, StoreIssueOptions, StoreProblem, StoreSignCsrOptions, StoreTree, StoredCertificate,
} from './types';
import { assertKeyMatches, hasPrivateKeyBlock, keyAlgorithmOf, parseCertificate, parseCertificates, parsePrivateKey, privateKeyObject } from './pem';
import { createRootCa, issueCertificate, parseCsr, signCsr, BACKDATE_MS } from './certs';
import { inspectCertificate } from './inspect';

export const DEFAULT_STORE_DIR = '.mtls';
const CERT_EXTENSIONS = new Set(['.pem', '.crt', '.cer', '.der']);
const GITIGNORE = '# mTLS Workbench: private keys and PKCS#12 bundles stay out of git.\n*.key\n*.p12\n*.pfx\n';
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

/** Folder name that marks origin-pull certificates (same EKU as client certificates, different purpose). */
export const ORIGIN_PULL_DIR = 'origin-pull';

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

async function writeAll(files: { path: string; data: string; mode: number }[]): Promise<void> {
  for (const f of files) {
    if (await exists(f.path)) {
      throw new MtlsError('exists', `${f.path} already exists; nothing was written.`, 'Choose another name, or renew/delete the existing certificate.');
    }
  }
  try {
    await ensurePrivateDir(path.dirname(files[0].path));
    await writeFilesAtomic(files);
  } catch (err) {
    throw fsError(err, path.dirname(files[0].path));
  }
}

/** Creates the store folder (0700) and its .gitignore when missing. */
export async function initStore(root: string): Promise<void> {
  const dir = path.resolve(root);
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
  const info = inspectCertificate(certPem, certPath);
  if (info.profile === 'client' && path.dirname(certPath).split(path.sep).includes(ORIGIN_PULL_DIR)) info.profile = 'origin-pull';
  return info;
}

function stored(name: string, certPath: string, keyPath: string | undefined, certPem: string, caName?: string): StoredCertificate {
  return { name, certPath, keyPath, info: inspectStored(certPem, certPath), caName };
}

/** Creates a root CA in `<root>/<name>/`. */
export async function createCa(root: string, name: string, options: CreateCaOptions): Promise<StoredCertificate> {
  const p = caPaths(root, name);
  for (const f of [p.certPath, p.keyPath]) {
    if (await exists(f)) throw new MtlsError('exists', `A CA named "${name}" already exists (${f}); it was left as it was.`, 'Choose another name.');
  }
  const ca = await createRootCa(options); // validates options before anything touches the disk
  options.onProgress?.('Writing the CA files…');
  await initStore(root);
  await writeAll([{ path: p.keyPath, data: ca.keyPem, mode: KEY_MODE }, { path: p.certPath, data: ca.certPem, mode: PUBLIC_MODE }]);
  return stored(name, p.certPath, p.keyPath, ca.certPem, name);
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

/** Loads a CA's certificate and key from `<root>/<name>/`. */
export async function loadCa(root: string, name: string): Promise<CertAndKey & { certPath: string; keyPath: string; dir: string }> {
  const p = caPaths(root, name);
  if (!(await exists(p.certPath))) {
    const known = await caFolderNames(root);
    throw new MtlsError('not-found', `There is no CA named "${name}" in ${path.resolve(root)} (no ${p.certPath}).`, known.length ? `Known CAs: ${known.join(', ')}.` : 'Create one with `mtls ca create`.');
  }
  const certPem = parseCertificate(await readFileOrThrow(p.certPath), p.certPath);
  if (!(await exists(p.keyPath))) {
    throw new MtlsError('no-ca-key', `The CA "${name}" has no private key (${p.keyPath} is missing), so it cannot sign.`, 'Import the CA together with its key.');
  }
  const keyPem = parsePrivateKey(await readFileOrThrow(p.keyPath), p.keyPath);
  assertKeyMatches(certPem, keyPem, p.keyPath, p.certPath);
  return { certPem, keyPem, certPath: p.certPath, keyPath: p.keyPath, dir: p.dir };
}

/** Issues a certificate from CA `caName` into `<root>/<caName>/certs/<name>.pem` + `.key`. */
export async function issueToStore(root: string, caName: string, options: StoreIssueOptions): Promise<StoredCertificate> {
  const ca = await loadCa(root, caName);
  const name = checkName(options.name ?? nameFromCn(options.cn ?? ''), 'certificate name');
  const p = caPaths(root, caName);
  const dir = options.profile === 'origin-pull' ? p.originPullDir : p.certsDir;
  const certPath = path.join(dir, `${name}.pem`);
  const keyPath = path.join(dir, `${name}.key`);
  for (const f of [certPath, keyPath]) {
    if (await exists(f)) throw new MtlsError('exists', `A certificate named "${name}" already exists under the CA "${caName}" (${f}); it was left as it was.`, 'Choose another name with --name, or renew the existing one.');
  }
  const leaf = await issueCertificate(ca, options);
  options.onProgress?.('Writing the certificate files…');
  await initStore(root); // puts the .gitignore back if someone removed it
  await writeAll([{ path: keyPath, data: leaf.keyPem, mode: KEY_MODE }, { path: certPath, data: leaf.certPem, mode: PUBLIC_MODE }]);
  return stored(name, certPath, keyPath, leaf.certPem, caName);
}

/** Signs a CSR with CA `caName` into `<root>/<caName>/certs/<name>.pem` (the key stays with the requester). */
export async function signCsrToStore(root: string, caName: string, csr: string | Uint8Array, options: StoreSignCsrOptions = {}): Promise<StoredCertificate> {
  const ca = await loadCa(root, caName);
  const info = parseCsr(csr, 'the CSR');
  const name = checkName(options.name ?? nameFromCn(info.subjectCn ?? info.sans[0]?.value ?? 'cert'), 'certificate name');
  const certPath = path.join(caPaths(root, caName).certsDir, `${name}.pem`);
  if (await exists(certPath)) throw new MtlsError('exists', `A certificate named "${name}" already exists under the CA "${caName}" (${certPath}); it was left as it was.`, 'Choose another name.');
  const certPem = await signCsr(ca, csr, options);
  await initStore(root);
  await writeAll([{ path: certPath, data: certPem, mode: PUBLIC_MODE }]);
  return stored(name, certPath, undefined, certPem, caName);
}

/** Imports a CA (into its own folder) or a certificate (under the CA that signed it); checks the key matches. */
export async function importToStore(root: string, options: ImportOptions): Promise<StoredCertificate> {
  const certSource = options.certSource ?? 'the certificate';
  const certPem = parseCertificates(options.cert, certSource)[0];
  let keyPem: string | undefined;
  if (options.key !== undefined) keyPem = parsePrivateKey(options.key, options.keySource ?? 'the key');
  else if (hasPrivateKeyBlock(options.cert)) keyPem = parsePrivateKey(options.cert, certSource);
  if (keyPem) assertKeyMatches(certPem, keyPem, options.keySource, options.certSource);
  const info = inspectCertificate(certPem, certSource);
  const name = checkName(options.name ?? nameFromCn(info.subjectCn ?? 'imported'), info.isCa ? 'CA name' : 'certificate name');

  let certPath: string;
  let caName: string | undefined;
  if (info.isCa) {
    const p = caPaths(root, name);
    certPath = p.certPath;
    caName = name;
  } else {
    let dir: string;
    if (options.caName) {
      const p = caPaths(root, options.caName);
      if (!(await exists(p.certPath))) throw new MtlsError('not-found', `There is no CA named "${options.caName}" in ${path.resolve(root)}.`);
      const caCert = new crypto.X509Certificate(parseCertificate(await readFileOrThrow(p.certPath), p.certPath));
      if (!new crypto.X509Certificate(certPem).verify(caCert.publicKey)) {
        throw new MtlsError('bad-option', `${certSource} was not signed by the CA "${options.caName}".`, 'Import it without choosing a CA, or under the CA that issued it.');
      }
      dir = p.certsDir;
      caName = options.caName;
    } else {
      const tree = await listStore(root);
      const x = new crypto.X509Certificate(certPem);
      const issuer = tree.cas.find(ca => ca.info.subject === info.issuer && x.verify(new crypto.X509Certificate(ca.info.pem).publicKey));
      if (issuer && path.basename(issuer.certPath) === 'ca.pem') {
        dir = path.join(path.dirname(issuer.certPath), 'certs');
        caName = path.basename(path.dirname(issuer.certPath));
      } else if (issuer) {
        dir = path.dirname(issuer.certPath);
      } else {
        dir = path.join(path.resolve(root), 'imported');
      }
    }
    certPath = path.join(dir, `${name}.pem`);
  }
  const keyPath = keyPathFor(certPath);
  for (const f of keyPem ? [certPath, keyPath] : [certPath]) {
    if (await exists(f)) throw new MtlsError('exists', `${f} already exists; nothing was imported.`, 'Choose another name.');
  }
  await initStore(root);
  const files = [{ path: certPath, data: certPem, mode: PUBLIC_MODE }];
  if (keyPem) files.unshift({ path: keyPath, data: keyPem, mode: KEY_MODE });
  await writeAll(files);
  return stored(name, certPath, keyPem ? keyPath : undefined, certPem, caName);
}

// ---- scanning -------------------------------------------------------------------------------

async function walk(dir: string, out: string[], problems: StoreProblem[], depth = 0): Promise<void> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (err) {
    problems.push({ path: dir, message: `Cannot read the folder: ${(err as NodeJS.ErrnoException).code ?? err}.` });
    return;
  }
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (depth < 8) await walk(full, out, problems, depth + 1);
    } else if (e.isFile() && CERT_EXTENSIONS.has(path.extname(e.name).toLowerCase())) {
      out.push(full);
    }
  }
}

/** The revocations recorded in a CA folder ([] when none). */
export async function readRevocations(caDir: string): Promise<RevocationRecord[]> {
  const file = path.join(caDir, 'revoked.json');
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch {
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

/** Scans every certificate file under `root` and builds the CA tree by signature; unreadable files become problems. */
export async function listStore(root: string): Promise<StoreTree> {
  const dir = path.resolve(root);
  const tree: StoreTree = { root: dir, exists: false, cas: [], orphans: [], problems: [] };
  try {
    if (!(await fs.promises.stat(dir)).isDirectory()) {
      tree.problems.push({ path: dir, message: 'The store path is not a folder.' });
      return tree;
    }
  } catch {
    return tree;
  }
  tree.exists = true;
  const files: string[] = [];
  await walk(dir, files, tree.problems);
  files.sort();
  const entries: { entry: StoreEntry; x509: crypto.X509Certificate }[] = [];
  for (const file of files) {
    try {
      const data = await fs.promises.readFile(file);
      if (hasPrivateKeyBlock(data) && !/-----BEGIN (X509 |TRUSTED )?CERTIFICATE-----/.test(data.toString('latin1'))) continue; // a key saved as .pem
      if (/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(data.toString('latin1')) && !/-----BEGIN CERTIFICATE-----/.test(data.toString('latin1'))) continue; // a CSR
      const pem = parseCertificates(data, path.relative(dir, file))[0];
      const info = inspectStored(pem, file);
      const base = path.basename(file).replace(/\.[^.]+$/, '');
      const keyPath = keyPathFor(file);
      const rel = path.relative(dir, file).split(path.sep);
      entries.push({
        entry: {
          name: base === 'ca' && rel.length > 1 ? path.basename(path.dirname(file)) : base,
          certPath: file,
          keyPath: (await exists(keyPath)) ? keyPath : undefined,
          info,
          archived: rel.slice(0, -1).includes('archive'),
        },
        x509: new crypto.X509Certificate(pem),
      });
    } catch (err) {
      tree.problems.push({ path: file, message: err instanceof MtlsError ? err.message : `Cannot read: ${(err as Error).message}` });
    }
  }
  const cas: { ca: CaEntry; x509: crypto.X509Certificate }[] = [];
  for (const { entry, x509 } of entries) {
    if (!entry.info.isCa) continue;
    const caDir = path.dirname(entry.certPath);
    let revocations: RevocationRecord[] = [];
    try {
      revocations = await readRevocations(caDir);
    } catch (err) {
      tree.problems.push({ path: path.join(caDir, 'revoked.json'), message: (err as Error).message });
    }
    cas.push({ ca: { ...entry, dir: caDir, certs: [], revocations }, x509 });
  }
  for (const { entry, x509 } of entries) {
    const candidates = cas.filter(c => c.x509.subject === x509.issuer && c.ca.certPath !== entry.certPath && c.ca.info.sha256 !== entry.info.sha256 && (() => {
      try { return x509.verify(c.x509.publicKey); } catch { return false; }
    })());
    // Prefer the CA whose folder holds the certificate (a copied ca.pem elsewhere should not steal it).
    candidates.sort((a, b) => Number(!entry.certPath.startsWith(b.ca.dir + path.sep)) - Number(!entry.certPath.startsWith(a.ca.dir + path.sep)));
    const issuer = candidates[0];
    const target = entry.info.isCa ? cas.find(c => c.ca.certPath === entry.certPath)!.ca : entry;
    if (issuer) {
      target.issuerPath = issuer.ca.certPath;
      target.revoked = issuer.ca.revocations.find(r => r.sha256 === entry.info.sha256);
      issuer.ca.certs.push(target);
    } else if (!entry.info.isCa) {
      tree.orphans.push(entry);
    }
  }
  tree.cas = cas.map(c => c.ca).sort((a, b) => a.name.localeCompare(b.name) || a.certPath.localeCompare(b.certPath));
  for (const ca of tree.cas) ca.certs.sort((a, b) => Number(a.archived) - Number(b.archived) || a.name.localeCompare(b.name));
  return tree;
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
  const { entry, ca } = await findIssuer(root, certPath);
  const info = entry.info;
  if (info.isCa) throw new MtlsError('unsupported', 'Renewing a CA is not supported; create a new CA and re-issue its certificates.');
  if (!ca.keyPath) throw new MtlsError('no-ca-key', `The CA "${ca.name}" has no private key in the store, so it cannot sign the renewal.`);
  const caKeyPem = parsePrivateKey(await readFileOrThrow(ca.keyPath), ca.keyPath);
  let keyAlg = options.key;
  if (!keyAlg && entry.keyPath) keyAlg = keyAlgorithmOf(privateKeyObject(await readFileOrThrow(entry.keyPath), entry.keyPath));
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
  const archiveDir = path.join(ca.dir, 'archive');
  const stamp = info.serial.toLowerCase();
  const newKeyPath = keyPathFor(entry.certPath);
  const moves: [string, string][] = [[entry.certPath, path.join(archiveDir, `${entry.name}.${stamp}${path.extname(entry.certPath)}`)]];
  if (entry.keyPath) moves.push([entry.keyPath, path.join(archiveDir, `${entry.name}.${stamp}.key`)]);
  const done: [string, string][] = [];
  try {
    await fs.promises.mkdir(archiveDir, { recursive: true, mode: DIR_MODE });
    for (const [from, to] of moves) {
      await moveNoClobber(from, to);
      done.push([from, to]);
    }
    await writeFilesAtomic([{ path: newKeyPath, data: renewed.keyPem, mode: KEY_MODE }, { path: entry.certPath, data: renewed.certPem, mode: PUBLIC_MODE }]);
  } catch (err) {
    for (const [from, to] of done.reverse()) await moveNoClobber(to, from).catch(() => undefined);
    throw fsError(err, path.dirname(entry.certPath));
  }
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

/** Records a revocation in the issuing CA's revoked.json and returns the Cloudflare expression for all of that CA's revocations. */
export async function revokeCertificate(root: string, certPath: string, reason: string): Promise<RevokeResult> {
  const { entry, ca } = await findIssuer(root, certPath);
  const why = (reason ?? '').trim() || 'unspecified';
  if (why.length > 200) throw new MtlsError('bad-option', 'The reason may be at most 200 characters.');
  const revokedPath = path.join(ca.dir, 'revoked.json');
  const list = await readRevocations(ca.dir);
  let record = list.find(r => r.sha256 === entry.info.sha256);
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
  return { record, expression: revocationExpression(list.map(r => r.sha256)), revokedPath };
}

/** Removes a certificate and its key (the adapter confirms first); returns the removed paths. */
export async function deleteCertificate(root: string, certPath: string): Promise<string[]> {
  const dir = path.resolve(root);
  const abs = path.resolve(certPath);
  if (!abs.startsWith(dir + path.sep)) throw new MtlsError('bad-option', `${abs} is not in the store ${dir}; nothing was deleted.`);
  if (!CERT_EXTENSIONS.has(path.extname(abs).toLowerCase())) throw new MtlsError('bad-option', `${abs} is not a certificate file; nothing was deleted.`);
  if (!(await exists(abs))) throw new MtlsError('not-found', `${abs} does not exist.`);
  const removed: string[] = [];
  for (const f of [abs, keyPathFor(abs)]) {
    try {
      await fs.promises.unlink(f);
      removed.push(f);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, path.dirname(f));
    }
  }
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
  await writeAll([
    { path: keyPath, data: keyPem, mode: KEY_MODE },
    { path: certPath, data: certPem, mode: PUBLIC_MODE },
    { path: recordPath, data: JSON.stringify(record, null, 2) + '\n', mode: PUBLIC_MODE },
  ]);
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
