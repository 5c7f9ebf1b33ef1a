// Public API of the workspace PKI. Everything else under src/core/pki is internal.
//
// Errors: everything throws MtlsError (src/core/errors) for bad input, with these codes:
//   bad-pem        malformed PEM/DER (the message names the file)      bad-key     unreadable private key
//   key-mismatch   "key does not match" the certificate                bad-csr     unreadable CSR / bad CSR signature
//   p12-password   wrong PKCS#12 password                              p12-format  not a PKCS#12 file
//   exists         a name/file already exists (nothing written)        not-found   no such CA / certificate
//   bad-name       a name unusable as a file name                      bad-option  invalid option value
//   unsupported    a combination we cannot produce                     no-ca-key   the CA has no private key
//   fs-unwritable / fs-unreadable / not-regular / too-large (from src/core/fsutil)
//   bad-passphrase wrong CA key passphrase (nothing written)        no-passphrase  encrypted CA key, no passphrase given
//   unsupported-key  a CSR key other than RSA >= 2048, P-256, P-384 renewed-concurrently  another renewal won
//   symlink-folder / outside-store  a store folder is a link or leads outside (nothing written or deleted)
//   not-a-folder   the store path is a file                           locked      a store lock stayed held too long
export * from './types';

// keys, PEM/DER
export {
  generateKey, // (algorithm: KeyAlgorithm) => Promise<KeyPairPem>; Node's native async keygen, never blocks the event loop
  parseCertificates, // (data: string | Uint8Array, source?: string) => string[]; every certificate of PEM or DER, normalized PEM; bad-pem names `source`
  parseCertificate, // (data, source?) => string; the first one
  parsePrivateKey, // (data, source?) => string; PKCS#8/PKCS#1/SEC1, PEM or DER -> PKCS#8 PEM; bad-key
  keyMatchesCertificate, // (certPem, keyPem) => boolean
  assertKeyMatches, // (certPem, keyPem, keySource?, certSource?) => void; key-mismatch "The key … does not match the certificate …"
  parseSan, // (value: string) => SubjectAltName; "DNS:x", "IP:1.2.3.4", "email:a@b", "URI:…" or bare (detected)
  hasPrivateKeyBlock, // (data) => boolean
  splitPem, // (text) => { blocks: { label, body, der }[]; unmatched }; the one PEM splitter, linear in its input
  pemBlocks, // (text) => PemBlock[]
  certificateDers, // (text) => Buffer[]; DER of every certificate block, in order
  toPem, // (label, der) => string
} from './pem';
export type { PemBlock, PemSplit } from './pem';

// keys encrypted at rest (PKCS#8, PBES2 scrypt + AES-256-CBC; openssl pkey -passin reads them)
export {
  encryptPrivateKey, // (keyPem, passphrase) => Promise<string>; "ENCRYPTED PRIVATE KEY" PEM
  decryptPrivateKey, // (data, passphrase, source?) => Promise<string>; bad-passphrase on a wrong one
  isEncryptedKey, // (data) => boolean
} from './keyfile';

// certificates
export {
  createRootCa, // (options: CreateCaOptions) => Promise<CertAndKey>; CA:TRUE critical, keyCertSign+cRLSign critical, SKI/AKI; SHA-256 (SHA-384 for P-384)
  issueCertificate, // (ca: CertAndKey, options: IssueOptions) => Promise<CertAndKey>; RSA/EC CAs sign RSA/EC leaves
  parseCsr, // (data, source?) => CsrInfo; checks the CSR's signature (signatureValid)
  signCsr, // (ca: CertAndKey, csr: string | Uint8Array, options?: SignCsrOptions) => Promise<string>; bad-csr when its signature fails, unsupported-key
  checkCsrKey, // (publicKey: KeyObject) => void; RSA >= 2048, P-256, P-384 only ("unsupported key type")
  checkPrintable, // (value, what) => void; refuses C0/C1 controls and bidi overrides
  checkSanValue, // (san: SubjectAltName) => void; IA5 types ASCII only
  randomSerial, // () => string; positive 128-bit hex
} from './certs';
export {
  inspectCertificate, // (pem: string | Uint8Array, source?: string, now?: Date) => CertificateInfo
  verifyCertificate, // (certPem, caPem, at?: Date) => VerifyResult; signature + issuer name + validity
  sha256Hex, // (certPem) => string; plain lowercase hex, Cloudflare's cert_fingerprint_sha256
} from './inspect';

// PKCS#12
export {
  exportPkcs12, // (options: Pkcs12Options) => Promise<Buffer>; modern: PBES2 AES-256-CBC + SHA-256 MAC; legacy: 3DES key, RC2-40 certs, SHA-1 MAC
  readPkcs12, // (data: Uint8Array, password: string) => Pkcs12Contents; p12-password / p12-format
} from './pkcs12';

// the store (files are the truth) and revocation at Cloudflare
export {
  DEFAULT_STORE_DIR, // '.mtls'
  resolveStorePath, // (workspaceDir, storePath?) => string
  caPaths, // (root, name) => CaPaths: <root>/<name>/{ca.pem, ca.key, certs/, revoked.json, archive/}
  checkName, // (name, what?) => string; bad-name
  nameFromCn, // (cn) => string; "Alice Example" -> "alice-example"
  initStore, // (root) => Promise<void>; folder 0700 + .gitignore (*.key, *.p12, *.pfx)
  createCa, // (root, name, options: CreateCaOptions) => Promise<StoredCertificate>; exists; key encrypted when options.passphrase
  encryptCaKey, // (root, name, passphrase) => Promise<void>; encrypts a plaintext CA key in place (atomic)
  loadCa, // (root, name, passphrase?: PassphraseProvider) => Promise<CertAndKey & { certPath, keyPath, dir, keyEncrypted }>; not-found / no-ca-key / no-passphrase / bad-passphrase
  checkStoreRoot, // (root) => Promise<void>; not-a-folder / symlink-folder
  cleanupStore, // (root) => Promise<string[]>; removes the leftovers of interrupted writes (StoreTree.leftovers)
  issueToStore, // (root, caName, options: StoreIssueOptions) => Promise<StoredCertificate>; <ca>/certs/<name>.pem + .key
  signCsrToStore, // (root, caName, csr, options?: StoreSignCsrOptions) => Promise<StoredCertificate>
  importToStore, // (root, options: ImportOptions) => Promise<StoredCertificate>
  listStore, // (root) => Promise<StoreTree>; by signature; problems and leftovers instead of throws; cached on file identity/size/mtime
  renewCertificate, // (root, certPath, options?: RenewOptions) => Promise<RenewResult>; old pair moved to <ca>/archive/
  revokeCertificate, // (root, certPath, reason) => Promise<RevokeResult>; <ca>/revoked.json
  readRevocations, // (caDir) => Promise<RevocationRecord[]>
  caRevocationExpression, // (caDir) => Promise<string | undefined>
  revocationExpression, // (sha256s: string[]) => string; cf.tls_client_auth.cert_fingerprint_sha256 in {"…" "…"}
  deleteCertificate, // (root, certPath) => Promise<string[]>; removes the PEM and its .key
  trackedKeys, // (root) => Promise<string[]>; absolute paths of *.key/*.p12/*.pfx tracked by git; [] outside git
} from './store';
