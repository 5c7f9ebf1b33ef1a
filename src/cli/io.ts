import { parseArgs, ParseArgsConfig } from 'util';
import { MtlsError, describeError } from '../core/errors';

/** What a CLI command touches of the outside world; tests pass their own. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Asks for a secret on a terminal, without echo; undefined when there is no terminal. */
  promptSecret?: (question: string) => Promise<string>;
}

export interface CliCommand {
  /** One line for `mtls --help`. */
  summary: string;
  usage: string;
  run(argv: string[], io: CliIO): Promise<number>;
}

/** util.parseArgs with strict checking and a usage error the user can read. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new MtlsError('usage', describeError(err));
  }
}

export function requireOption<V>(value: V | undefined, name: string): V {
  if (value === undefined || value === '') throw new MtlsError('usage', `Missing required option --${name}.`);
  return value;
}

export function printJson(io: CliIO, value: unknown): void {
  io.stdout(JSON.stringify(value, null, 2) + '\n');
}

/** A command made of subcommands (`mtls ca create`, `mtls cert issue`...): dispatches on the first word. */
export function subcommandGroup(summary: string, usage: string, subcommands: Record<string, (argv: string[], io: CliIO) => Promise<number>>): CliCommand {
  return {
    summary,
    usage,
    async run(argv, io) {
      const [sub, ...rest] = argv;
      const fn = sub && Object.prototype.hasOwnProperty.call(subcommands, sub) ? subcommands[sub] : undefined;
      if (!fn) throw new MtlsError('usage', sub ? `Unknown subcommand "${sub}".` : 'Missing subcommand.');
      return fn(rest, io);
    },
  };
}

/** The environment variable that holds the CA key passphrase for scripts and CI. */
export const CA_PASSWORD_ENV = 'MTLS_CA_PASSWORD';

/**
 * The passphrase for a new CA key: MTLS_CA_PASSWORD, else typed twice on the terminal (no echo), else
 * undefined (no terminal, or an empty answer): the caller then writes a plaintext key and says so.
 */
export async function newCaPassphrase(io: CliIO): Promise<string | undefined> {
  const fromEnv = io.env[CA_PASSWORD_ENV];
  if (fromEnv) return fromEnv;
  if (!io.promptSecret) return undefined;
  const first = await io.promptSecret('Passphrase for the CA key (empty: store it unencrypted): ');
  if (!first) return undefined;
  const again = await io.promptSecret('Repeat the passphrase: ');
  if (again !== first) throw new MtlsError('no-passphrase', 'The two passphrases differ; nothing was written.');
  return first;
}

/** Reads the passphrase of an encrypted CA key the same way for every command that signs: MTLS_CA_PASSWORD, else the terminal. */
export function caPassphraseProvider(io: CliIO): (ca: { name: string; keyPath: string }) => Promise<string | undefined> {
  let cached: string | undefined;
  return async ca => {
    const fromEnv = io.env[CA_PASSWORD_ENV];
    if (fromEnv) return fromEnv;
    if (cached !== undefined) return cached;
    if (!io.promptSecret) {
      throw new MtlsError('no-passphrase', `The key of the CA "${ca.name}" is encrypted: set ${CA_PASSWORD_ENV}, or run on a terminal to type the passphrase. Nothing was written.`);
    }
    cached = await io.promptSecret(`Passphrase for the key of the CA "${ca.name}": `);
    return cached;
  };
}
