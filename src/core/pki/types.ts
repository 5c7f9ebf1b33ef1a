// Types of the workspace PKI. Free of `vscode`; shared by the CLI, the explorer, the probes and the guide.

/** Key algorithms a CA or a certificate can have. */
export type KeyAlgorithm = 'rsa2048' | 'rsa3072' | 'rsa4096' | 'ec-p256' | 'ec-p384';
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['rsa4096', 'rsa3072', 'rsa2048', 'ec-p256', 'ec-p384'];

/**
 * What a leaf certificate is for:
 * - `client`: a person's or a device's certificate for Leg 1 (EKU clientAuth).
 * - `origin-pull`: the certificate Cloudflare presents to the origin in own-certificate AOP (Leg 2; leaf, EKU clientAuth).
 * - `server`: a TLS server certificate (EKU serverAuth, SANs DNS/IP), for local edges and tests.
 */
export type CertProfile = 'client' | 'origin-pull' | 'server';
export const CERT_PROFILES: readonly CertProfile[] = ['client', 'origin-pull', 'server'];

/** `modern`: AES-256-CBC (PBES2) + SHA-256 MAC, opens on OpenSSL 3 and Node. `legacy`: 3DES + SHA-1 MAC, for the macOS keychain and older Windows. */
export type P12Flavor = 'modern' | 'legacy';

/** Called with a short human-readable step ("Generating an RSA 4096 key…") during long operations. */
export type ProgressCallback = (message: string) => void;

export interface CertAndKey {
  certPem: string;
  /** PKCS#8 PEM ("BEGIN PRIVATE KEY"). */
  keyPem: string;
}

export interface KeyPairPem {
  algorithm: KeyAlgorithm;
  /** PKCS#8 PEM. */
  keyPem: string;
  /** SPKI PEM. */
  publicKeyPem: string;
}

/**
 * Asked for the passphrase of a CA key, only when that key is encrypted (the CLI: MTLS_CA_PASSWORD or the
 * terminal; VS Code: an input box, or the secret storage). Undefined or '' means none was given.
 */
export type PassphraseProvider = (ca: { name: string; keyPath: string }) => Promise<string | undefined>;

export interface CreateCaOptions {
  cn: string;
  /** Encrypts the CA key at rest (PKCS#8, scrypt + AES-256-CBC) when non-empty; plaintext otherwise. */
  passphrase?: string;
  org?: string;
  /** Default rsa4096. */
  key?: KeyAlgorithm;
  /** Default 3650. */
  days?: number;
  onProgress?: ProgressCallback;
}

export interface IssueOptions {
  cn: string;
  org?: string;
  /** Default client. */
  profile?: CertProfile;
  /** Default rsa2048. */
  key?: KeyAlgorithm;
  /** Default 365. */
  days?: number;
  /** DNS names, IP addresses, e-mail addresses or URIs; the type is detected, or given as `DNS:`, `IP:`, `email:`, `URI:`. */
  sans?: string[];
  onProgress?: ProgressCallback;
}

export interface SignCsrOptions {
  /** Default client. */
  profile?: CertProfile;
  /** Default 365. */
  days?: number;
  /** Replaces the SANs the CSR asks for (by default the CSR's SANs are kept). */
  sans?: string[];
  onProgress?: ProgressCallback;
}

export type SanType = 'dns' | 'ip' | 'email' | 'uri';
export interface SubjectAltName {
  type: SanType;
  value: string;
}

export interface BasicConstraintsInfo {
  ca: boolean;
  pathLength?: number;
  critical: boolean;
}

export interface CertificateInfo {
  /** RFC 4514-like, e.g. "CN=Alice, O=Example". */
  subject: string;
  subjectCn?: string;
  subjectOrg?: string;
  issuer: string;
  issuerCn?: string;
  /** Uppercase hex without separators, as openssl prints it in `-serial`. */
  serial: string;
  sans: SubjectAltName[];
  /** 'RSA' | 'EC' (or another Node key type name). */
  keyType: string;
  /** Modulus size for RSA, curve size for EC. */
  keyBits?: number;
  /** 'P-256' | 'P-384' | … for EC keys. */
  curve?: string;
  /** e.g. 'sha256WithRSAEncryption', 'ecdsa-with-SHA384'. */
  signatureAlgorithm: string;
  /** Names from RFC 5280: digitalSignature, keyEncipherment, keyCertSign, cRLSign, … */
  keyUsage: string[];
  keyUsageCritical: boolean;
  /** clientAuth, serverAuth, … (dotted OID for unknown ones). */
  extKeyUsage: string[];
  basicConstraints?: BasicConstraintsInfo;
  isCa: boolean;
  selfSigned: boolean;
  notBefore: Date;
  notAfter: Date;
  /** Whole days until notAfter, negative once expired. */
  daysLeft: number;
  expired: boolean;
  notYetValid: boolean;
  /** "AB:CD:…" uppercase, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprintSha256: string;
  fingerprintSha1: string;
  /** Plain lowercase hex SHA-256 of the DER, as Cloudflare's `cf.tls_client_auth.cert_fingerprint_sha256` expects. */
  sha256: string;
  /** Subject / authority key identifiers, "AB:CD:…" uppercase. */
  ski?: string;
  aki?: string;
  /** The profile this certificate looks like (from its EKU and basic constraints), if any. */
  profile?: CertProfile | 'ca';
  pem: string;
}

export interface VerifyResult {
  /** Signature valid, issuer name matches and within validity at the given time. */
  ok: boolean;
  signatureValid: boolean;
  issuerMatches: boolean;
  timeValid: boolean;
  /** Human-readable reasons when not ok. */
  problems: string[];
}

export interface CsrInfo {
  subject: string;
  subjectCn?: string;
  sans: SubjectAltName[];
  keyType: string;
  keyBits?: number;
  curve?: string;
  signatureValid: boolean;
  pem: string;
}

export interface Pkcs12Options {
  certPem: string;
  keyPem: string;
  /** CA certificates to include (the issuing CA first). */
  chainPems?: string[];
  password: string;
  /** Default modern. */
  flavor?: P12Flavor;
  /** Default: the certificate's CN. */
  friendlyName?: string;
}

export interface Pkcs12Contents {
  certPem: string;
  keyPem: string;
  chainPems: string[];
  friendlyName?: string;
}

// ---------------------------------------------------------------------------------------------
// The store

export interface RevocationRecord {
  serial: string;
  /** Plain lowercase hex, for Cloudflare. */
  sha256: string;
  subject: string;
  reason: string;
  /** ISO 8601. */
  revokedAt: string;
  /** Path of the certificate relative to the CA folder, when it was revoked. */
  file?: string;
}

export interface StoreEntry {
  /** File basename without extension; for a CA's `ca.pem`, the CA folder's name. */
  name: string;
  /** Absolute path of the PEM. */
  certPath: string;
  /** Absolute path of the matching private key when the file exists (`x.pem` -> `x.key`). */
  keyPath?: string;
  info: CertificateInfo;
  /** certPath of the CA whose public key verified this certificate's signature (not its folder). */
  issuerPath?: string;
  /** Set when the issuing CA's revoked.json lists this certificate. */
  revoked?: RevocationRecord;
  /** True for renewed-away copies under an `archive/` folder. */
  archived: boolean;
  /** Whether the private key file is encrypted (set for CAs, whose key the store reads to sign). */
  keyEncrypted?: boolean;
}

export interface CaEntry extends StoreEntry {
  /** The folder that holds this CA (`<store>/<name>` for CAs created by the workbench). */
  dir: string;
  /** Certificates whose signature this CA's key verifies (other than itself), subordinate CAs included. */
  certs: StoreEntry[];
  revocations: RevocationRecord[];
}

export interface StoreProblem {
  path: string;
  message: string;
}

export interface StoreTree {
  root: string;
  /** False when the store folder does not exist yet (then everything else is empty). */
  exists: boolean;
  /** Every CA certificate (basicConstraints CA:TRUE) in the store. */
  cas: CaEntry[];
  /** Leaf certificates no CA in the store has signed. */
  orphans: StoreEntry[];
  /** Files that could not be read or parsed; never thrown. */
  problems: StoreProblem[];
  /** Remains of interrupted writes (temporary files and staging folders); `cleanupStore` removes them. */
  leftovers: StoreLeftover[];
}

export interface StoreLeftover {
  /** Absolute path of the temporary file or staging folder. */
  path: string;
  /** A file of the store that belongs to the interrupted write (a key linked before its certificate), removed with it. */
  partial?: string;
  message: string;
}

export interface CaPaths {
  dir: string;
  certPath: string;
  keyPath: string;
  certsDir: string;
  /** Where origin-pull certificates go: their EKU is the same as a client certificate's, so the folder tells them apart. */
  originPullDir: string;
  revokedPath: string;
  archiveDir: string;
}

export interface StoredCertificate {
  name: string;
  certPath: string;
  keyPath?: string;
  info: CertificateInfo;
  /** The CA folder name it was written under, when it was. */
  caName?: string;
  /** Whether the written key is encrypted (CAs created with a passphrase). */
  keyEncrypted?: boolean;
}

export interface StoreIssueOptions extends IssueOptions {
  /** File basename (default: derived from the CN). */
  name?: string;
  caPassphrase?: PassphraseProvider;
}

export interface StoreSignCsrOptions extends SignCsrOptions {
  name?: string;
  caPassphrase?: PassphraseProvider;
}

export interface ImportOptions {
  /** PEM or DER. A PEM may also hold the key. */
  cert: string | Uint8Array;
  /** PEM or DER (PKCS#8, PKCS#1 or SEC1). */
  key?: string | Uint8Array;
  /** Name in the store (CA folder name or file basename); default derived from the CN. */
  name?: string;
  /** For a leaf: the CA folder to put it under; default the CA in the store whose key signed it, else `imported/`. */
  caName?: string;
  /** File names for error messages. */
  certSource?: string;
  keySource?: string;
}

export interface RenewOptions {
  /** Default: the old certificate's validity length. */
  days?: number;
  /** Default: the old key's algorithm. */
  key?: KeyAlgorithm;
  onProgress?: ProgressCallback;
  caPassphrase?: PassphraseProvider;
}

export interface RenewResult {
  renewed: StoredCertificate;
  /** Where the previous certificate and key were moved to. */
  archived: string[];
}

export interface RevokeResult {
  record: RevocationRecord;
  /** The certificate was revoked before: `record` is the first record, kept as it was. */
  alreadyRevoked: boolean;
  /** The Cloudflare expression that blocks every certificate this CA has revoked. */
  expression: string;
  revokedPath: string;
}
