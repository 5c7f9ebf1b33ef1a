// `mtls ca …`: the workspace's certificate authorities.
import { CA_PASSWORD_ENV, CliCommand, CliIO, newCaPassphrase, parseCommandArgs, printJson, requireOption, subcommandGroup } from '../io';
import { cleanup, importCmd, leftoverLines, parseDays, parseKey, printStored, storeOf, storedJson } from './cert';

import { MtlsError } from '../../core/errors';

type Pki = typeof import('../../core/pki');
const pki = (): Pki => require('../../core/pki');

const USAGE = `Usage:
  mtls ca create --name NAME --cn CN [--org O] [--key rsa4096|rsa3072|rsa2048|ec-p256|ec-p384] [--days N]
                 [--store DIR] [--json]
  mtls ca list [--store DIR] [--json]
  mtls ca encrypt-key --name NAME [--store DIR]        encrypts an existing plaintext CA key in place
  mtls ca cleanup [--store DIR] [--json]                removes what interrupted writes left (see \`ca list\`)
  mtls ca import FILE [--key FILE] [--name NAME] [--store DIR] [--json]
  mtls ca revoked --name NAME [--store DIR] [--json]    the Cloudflare expression blocking its revoked certificates

A CA lives in <store>/<NAME>/ca.pem and ca.key (mode 0600). The store defaults to ./.mtls.
The CA key is encrypted (PKCS#8, scrypt + AES-256-CBC; \`openssl pkey -passin\` reads it) with the passphrase
from ${'$'}MTLS_CA_PASSWORD, else typed on the terminal; without either it is written unencrypted (said on stderr).
Every command that signs with the CA (cert issue, sign-csr, renew) reads the passphrase the same way.
`;

async function create(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    name: { type: 'string' }, cn: { type: 'string' }, org: { type: 'string' }, key: { type: 'string' }, days: { type: 'string' },
    store: { type: 'string' }, json: { type: 'boolean' },
  });
  const root = storeOf(io, values.store);
  const name = requireOption(values.name, 'name');
  const options = { cn: requireOption(values.cn, 'cn'), org: values.org, key: parseKey(values.key), days: parseDays(values.days) };
  const P = pki();
  P.caPaths(root, name); // a bad name fails before the passphrase is asked
  const passphrase = await newCaPassphrase(io);
  const s = await P.createCa(root, name, { ...options, passphrase });
  if (!s.keyEncrypted) {
    io.stderr(`mtls ca: notice: the CA key ${s.keyPath} is NOT encrypted (no ${CA_PASSWORD_ENV} and no terminal to ask). Encrypt it with \`mtls ca encrypt-key --name ${name}\`.\n`);
  }
  if (values.json) printJson(io, { ...storedJson(s), keyEncrypted: !!s.keyEncrypted });
  else printStored(io, 'Created', s);
  return 0;
}

async function list(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, { store: { type: 'string' }, json: { type: 'boolean' } });
  const tree = await pki().listStore(storeOf(io, values.store));
  if (values.json) {
    printJson(io, tree.cas.map(ca => ({
      ...storedJson({ name: ca.name, certPath: ca.certPath, keyPath: ca.keyPath, info: ca.info }), keyEncrypted: ca.keyPath ? !!ca.keyEncrypted : undefined,
      dir: ca.dir, issued: ca.certs.length, revoked: ca.revocations.length,
    })));
    for (const l of leftoverLines(tree)) io.stderr(l + '\n');
    return 0;
  }
  if (tree.cas.length === 0) {
    io.stdout(`No CA in ${tree.root}; create one with \`mtls ca create --name NAME --cn CN\`.\n`);
  } else {
    for (const ca of tree.cas) {
      const key = ca.keyPath ? (ca.keyEncrypted ? '' : ', key NOT encrypted') : ', no key';
      io.stdout(`${ca.name}  ${ca.info.subject}  (${ca.info.daysLeft} days left, ${ca.certs.length} issued, ${ca.revocations.length} revoked${key})  ${ca.certPath}\n`);
    }
  }
  for (const l of leftoverLines(tree)) io.stdout(l + '\n');
  return 0;
}

async function revoked(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, { name: { type: 'string' }, store: { type: 'string' }, json: { type: 'boolean' } });
  const P = pki();
  const paths = P.caPaths(storeOf(io, values.store), requireOption(values.name, 'name'));
  const records = await P.readRevocations(paths.dir);
  const expression = records.length ? P.revocationExpression(records.map(r => r.sha256)) : undefined;
  if (values.json) printJson(io, { ca: values.name, revoked: records, expression });
  else io.stdout(expression ? `${expression}\n` : `The CA "${values.name}" has revoked nothing.\n`);
  return 0;
}

async function encryptKey(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, { name: { type: 'string' }, store: { type: 'string' } });
  const name = requireOption(values.name, 'name');
  const root = storeOf(io, values.store);
  const P = pki();
  const paths = P.caPaths(root, name);
  const passphrase = await newCaPassphrase(io);
  if (!passphrase) throw new MtlsError('no-passphrase', `No passphrase: set ${CA_PASSWORD_ENV}, or run on a terminal to type it. The key was left as it was.`);
  await P.encryptCaKey(root, name, passphrase);
  io.stdout(`Encrypted ${paths.keyPath} in place (PKCS#8, scrypt + AES-256-CBC); the plaintext copy is gone.\n`);
  return 0;
}

const subcommands: Record<string, (argv: string[], io: CliIO) => Promise<number>> = { create, list, import: importCmd, revoked, 'encrypt-key': encryptKey, cleanup };

export const command: CliCommand = subcommandGroup('create and list the workspace certificate authorities', USAGE, subcommands);
