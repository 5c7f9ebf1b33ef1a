// `mtls cert …`: issue, export, inspect and manage certificates of the workspace store.
import * as fs from 'fs';
import * as path from 'path';
import { CliCommand, CliIO, caPassphraseProvider, parseCommandArgs, printJson, requireOption, subcommandGroup } from '../io';
import { MtlsError } from '../../core/errors';
import { readFileOrThrow, writeFileAtomic, KEY_MODE } from '../../core/fsutil';
import type { CaEntry, CertificateInfo, CertProfile, KeyAlgorithm, StoreEntry, StoreTree, StoredCertificate } from '../../core/pki';

type Pki = typeof import('../../core/pki');
const pki = (): Pki => require('../../core/pki');

export const USAGE = `Usage:
  mtls cert issue --ca NAME --cn CN [--name FILE_BASENAME] [--profile client|origin-pull|server]
                  [--key rsa2048|rsa3072|rsa4096|ec-p256|ec-p384] [--days N] [--org O] [--san VALUE]...
                  [--store DIR] [--json]
  mtls cert export-p12 --cert FILE [--key FILE] [--ca FILE] --out FILE [--legacy] [--friendly-name NAME] [--json]
                  password from MTLS_P12_PASSWORD, else asked on the terminal
  mtls cert inspect FILE [--json]          FILE: PEM/DER certificate, CSR, or .p12/.pfx (password as for export-p12)
  mtls cert verify FILE --ca FILE [--json]
  mtls cert list [--store DIR] [--json]
  mtls cert sign-csr --ca NAME --csr FILE [--name N] [--profile P] [--days N] [--san VALUE]... [--store DIR] [--json]
  mtls cert import FILE [--key FILE] [--name N] [--ca NAME] [--store DIR] [--json]
  mtls cert renew FILE [--days N] [--store DIR] [--json]
  mtls cert revoke FILE [--reason R] [--store DIR] [--json]
  mtls cert delete FILE --yes [--store DIR]
  mtls cert cleanup [--store DIR] [--json]   removes what interrupted writes left (listed by \`cert list\`)

The store defaults to ./.mtls. Issued files: <store>/<ca>/certs/<name>.pem and <name>.key (origin-pull: <store>/<ca>/origin-pull/).
Signing with an encrypted CA key (issue, sign-csr, renew) reads its passphrase from ${'$'}MTLS_CA_PASSWORD, else the terminal.
sign-csr accepts RSA (2048 bits or more), P-256 and P-384 keys, and prints the subject and SANs it grants.
`;

// ---- helpers shared with `mtls ca` ------------------------------------------------------------

export function storeOf(io: CliIO, store: string | undefined): string {
  const root = path.resolve(io.cwd, store || '.mtls');
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(root);
  } catch {
    st = undefined; // created on first write
  }
  if (st && !st.isDirectory()) throw new MtlsError('not-a-folder', `The store ${root} is not a folder.`, 'Give --store a folder (or a path that does not exist yet).');
  return root;
}

export function fileOf(io: CliIO, file: string): string {
  return path.resolve(io.cwd, file);
}

export function parseDays(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new MtlsError('usage', `--days must be a whole number of days, not "${value}".`);
  return Number(value);
}

export function parseKey(value: string | undefined): KeyAlgorithm | undefined {
  if (value === undefined) return undefined;
  const known = ['rsa4096', 'rsa3072', 'rsa2048', 'ec-p256', 'ec-p384'];
  if (!known.includes(value)) throw new MtlsError('usage', `--key must be one of ${known.join(', ')}, not "${value}".`);
  return value as KeyAlgorithm;
}

function parseProfile(value: string | undefined): CertProfile | undefined {
  if (value === undefined) return undefined;
  if (!['client', 'origin-pull', 'server'].includes(value)) throw new MtlsError('usage', `--profile must be client, origin-pull or server, not "${value}".`);
  return value as CertProfile;
}

export function keyDescription(info: CertificateInfo): string {
  return info.keyType === 'EC' ? `EC ${info.curve ?? ''}`.trim() : `${info.keyType} ${info.keyBits ?? ''}`.trim();
}

/** The one JSON object `ca create` and `cert issue` print: absolute paths as `cert` and `key`. */
export function storedJson(s: StoredCertificate): Record<string, unknown> {
  return {
    name: s.name,
    ca: s.caName,
    cert: s.certPath,
    key: s.keyPath,
    subject: s.info.subject,
    issuer: s.info.issuer,
    serial: s.info.serial,
    keyType: keyDescription(s.info),
    profile: s.info.profile,
    sans: s.info.sans.map(x => `${x.type}:${x.value}`),
    notBefore: s.info.notBefore.toISOString(),
    notAfter: s.info.notAfter.toISOString(),
    fingerprintSha256: s.info.fingerprintSha256,
    sha256: s.info.sha256,
  };
}

export function printStored(io: CliIO, verb: string, s: StoredCertificate): void {
  const lines = [
    `${verb} ${s.info.isCa ? 'CA' : 'certificate'} "${s.name}": ${s.info.subject} (${keyDescription(s.info)}, valid until ${s.info.notAfter.toISOString().slice(0, 10)})`,
    `  certificate: ${s.certPath}`,
  ];
  if (s.keyPath) lines.push(`  key:         ${s.keyPath} (private, mode 0600; keep it out of git)`);
  lines.push(`  SHA-256:     ${s.info.fingerprintSha256}`);
  io.stdout(lines.join('\n') + '\n');
}

/** A certificate's details as JSON: every field of CertificateInfo but the PEM (the type makes the list complete), dates as ISO text. */
type InfoJson = { [K in Exclude<keyof CertificateInfo, 'pem'>]: CertificateInfo[K] extends Date ? string : CertificateInfo[K] };

export function infoJson(info: CertificateInfo): InfoJson {
  // One literal in CertificateInfo's order: a listing of thousands builds objects of one shape (a copy
  // without the PEM made each one a slow dictionary object, which cost more than printing it).
  return {
    subject: info.subject, subjectCn: info.subjectCn, subjectOrg: info.subjectOrg, issuer: info.issuer, issuerCn: info.issuerCn,
    serial: info.serial, sans: info.sans, keyType: info.keyType, keyBits: info.keyBits, curve: info.curve,
    signatureAlgorithm: info.signatureAlgorithm, keyUsage: info.keyUsage, keyUsageCritical: info.keyUsageCritical,
    extKeyUsage: info.extKeyUsage, basicConstraints: info.basicConstraints, isCa: info.isCa, selfSigned: info.selfSigned,
    notBefore: info.notBefore.toISOString(), notAfter: info.notAfter.toISOString(), daysLeft: info.daysLeft,
    expired: info.expired, notYetValid: info.notYetValid, fingerprintSha256: info.fingerprintSha256,
    fingerprintSha1: info.fingerprintSha1, sha256: info.sha256, ski: info.ski, aki: info.aki, profile: info.profile,
  };
}

function formatInfo(info: CertificateInfo, file: string): string {
  const status = info.expired ? 'EXPIRED' : info.notYetValid ? 'not yet valid' : `${info.daysLeft} days left`;
  const rows: [string, string][] = [
    ['File', file],
    ['Subject', info.subject],
    ['Issuer', info.issuer + (info.selfSigned ? ' (self-signed)' : '')],
    ['Serial', info.serial],
    ['Key', keyDescription(info)],
    ['Signature', info.signatureAlgorithm],
    ['Valid from', info.notBefore.toISOString()],
    ['Valid until', `${info.notAfter.toISOString()} (${status})`],
    ['CA', info.basicConstraints ? `${info.isCa ? 'yes' : 'no'}${info.basicConstraints.pathLength !== undefined ? `, path length ${info.basicConstraints.pathLength}` : ''}${info.basicConstraints.critical ? ' (critical)' : ''}` : 'no basic constraints'],
    ['Key usage', info.keyUsage.length ? info.keyUsage.join(', ') + (info.keyUsageCritical ? ' (critical)' : '') : '-'],
    ['Extended key usage', info.extKeyUsage.length ? info.extKeyUsage.join(', ') : '-'],
    ['SANs', info.sans.length ? info.sans.map(s => `${s.type.toUpperCase()}:${s.value}`).join(', ') : '-'],
    ['SKI', info.ski ?? '-'],
    ['AKI', info.aki ?? '-'],
    ['SHA-256', info.fingerprintSha256],
    ['SHA-1', info.fingerprintSha1],
    ['Cloudflare SHA-256', info.sha256],
  ];
  const w = Math.max(...rows.map(r => r[0].length));
  return rows.map(([k, v]) => `${(k + ':').padEnd(w + 2)}${v}`).join('\n') + '\n';
}

async function readPassword(io: CliIO, confirm: boolean): Promise<string> {
  const fromEnv = io.env.MTLS_P12_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!io.promptSecret) {
    throw new MtlsError('no-password', 'No password for the PKCS#12 file: set MTLS_P12_PASSWORD, or run on a terminal to type it.');
  }
  const first = await io.promptSecret('Password for the PKCS#12 file: ');
  if (!first) throw new MtlsError('no-password', 'The password must not be empty.');
  if (confirm) {
    const again = await io.promptSecret('Repeat the password: ');
    if (again !== first) throw new MtlsError('no-password', 'The two passwords differ; nothing was written.');
  }
  return first;
}

function treeLines(tree: StoreTree): string[] {
  const lines: string[] = [];
  const rel = (p: string) => path.relative(tree.root, p) || p;
  const describe = (e: StoreEntry) => {
    const i = e.info;
    const state = e.revoked ? 'REVOKED' : i.expired ? 'EXPIRED' : `${i.daysLeft}d left`;
    const key = e.keyPath ? ((e as CaEntry).keyEncrypted === false ? ', key NOT encrypted' : '') : ', no key';
    return `${e.name}  ${i.subjectCn ?? i.subject}  [${i.profile ?? 'cert'}, ${keyDescription(i)}, ${state}${key}${e.archived ? ', archived' : ''}]  ${rel(e.certPath)}`;
  };
  for (const ca of tree.cas.filter(c => !c.issuerPath)) {
    const walk = (c: typeof ca, depth: number) => {
      lines.push(`${'  '.repeat(depth)}CA ${describe(c)}`);
      for (const child of c.certs) {
        const sub = tree.cas.find(x => x.certPath === child.certPath);
        if (sub) walk(sub, depth + 1);
        else lines.push(`${'  '.repeat(depth + 1)}${describe(child)}`);
      }
    };
    walk(ca, 0);
  }
  if (tree.orphans.length) {
    lines.push('Not issued by a CA of the store:');
    for (const o of tree.orphans) lines.push(`  ${describe(o)}`);
  }
  for (const p of tree.problems) lines.push(`problem: ${rel(p.path)}: ${p.message}`);
  lines.push(...leftoverLines(tree));
  if (lines.length === 0) lines.push(tree.exists ? `The store ${tree.root} holds no certificates.` : `There is no store at ${tree.root} yet; create a CA with \`mtls ca create\`.`);
  return lines;
}

/** Lines naming the remains of interrupted writes, with the command that removes them. */
export function leftoverLines(tree: StoreTree): string[] {
  if (tree.leftovers.length === 0) return [];
  return [
    ...tree.leftovers.map(l => `leftover: ${path.relative(tree.root, l.path)}: ${l.message}`),
    `Remove ${tree.leftovers.length === 1 ? 'it' : 'them'} with \`mtls cert cleanup${tree.root === path.resolve('.mtls') ? '' : ` --store ${tree.root}`}\`.`,
  ];
}

export function treeJson(tree: StoreTree): unknown {
  // `issuer` is the issuer's name (from the certificate's fields); `issuerCert` the file of the store CA that signed it.
  const entry = (e: StoreEntry) => ({ name: e.name, cert: e.certPath, key: e.keyPath, keyEncrypted: e.keyEncrypted, archived: e.archived, revoked: e.revoked, ...infoJson(e.info), issuerCert: e.issuerPath });
  return {
    root: tree.root,
    exists: tree.exists,
    cas: tree.cas.map(ca => ({ ...entry(ca), dir: ca.dir, revocations: ca.revocations, certs: ca.certs.map(entry) })),
    orphans: tree.orphans.map(entry),
    problems: tree.problems,
    leftovers: tree.leftovers,
  };
}

// ---- subcommands ------------------------------------------------------------------------------

const common = { store: { type: 'string' }, json: { type: 'boolean' } } as const;

async function issue(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    ...common, ca: { type: 'string' }, cn: { type: 'string' }, name: { type: 'string' }, profile: { type: 'string' },
    key: { type: 'string' }, days: { type: 'string' }, org: { type: 'string' }, san: { type: 'string', multiple: true },
  });
  const s = await pki().issueToStore(storeOf(io, values.store), requireOption(values.ca, 'ca'), {
    cn: requireOption(values.cn, 'cn'), name: values.name, org: values.org, profile: parseProfile(values.profile),
    key: parseKey(values.key), days: parseDays(values.days), sans: values.san, caPassphrase: caPassphraseProvider(io),
  });
  if (values.json) printJson(io, { ...storedJson(s), profile: values.profile ?? 'client' });
  else printStored(io, 'Issued', s);
  return 0;
}

async function exportP12(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    cert: { type: 'string' }, key: { type: 'string' }, ca: { type: 'string' }, out: { type: 'string' }, legacy: { type: 'boolean' },
    'friendly-name': { type: 'string' }, json: { type: 'boolean' },
  });
  const P = pki();
  const certPath = fileOf(io, requireOption(values.cert, 'cert'));
  const out = fileOf(io, requireOption(values.out, 'out'));
  const keyPath = values.key ? fileOf(io, values.key) : certPath.replace(/\.(pem|crt|cer|der)$/i, '') + '.key';
  if (!values.key && !fs.existsSync(keyPath)) throw new MtlsError('usage', `Missing --key (no ${keyPath} beside the certificate).`);
  const certPem = P.parseCertificate(await readFileOrThrow(certPath), certPath);
  const keyPem = P.parsePrivateKey(await readFileOrThrow(keyPath), keyPath);
  P.assertKeyMatches(certPem, keyPem, keyPath, certPath);
  let chainPems: string[] = [];
  if (values.ca) {
    const caPath = fileOf(io, values.ca);
    chainPems = P.parseCertificates(await readFileOrThrow(caPath), caPath);
  } else {
    // A certificate of the store (<ca>/certs/x.pem): include its CA when that CA really signed it.
    const candidate = path.join(path.dirname(path.dirname(certPath)), 'ca.pem');
    if (path.basename(path.dirname(certPath)) === 'certs' && fs.existsSync(candidate)) {
      try {
        const caPem = P.parseCertificate(fs.readFileSync(candidate), candidate);
        if (P.verifyCertificate(certPem, caPem).signatureValid) chainPems = [caPem];
      } catch {
        // not a usable CA: export without the chain
      }
    }
  }
  if (fs.existsSync(out)) throw new MtlsError('exists', `${out} already exists; it was left as it was.`, 'Choose another --out or remove the file first.');
  const password = await readPassword(io, true);
  const flavor = values.legacy ? 'legacy' : 'modern';
  const p12 = await P.exportPkcs12({ certPem, keyPem, chainPems, password, flavor, friendlyName: values['friendly-name'] });
  try {
    await writeFileAtomic(out, p12, { mode: KEY_MODE });
  } catch (err) {
    if (err instanceof MtlsError) throw err;
    throw new MtlsError('fs-unwritable', `Cannot write ${out}: ${(err as NodeJS.ErrnoException).code ?? err}.`);
  }
  if (values.json) printJson(io, { p12: out, flavor, chain: chainPems.length, cert: certPath, key: keyPath });
  else io.stdout(`Wrote ${out} (${flavor} PKCS#12, ${flavor === 'modern' ? 'AES-256 + SHA-256 MAC' : '3DES/RC2 + SHA-1 MAC, for the macOS keychain and older Windows'}, ${chainPems.length} CA certificate${chainPems.length === 1 ? '' : 's'} included).\n`);
  return 0;
}

async function inspect(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' } }, true);
  if (positionals.length !== 1) throw new MtlsError('usage', 'mtls cert inspect takes one FILE.');
  const file = fileOf(io, positionals[0]);
  const data = await readFileOrThrow(file);
  const P = pki();
  if (/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(data.toString('latin1'))) {
    const csr = P.parseCsr(data, file);
    if (values.json) printJson(io, { csr: true, ...csr, pem: undefined });
    else io.stdout(`File:      ${file}\nRequest:   ${csr.subject}\nSANs:      ${csr.sans.map(s => `${s.type.toUpperCase()}:${s.value}`).join(', ') || '-'}\nKey:       ${csr.keyType} ${csr.curve ?? csr.keyBits ?? ''}\nSignature: ${csr.signatureValid ? 'valid' : 'INVALID'}\n`);
    return 0;
  }
  if (/\.(p12|pfx)$/i.test(file)) {
    const bundle = P.readPkcs12(data, await readPassword(io, false));
    const info = P.inspectCertificate(bundle.certPem, file);
    const chain = bundle.chainPems.map(c => P.inspectCertificate(c).subject);
    if (values.json) printJson(io, { file, ...infoJson(info), friendlyName: bundle.friendlyName, chain });
    else io.stdout(formatInfo(info, file) + `Bundle:             key + certificate${chain.length ? ` + ${chain.join('; ')}` : ''}${bundle.friendlyName ? ` (friendly name "${bundle.friendlyName}")` : ''}\n`);
    return 0;
  }
  const info = P.inspectCertificate(data, file);
  if (values.json) printJson(io, { file, ...infoJson(info) });
  else io.stdout(formatInfo(info, file));
  return 0;
}

async function verify(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ca: { type: 'string' }, json: { type: 'boolean' } }, true);
  if (positionals.length !== 1) throw new MtlsError('usage', 'mtls cert verify takes one FILE.');
  const P = pki();
  const file = fileOf(io, positionals[0]);
  const caFile = fileOf(io, requireOption(values.ca, 'ca'));
  const r = P.verifyCertificate(P.parseCertificate(await readFileOrThrow(file), file), P.parseCertificate(await readFileOrThrow(caFile), caFile));
  if (values.json) printJson(io, r);
  else if (r.ok) io.stdout(`${file}: OK (signed by ${caFile}, valid now)\n`);
  else io.stderr(`${file}: not valid against ${caFile}:\n${r.problems.map(p => `  - ${p}`).join('\n')}\n`);
  return r.ok ? 0 : 1;
}

async function list(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, common);
  const P = pki();
  const root = storeOf(io, values.store);
  // git runs while the store is read.
  const [tree, tracked] = await Promise.all([P.listStore(root), P.trackedKeys(root)]);
  if (values.json) printJson(io, { ...(treeJson(tree) as object), trackedKeys: tracked });
  else {
    const lines = treeLines(tree);
    for (const t of tracked) lines.push(`warning: ${path.relative(root, t)} is tracked by git; remove it with \`git rm --cached\` and rotate the key.`);
    io.stdout(lines.join('\n') + '\n');
  }
  return 0;
}

async function signCsrCmd(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    ...common, ca: { type: 'string' }, csr: { type: 'string' }, name: { type: 'string' }, profile: { type: 'string' },
    days: { type: 'string' }, san: { type: 'string', multiple: true },
  });
  const csrPath = fileOf(io, requireOption(values.csr, 'csr'));
  const P = pki();
  const root = storeOf(io, values.store);
  const caName = requireOption(values.ca, 'ca');
  const csr = await readFileOrThrow(csrPath);
  // What will be granted, shown before anything is signed: the CSR's subject and its SANs (or the --san ones).
  const request = P.parseCsr(csr, csrPath);
  const sans = values.san ? values.san.map(P.parseSan) : request.sans;
  io.stderr(`Signing with the CA "${caName}":\n  subject: ${request.subject || '(empty)'}\n  SANs:    ${sans.map(x => `${x.type.toUpperCase()}:${JSON.stringify(x.value).slice(1, -1)}`).join(', ') || '(none)'}${values.san ? ' (from --san)' : ' (from the CSR)'}\n  key:     ${request.keyType} ${request.curve ?? request.keyBits ?? ''}\n`);
  const s = await P.signCsrToStore(root, caName, csr, {
    name: values.name, profile: parseProfile(values.profile), days: parseDays(values.days), sans: values.san, caPassphrase: caPassphraseProvider(io),
  });
  if (values.json) printJson(io, storedJson(s));
  else printStored(io, 'Signed', s);
  return 0;
}

export async function importCmd(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...common, key: { type: 'string' }, name: { type: 'string' }, ca: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new MtlsError('usage', 'import takes one FILE (PEM or DER).');
  const file = fileOf(io, positionals[0]);
  const keyFile = values.key ? fileOf(io, values.key) : undefined;
  const s = await pki().importToStore(storeOf(io, values.store), {
    cert: await readFileOrThrow(file), certSource: file,
    key: keyFile ? await readFileOrThrow(keyFile) : undefined, keySource: keyFile,
    name: values.name, caName: values.ca,
  });
  if (values.json) printJson(io, storedJson(s));
  else printStored(io, 'Imported', s);
  return 0;
}

async function renew(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...common, days: { type: 'string' }, key: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new MtlsError('usage', 'mtls cert renew takes one FILE.');
  const r = await pki().renewCertificate(storeOf(io, values.store), fileOf(io, positionals[0]), { days: parseDays(values.days), key: parseKey(values.key), caPassphrase: caPassphraseProvider(io) });
  if (values.json) printJson(io, { ...storedJson(r.renewed), archived: r.archived });
  else {
    printStored(io, 'Renewed', r.renewed);
    io.stdout(`  previous:    ${r.archived.join(', ')}\n`);
  }
  return 0;
}

async function revoke(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...common, reason: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new MtlsError('usage', 'mtls cert revoke takes one FILE.');
  const r = await pki().revokeCertificate(storeOf(io, values.store), fileOf(io, positionals[0]), values.reason ?? 'unspecified');
  if (values.json) printJson(io, r);
  else {
    const what = r.alreadyRevoked
      ? `${r.record.subject} (serial ${r.record.serial}) was already revoked on ${r.record.revokedAt} (${r.record.reason}); ${r.revokedPath} is unchanged.`
      : `Revoked ${r.record.subject} (serial ${r.record.serial}), recorded in ${r.revokedPath}.`;
    io.stdout(`${what}\nBlock it at Cloudflare with a WAF custom rule (action Block) on this expression:\n\n  ${r.expression}\n`);
  }
  return 0;
}

async function del(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { store: { type: 'string' }, yes: { type: 'boolean' } }, true);
  if (positionals.length !== 1) throw new MtlsError('usage', 'mtls cert delete takes one FILE.');
  const P = pki();
  const root = storeOf(io, values.store);
  const file = fileOf(io, positionals[0]);
  // A CA's file takes its key and every renewal and revocation of what it issued with it: said before and after.
  const ca = (await P.listStore(root)).cas.find(c => c.certPath === path.resolve(file));
  const issued = ca ? ca.certs.filter(c => c.certPath !== ca.certPath).length : 0;
  const caNote = ca ? `${file} is the CA "${ca.name}"${ca.keyPath ? ' with its key' : ''}; the ${issued} certificate(s) it issued stay, but can no longer be renewed or revoked here, and whoever trusts the CA (Cloudflare, clients) keeps trusting it until it is removed there. ` : '';
  if (!values.yes) throw new MtlsError('usage', `${caNote}Deleting removes the ${ca ? 'CA certificate' : 'certificate'} and its private key for good; add --yes to confirm.`);
  const removed = await P.deleteCertificate(root, file);
  io.stdout(`Deleted ${ca ? `the CA "${ca.name}": ` : ''}${removed.join(', ')}\n`);
  if (ca && issued) io.stderr(`note: the ${issued} certificate(s) it issued stay in the store as orphans; remove the CA from Cloudflare and from clients that trust it.\n`);
  return 0;
}

/** `mtls cert cleanup` and `mtls ca cleanup`: removes the leftovers of interrupted writes. */
export async function cleanup(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, common);
  const root = storeOf(io, values.store);
  const removed = await pki().cleanupStore(root);
  if (values.json) printJson(io, { removed });
  else io.stdout(removed.length ? `Removed ${removed.map(r => path.relative(root, r)).join(', ')}\n` : `Nothing to clean up in ${root}.\n`);
  return 0;
}

const subcommands: Record<string, (argv: string[], io: CliIO) => Promise<number>> = {
  cleanup,
  issue, 'export-p12': exportP12, inspect, verify, list, 'sign-csr': signCsrCmd, import: importCmd, renew, revoke, delete: del,
};

export const command: CliCommand = subcommandGroup('issue, export (.p12), inspect, renew and revoke client and origin certificates', USAGE, subcommands);
