// Client certificates from a zone's Cloudflare-managed CA (every plan): the key and CSR are made here, the
// CSR is signed through POST /zones/{zone_id}/client_certificates, and certificate, key and API record land
// in the store under cloudflare-managed/<zone>/. List, revoke and reactivate go through the same API.
import * as crypto from 'crypto';
import * as path from 'path';
import { MtlsError } from '../errors';
import { readFileOrThrow } from '../fsutil';
import { createCsr } from '../pki/csr';
import { checkKeyAlgorithm, generateKey } from '../pki/pem';
import { checkName, listManagedCertificateFiles, managedCaDir, ManagedCertificateFiles, nameFromCn, storeManagedCertificate, updateManagedCertificateRecord } from '../pki/store';
import type { KeyAlgorithm } from '../pki/types';
import { explainCloudflareError, isNetworkError } from './errors';
import { createClient, resolveBaseURL } from './plan';

/** Key types the managed CA signs (the CLI's --key). */
export const MANAGED_KEY_TYPES: readonly KeyAlgorithm[] = ['ec-p256', 'rsa2048'];
/** Default validity: Cloudflare's own default for client certificates is 10 years; a year is a safer start. */
export const DEFAULT_MANAGED_DAYS = 365;

export type ManagedStatus = 'active' | 'pending_reactivation' | 'pending_revocation' | 'revoked';

export interface ManagedCaOptions {
  token: string;
  baseURL?: string;
  zoneName: string;
  /** Per-call timeout in ms (default 30000). */
  timeoutMs?: number;
}

/** One certificate of the managed CA: the API's view, and the local files when the store has them. */
export interface ManagedCertificate {
  id: string;
  status?: ManagedStatus | string;
  commonName?: string;
  serialNumber?: string;
  fingerprintSha256?: string;
  issuedOn?: string;
  expiresOn?: string;
  /** Name of the CA that signed it, as Cloudflare reports it. */
  caName?: string;
  /** Local files (absolute), when the store holds this certificate. */
  cert?: string;
  key?: string;
  name?: string;
}

export interface IssueManagedOptions extends ManagedCaOptions {
  /** Store folder (absolute or relative to cwd). */
  storeDir: string;
  cn: string;
  days?: number;
  key?: KeyAlgorithm;
  /** File name in the store; default from the CN. */
  name?: string;
  onProgress?: (message: string) => void;
}

export interface IssuedManagedCertificate extends ManagedCertificate {
  cert: string;
  key: string;
  name: string;
  /** True when the create's answer was lost and a re-read found the certificate. */
  confirmedAfterError?: boolean;
}

interface Zone { id: string; name: string }

type ApiCert = {
  id?: string; status?: string; certificate?: string; common_name?: string; serial_number?: string; fingerprint_sha256?: string;
  issued_on?: string; expires_on?: string; csr?: string; certificate_authority?: { id?: string; name?: string };
};

async function connect(opts: ManagedCaOptions) {
  if (!opts.token) throw new MtlsError('cloudflare-no-token', 'No Cloudflare API token.', 'Set CLOUDFLARE_API_TOKEN or run "mTLS: Set Cloudflare API Token".');
  const zoneName = opts.zoneName?.trim().toLowerCase().replace(/\.$/, '');
  if (!zoneName) throw new MtlsError('usage', 'No zone name.', 'Pass the zone, e.g. --zone example.com.');
  const client = await createClient(opts.token, resolveBaseURL(opts.baseURL), opts.timeoutMs);
  let zone: Zone | undefined;
  try {
    zone = (await client.zones.list({ name: zoneName })).result[0] as Zone | undefined;
  } catch (err) {
    throw apiError(err, opts.token);
  }
  if (!zone) throw new MtlsError('not-found', `No zone named ${zoneName} is visible to this token.`, 'Check the zone name, or give the token "Zone > Zone > Read" on this zone.');
  return { client, zone };
}

/** An MtlsError carrying Cloudflare's code, message and advice. */
export function apiError(err: unknown, token?: string): MtlsError {
  if (err instanceof MtlsError) return err;
  const e = explainCloudflareError(err, 'upload-ca', 'Zone > SSL and Certificates > Edit', token);
  return new MtlsError(e.code !== undefined ? `cf-${e.code}` : e.kind === 'timeout' ? 'cloudflare-timeout' : 'cloudflare-api',
    `${e.code !== undefined ? `Cloudflare error ${e.code}: ` : ''}${e.message}`, e.meaning, { cause: err });
}

function view(c: ApiCert): ManagedCertificate {
  return {
    id: c.id ?? '', status: c.status, commonName: c.common_name, serialNumber: c.serial_number, fingerprintSha256: c.fingerprint_sha256,
    issuedOn: c.issued_on, expiresOn: c.expires_on, caName: c.certificate_authority?.name,
  };
}

function sameCsr(a: string | undefined, b: string): boolean {
  const norm = (s: string) => s.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return !!a && norm(a) === norm(b);
}

async function listAll(client: Awaited<ReturnType<typeof connect>>['client'], zoneId: string): Promise<ApiCert[]> {
  const out: ApiCert[] = [];
  for await (const c of client.clientCertificates.list({ zone_id: zoneId, status: 'all', per_page: 50 })) {
    out.push(c as ApiCert);
    if (out.length >= 5000) break;
  }
  return out;
}

/**
 * Makes a key and a CSR here, has the zone's managed CA sign it, and stores certificate, key and record.
 * The create is sent once: after a timeout or 5xx the list is read to find the certificate by its CSR.
 */
export async function issueManagedCertificate(opts: IssueManagedOptions): Promise<IssuedManagedCertificate> {
  const cn = opts.cn?.trim();
  if (!cn) throw new MtlsError('usage', 'No common name.', 'Pass --cn, e.g. --cn alice@example.com.');
  if (cn.length > 64) throw new MtlsError('usage', 'The common name may be at most 64 characters.');
  const days = opts.days ?? DEFAULT_MANAGED_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new MtlsError('usage', `--days ${opts.days} is not a number of days from 1 to 3650.`);
  const keyType = checkKeyAlgorithm(opts.key ?? 'ec-p256');
  if (!MANAGED_KEY_TYPES.includes(keyType)) throw new MtlsError('usage', `--key ${keyType}: the managed CA signs ${MANAGED_KEY_TYPES.join(' or ')} keys here.`);
  const name = checkName(opts.name ?? nameFromCn(cn), 'certificate name');
  const dir = managedCaDir(opts.storeDir, opts.zoneName);
  const existing = await listManagedCertificateFiles(opts.storeDir, opts.zoneName);
  if (existing.some(f => f.name === name)) {
    throw new MtlsError('exists', `A certificate named "${name}" already exists for the managed CA of ${opts.zoneName} (${path.join(dir, name + '.pem')}); nothing was sent.`, 'Choose another name with --name.');
  }
  const { client, zone } = await connect(opts);
  opts.onProgress?.('Making the key and CSR (the key stays on this machine)…');
  const { keyPem } = await generateKey(keyType);
  const csr = createCsr(keyPem, cn);
  opts.onProgress?.(`Asking the Cloudflare-managed CA of ${zone.name} to sign it…`);
  let created: ApiCert | undefined;
  let confirmedAfterError = false;
  try {
    created = await client.clientCertificates.create({ zone_id: zone.id, csr, validity_days: days }) as ApiCert;
  } catch (err) {
    const status = (err as { status?: number })?.status;
    if (!(isNetworkError(err) || (typeof status === 'number' && status >= 500))) throw apiError(err, opts.token);
    // The answer was lost: the certificate may exist. Look for it by its CSR before anything else.
    let again: ApiCert[];
    try {
      again = await listAll(client, zone.id);
    } catch {
      throw new MtlsError('cloudflare-unknown-outcome', `The signing request failed (${apiError(err, opts.token).message}) and the list could not be read: whether Cloudflare issued the certificate is not known.`,
        `Run "mtls cloudflare cert list --zone ${zone.name}" before trying again. The key was not stored, so a certificate issued meanwhile cannot be used: revoke it.`, { cause: err });
    }
    created = again.find(c => sameCsr(c.csr, csr));
    if (!created) throw apiError(err, opts.token);
    confirmedAfterError = true;
  }
  if (!created?.certificate || !created.id) throw new MtlsError('cloudflare-api', 'Cloudflare answered without a certificate.', 'Read the list with "mtls cloudflare cert list" and try again.');
  const certPem = created.certificate.trim() + '\n';
  const x = new crypto.X509Certificate(certPem);
  if (!x.checkPrivateKey(crypto.createPrivateKey(keyPem))) throw new MtlsError('cloudflare-api', 'The certificate Cloudflare returned is not for the key made here; nothing was stored.');
  const record = {
    about: 'A client certificate signed by the Cloudflare-managed CA of this zone (mTLS Workbench). The id is the API object.',
    id: created.id, zone: zone.name, zoneId: zone.id, status: created.status ?? 'active', commonName: cn,
    issuedOn: created.issued_on, expiresOn: created.expires_on ?? new Date(x.validTo).toISOString(), ca: created.certificate_authority?.name,
  };
  opts.onProgress?.('Writing the certificate, key and record…');
  const files = await storeManagedCertificate(opts.storeDir, zone.name, name, certPem, keyPem, record);
  return {
    ...view(created), id: created.id, name, cert: files.certPath, key: files.keyPath!, expiresOn: record.expiresOn,
    confirmedAfterError: confirmedAfterError || undefined,
  };
}

/** The managed CA's certificates with their live status, joined with the store's files. */
export async function listManagedCertificates(opts: ManagedCaOptions & { storeDir?: string }): Promise<ManagedCertificate[]> {
  const { client, zone } = await connect(opts);
  let certs: ApiCert[];
  try {
    certs = await listAll(client, zone.id);
  } catch (err) {
    throw apiError(err, opts.token);
  }
  const local = opts.storeDir ? await listManagedCertificateFiles(opts.storeDir, zone.name) : [];
  return certs.map(c => {
    const f = local.find(l => l.record.id === c.id);
    return { ...view(c), cert: f?.certPath, key: f?.keyPath, name: f?.name };
  });
}

/** The API id for FILE|ID: a certificate file of the store (its record, else its fingerprint) or an id. */
async function resolveId(client: Awaited<ReturnType<typeof connect>>['client'], zone: Zone, fileOrId: string, storeDir?: string, cwd = process.cwd()): Promise<{ id: string; files?: ManagedCertificateFiles }> {
  const looksLikeFile = /[/\\]|\.(pem|crt|cer)$/i.test(fileOrId);
  if (!looksLikeFile) {
    if (!/^[A-Za-z0-9-]{8,64}$/.test(fileOrId)) throw new MtlsError('usage', `"${fileOrId}" is neither a certificate file nor a certificate id.`);
    const files = storeDir ? (await listManagedCertificateFiles(storeDir, zone.name)).find(f => f.record.id === fileOrId) : undefined;
    return { id: fileOrId, files };
  }
  const abs = path.resolve(cwd, fileOrId);
  if (storeDir) {
    const files = (await listManagedCertificateFiles(storeDir, zone.name)).find(f => f.certPath === abs);
    if (files && typeof files.record.id === 'string') return { id: files.record.id, files };
  }
  const pem = (await readFileOrThrow(abs)).toString('utf8');
  let fp: string;
  try {
    fp = new crypto.X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
  } catch {
    throw new MtlsError('bad-pem', `${abs} is not a PEM certificate.`);
  }
  const match = (await listAll(client, zone.id).catch(err => { throw apiError(err); })).find(c => c.fingerprint_sha256?.replace(/:/g, '').toLowerCase() === fp);
  if (!match?.id) throw new MtlsError('not-found', `${abs} was not issued by the Cloudflare-managed CA of ${zone.name} (no certificate with its fingerprint).`);
  return { id: match.id };
}

async function changeStatus(opts: ManagedCaOptions & { storeDir?: string; cwd?: string }, fileOrId: string, how: 'revoke' | 'reactivate'): Promise<ManagedCertificate> {
  const { client, zone } = await connect(opts);
  const { id, files } = await resolveId(client, zone, fileOrId, opts.storeDir, opts.cwd);
  let result: ApiCert;
  try {
    // Revoke and reactivate are idempotent on Cloudflare's side: a repeat only confirms the state.
    result = (how === 'revoke'
      ? await client.clientCertificates.delete(id, { zone_id: zone.id })
      : await client.clientCertificates.edit(id, { zone_id: zone.id, reactivate: true })) as ApiCert;
  } catch (err) {
    throw apiError(err, opts.token);
  }
  if (files) await updateManagedCertificateRecord(files.recordPath, { ...files.record, status: result.status ?? files.record.status });
  return { ...view(result), id, cert: files?.certPath, key: files?.keyPath, name: files?.name };
}

/** Revokes a certificate of the managed CA (pending_revocation, then revoked). */
export function revokeManagedCertificate(opts: ManagedCaOptions & { storeDir?: string; cwd?: string }, fileOrId: string): Promise<ManagedCertificate> {
  return changeStatus(opts, fileOrId, 'revoke');
}

/** Reactivates a certificate of the managed CA that is pending revocation. */
export function reactivateManagedCertificate(opts: ManagedCaOptions & { storeDir?: string; cwd?: string }, fileOrId: string): Promise<ManagedCertificate> {
  return changeStatus(opts, fileOrId, 'reactivate');
}
