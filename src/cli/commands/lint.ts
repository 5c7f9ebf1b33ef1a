// mtls lint PATH... [--format json|text]: checks nginx, Apache, Caddy and HAProxy configs for Leg 2.
import * as path from 'path';
import { CliCommand, parseCommandArgs } from '../io';
import { MtlsError } from '../../core/errors';
import { formatFindingText, lintFiles, toJsonFinding, Finding } from '../../core/lint';

const usage = `Usage: mtls lint PATH... [--format text|json] [--ignore CODE]... [--ignore-server NAME]...

Checks nginx, Apache, Caddy and HAProxy configs for Leg 2 (Cloudflare -> origin client certificates): client
verification off or unchecked, no or wrong CA, invalid values, missing server certificates.
PATH is a file or a folder; folders are scanned for configs, and main files (nginx.conf, apache2.conf,
httpd.conf, Caddyfile, haproxy.cfg) are checked with everything they include (crt-lists too).

Options:
  --format text|json     text (default): file:line:col: severity code: message
                         json: an array of {file, line, column, endLine, endColumn, severity, code, message}
  --ignore CODE          do not report this rule code (repeatable)
  --ignore-server NAME   no Leg 2 findings for this server name, wildcards allowed (repeatable)
  --no-ca-files          do not read the CA files the configs name

Exit status: 1 when there is any error-level finding (including unreadable paths), else 0; 2 on bad usage.
Silence one site with a comment in its block: # mtls-lint: ignore leg2-no-client-auth  (or: ignore all)
`;

function shown(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

export const command: CliCommand = {
  summary: 'Check nginx/Apache/Caddy/HAProxy configs for Leg 2 (client certificate) mistakes',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, {
      format: { type: 'string', default: 'text' },
      ignore: { type: 'string', multiple: true },
      'ignore-server': { type: 'string', multiple: true },
      'no-ca-files': { type: 'boolean' },
    }, true);
    const format = values.format as string;
    if (format !== 'text' && format !== 'json') throw new MtlsError('usage', `--format must be text or json, not "${format}".`);
    if (positionals.length === 0) throw new MtlsError('usage', 'Give at least one file or folder to check.');
    const paths = positionals.map(p => path.resolve(io.cwd, p));
    const findings: Finding[] = await lintFiles(paths, {
      settings: {
        ignoreCodes: (values.ignore as string[] | undefined) ?? [],
        ignoreServerNames: (values['ignore-server'] as string[] | undefined) ?? [],
        checkCaFiles: !values['no-ca-files'],
        workspaceRoot: io.cwd,
      },
    });
    const out = findings.map(f => ({ ...f, file: shown(f.file, io.cwd) }));
    if (format === 'json') {
      io.stdout(JSON.stringify(out.map(toJsonFinding), null, 2) + '\n');
    } else {
      for (const f of out) io.stdout(formatFindingText(f) + '\n');
      const n = (s: string) => out.filter(f => f.severity === s).length;
      const files = new Set(out.map(f => f.file)).size;
      io.stdout(out.length === 0
        ? 'mtls lint: no findings.\n'
        : `mtls lint: ${n('error')} error(s), ${n('warning')} warning(s), ${n('information')} information in ${files} file(s).\n`);
    }
    return findings.some(f => f.severity === 'error') ? 1 : 0;
  },
};
