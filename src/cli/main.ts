// `mtls`: the command-line face of src/core, for CI pipelines and scripts.
import * as readline from 'readline';
import { CliCommand, CliIO } from './io';
import { MtlsError, UserCancelled, describeError } from '../core/errors';
import { version as VERSION } from '../../package.json';

// Each command group is loaded on demand, so `mtls lint` never pays for the Cloudflare SDK.
const groups: Record<string, () => Promise<{ command: CliCommand }>> = {
  ca: () => import('./commands/ca'),
  cert: () => import('./commands/cert'),
  lint: () => import('./commands/lint'),
  probe: () => import('./commands/probe'),
  edge: () => import('./commands/edge'),
  cloudflare: () => import('./commands/cloudflare'),
};

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [group, ...rest] = argv;
  if (!group || group === '--help' || group === '-h' || group === 'help') {
    const lines = ['mtls: mutual TLS behind Cloudflare, from the command line', '', 'Usage: mtls <command> [options]', ''];
    for (const [name, load] of Object.entries(groups)) {
      const { command } = await load();
      lines.push(`  ${name.padEnd(11)} ${command.summary}`);
    }
    lines.push('', 'Run `mtls <command> --help` for its options.');
    io.stdout(lines.join('\n') + '\n');
    return group ? 0 : 2;
  }
  if (group === '--version' || group === '-v') {
    io.stdout(VERSION + '\n');
    return 0;
  }
  const load = groups[group];
  if (!load) {
    io.stderr(`mtls: unknown command "${group}". Run \`mtls --help\` for the list.\n`);
    return 2;
  }
  const { command } = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(command.usage.trimEnd() + '\n');
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    io.stderr(`mtls ${group}: ${describeError(err)}\n`);
    if (err instanceof MtlsError && err.code === 'usage') io.stderr(command.usage.trimEnd() + '\n');
    if (io.env.MTLS_DEBUG && err instanceof Error && err.stack) io.stderr(err.stack + '\n');
    return err instanceof MtlsError && err.code === 'usage' ? 2 : 1;
  }
}

/** Reads a line from the terminal without echoing it. */
function promptSecret(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const output = rl as unknown as { _writeToOutput: (s: string) => void };
    process.stderr.write(question);
    output._writeToOutput = () => undefined; // no echo of the secret
    rl.question('', answer => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    rl.on('SIGINT', () => { rl.close(); reject(new UserCancelled()); });
  });
}

if (require.main === module) {
  // A reader that stops early (`mtls cert list --json | head`) is not a failure of mtls: stop quietly, as
  // Unix tools do when their pipe closes, instead of an unhandled EPIPE stack trace. A closed stderr only
  // loses the messages; the command goes on and its exit code still says how it went.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  const io: CliIO = {
    stdout: t => process.stdout.write(t),
    stderr: t => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    promptSecret: process.stdin.isTTY ? promptSecret : undefined,
  };
  main(process.argv.slice(2), io).then(
    code => { process.exitCode = code; },
    err => { process.stderr.write(`mtls: ${describeError(err)}\n`); process.exitCode = 1; },
  );
}
