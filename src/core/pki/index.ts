// Public API of the workspace PKI (issue 2). Everything else under src/core/pki is internal.
//
// Errors: everything throws MtlsError (src/core/errors) for bad input, with these codes:
//   bad-pem        malformed PEM/DER (the message names the file)      bad-key     unreadable private key
//   key-mismatch   "key does not match" the certificate                bad-csr     unreadable CSR / bad CSR signature
//   p12-password   wrong PKCS#12 password                              p12-format  not a PKCS#12 file
//   exists         a name/file already exists (nothing written)        not-found   no such CA / certificate
//   bad-name       a name unusable as a file name                      bad-option  invalid option value
//   unsupported    a combination we cannot produce                     no-ca-key   the CA has no private key
//   fs-unwritable / fs-unreadable (from src/core/fsutil)
import { MtlsError } from '../errors';
import type {
  CaPaths, CertAndKey, CertificateInfo, CreateCaOptions, CsrInfo, ImportOptions, IssueOptions, KeyAlgorithm, KeyPairPem,
  Pkcs12Contents, Pkcs12Options, RenewOptions, RenewResult, RevocationRecord, RevokeResult, SignCsrOptions, StoreIssueOptions,
  StoreSignCsrOptions, StoreTree, StoredCertificate, SubjectAltName, VerifyResult,
} from './types';

export * from './types';

const todo = (): never => { throw new MtlsError('not-implemented', 'Not implemented yet.'); };

// ---- keys, PEM/DER ---------------------------------------------------------------------------

/** Generates a key pair with Node's native async crypto (never blocks the event loop). */
export async function generateKey(algorithm: KeyAlgorithm): Promise<KeyPairPem> { return todo(); }
/** Reads every certificate from PEM (one or more blocks) or DER; returns normalized PEMs. Throws bad-pem naming `source`. */
export function parseCertificates(data: string | Uint8Array, source?: string): string[] { return todo(); }
/** The first certificate of PEM or DER data. */
export function parseCertificate(data: string | Uint8Array, source?: string): string { return todo(); }
/** Reads a private key (PKCS#8, PKCS#1, SEC1; PEM or DER); returns PKCS#8 PEM. Throws bad-key. */
export function parsePrivateKey(data: string | Uint8Array, source?: string): string { return todo(); }
/** True when the private key belongs to the certificate. */
export function keyMatchesCertificate(certPem: string, keyPem: string): boolean { return todo(); }
/** Throws key-mismatch ("The key … does not match the certificate …") unless the key belongs to the certificate. */
export function assertKeyMatches(certPem: string, keyPem: string, keySource?: string, certSource?: string): void { return todo(); }
/** Detects the type of a SAN value ("DNS:x", "IP:1.2.3.4", "email:a@b", "URI:spiffe://…" or bare). */
export function parseSan(value: string): SubjectAltName { return todo(); }

// ---- certificates -----------------------------------------------------------------------------

/** A self-signed root CA: CA:TRUE critical, keyCertSign+cRLSign critical, SKI; SHA-256 (SHA-384 for P-384). */
export async function createRootCa(options: CreateCaOptions): Promise<CertAndKey> { return todo(); }
/** A leaf certificate for `profile` signed by `ca`, with a fresh key. RSA and EC CAs can sign RSA and EC leaves. */
export async function issueCertificate(ca: CertAndKey, options: IssueOptions): Promise<CertAndKey> { return todo(); }
/** Reads a PKCS#10 CSR and checks its signature. */
export function parseCsr(data: string | Uint8Array, source?: string): CsrInfo { return todo(); }
/** Signs an external CSR (its signature is checked first; bad-csr otherwise); returns the certificate PEM. */
export async function signCsr(ca: CertAndKey, csr: string | Uint8Array, options?: SignCsrOptions): Promise<string> { return todo(); }
/** Everything a person wants to know about a certificate (RSA or EC). */
export function inspectCertificate(pem: string | Uint8Array, source?: string): CertificateInfo { return todo(); }
/** Checks `cert` against `ca`: signature, issuer name, validity at `at` (default now). */
export function verifyCertificate(certPem: string, caPem: string, at?: Date): VerifyResult { return todo(); }

// ---- PKCS#12 ----------------------------------------------------------------------------------

/** A .p12 with key, certificate and chain. modern: AES-256-CBC/PBKDF2-SHA256 + SHA-256 MAC; legacy: 3DES + SHA-1 MAC. */
export async function exportPkcs12(options: Pkcs12Options): Promise<Buffer> { return todo(); }
/** Opens a .p12 (any flavour). Wrong password -> p12-password; not a p12 -> p12-format. */
export function readPkcs12(data: Uint8Array, password: string): Pkcs12Contents { return todo(); }

// ---- revocation at Cloudflare -----------------------------------------------------------------

/** `cf.tls_client_auth.cert_fingerprint_sha256 in {"…" "…"}` for the given plain-hex SHA-256 fingerprints. */
export function revocationExpression(sha256s: string[]): string { return todo(); }

// ---- the store (files are the truth) ----------------------------------------------------------

export const DEFAULT_STORE_DIR = '.mtls';
/** The store folder for a workspace folder and the `mtls.storePath` setting (relative to the workspace, or absolute). */
export function resolveStorePath(workspaceDir: string, storePath?: string): string { return todo(); }
/** Where a CA named `name` lives: `<root>/<name>/ca.pem`, `ca.key`, `certs/`, `revoked.json`, `archive/`. */
export function caPaths(root: string, name: string): CaPaths { return todo(); }
/** Creates the store folder (0700) and its .gitignore (`*.key`, `*.p12`, `*.pfx`) when missing. */
export async function initStore(root: string): Promise<void> { return todo(); }
/** Creates a root CA in `<root>/<name>/`. exists if the folder already holds a ca.pem/ca.key. */
export async function createCa(root: string, name: string, options: CreateCaOptions): Promise<StoredCertificate> { return todo(); }
/** Loads a CA's certificate and key from `<root>/<name>/`. not-found / no-ca-key. */
export async function loadCa(root: string, name: string): Promise<CertAndKey & { certPath: string; keyPath: string; dir: string }> { return todo(); }
/** Issues a certificate from CA `caName` into `<root>/<caName>/certs/<name>.pem` + `.key`. */
export async function issueToStore(root: string, caName: string, options: StoreIssueOptions): Promise<StoredCertificate> { return todo(); }
/** Signs a CSR with CA `caName` into `<root>/<caName>/certs/<name>.pem` (no key: it stays with the requester). */
export async function signCsrToStore(root: string, caName: string, csr: string | Uint8Array, options?: StoreSignCsrOptions): Promise<StoredCertificate> { return todo(); }
/** Imports a CA (into its own folder) or a certificate (under the CA that signed it); checks the key matches. */
export async function importToStore(root: string, options: ImportOptions): Promise<StoredCertificate> { return todo(); }
/** Scans every PEM under `root` and builds the CA tree by signature; unreadable files become problems. */
export async function listStore(root: string): Promise<StoreTree> { return todo(); }
/** Re-issues a certificate of the store (same subject, profile, SANs) with a new key and serial; the old pair moves to `archive/`. */
export async function renewCertificate(root: string, certPath: string, options?: RenewOptions): Promise<RenewResult> { return todo(); }
/** Records a revocation in the issuing CA's revoked.json and returns the Cloudflare expression for all of that CA's revocations. */
export async function revokeCertificate(root: string, certPath: string, reason: string): Promise<RevokeResult> { return todo(); }
/** The revocations recorded in a CA folder ([] when none). */
export async function readRevocations(caDir: string): Promise<RevocationRecord[]> { return todo(); }
/** The Cloudflare expression for all revocations of a CA folder, undefined when it has none. */
export async function caRevocationExpression(caDir: string): Promise<string | undefined> { return todo(); }
/** Removes a certificate and its key (the adapter confirms first); returns the removed paths. */
export async function deleteCertificate(root: string, certPath: string): Promise<string[]> { return todo(); }
/** Private keys under `root` that git tracks (relative to the repository); [] outside git or without git. */
export async function trackedKeys(root: string): Promise<string[]> { return todo(); }
