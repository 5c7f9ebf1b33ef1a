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
