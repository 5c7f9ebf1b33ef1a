// `mtls ca …`: the workspace's certificate authorities.
import { CliCommand, CliIO, parseCommandArgs, printJson, requireOption, subcommandGroup } from '../io';
import { importCmd, parseDays, parseKey, printStored, storeOf, storedJson } from './cert';

type Pki = typeof import('../../core/pki');
const pki = (): Pki => require('../../core/pki');

const USAGE = `Usage:
  mtls ca create --name NAME --cn CN [--org O] [--key rsa4096|rsa3072|rsa2048|ec-p256|ec-p384] [--days N]
                 [--store DIR] [--json]
  mtls ca list [--store DIR] [--json]
  mtls ca import FILE [--key FILE] [--name NAME] [--store DIR] [--json]
  mtls ca revoked --name NAME [--store DIR] [--json]    the Cloudflare expression blocking its revoked certificates

A CA lives in <store>/<NAME>/ca.pem and ca.key (mode 0600). The store defaults to ./.mtls.
`;

async function create(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    name: { type: 'string' }, cn: { type: 'string' }, org: { type: 'string' }, key: { type: 'string' }, days: { type: 'string' },
    store: { type: 'string' }, json: { type: 'boolean' },
  });
  const s = await pki().createCa(storeOf(io, values.store), requireOption(values.name, 'name'), {
    cn: requireOption(values.cn, 'cn'), org: values.org, key: parseKey(values.key), days: parseDays(values.days),
  });
  if (values.json) printJson(io, storedJson(s));
  else printStored(io, 'Created', s);
  return 0;
}

async function list(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, { store: { type: 'string' }, json: { type: 'boolean' } });
  const tree = await pki().listStore(storeOf(io, values.store));
  if (values.json) {
    printJson(io, tree.cas.map(ca => ({ ...storedJson({ name: ca.name, certPath: ca.certPath, keyPath: ca.keyPath, info: ca.info }), dir: ca.dir, issued: ca.certs.length, revoked: ca.revocations.length })));
  } else if (tree.cas.length === 0) {
    io.stdout(`No CA in ${tree.root}; create one with \`mtls ca create --name NAME --cn CN\`.\n`);
  } else {
    for (const ca of tree.cas) {
      io.stdout(`${ca.name}  ${ca.info.subject}  (${ca.info.daysLeft} days left, ${ca.certs.length} issued, ${ca.revocations.length} revoked${ca.keyPath ? '' : ', no key'})  ${ca.certPath}\n`);
    }
  }
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

const subcommands: Record<string, (argv: string[], io: CliIO) => Promise<number>> = { create, list, import: importCmd, revoked };

export const command: CliCommand = subcommandGroup('create and list the workspace certificate authorities', USAGE, subcommands);
