// mtls lint PATH... [--format text|json|sarif] [--fix|--diff]: checks nginx, Apache, Caddy and HAProxy configs
// for Leg 2, and applies the editor's quick-fixes from the command line.
import * as path from 'path';
import { CliCommand, parseCommandArgs } from '../io';
import { MtlsError } from '../../core/errors';
import { formatFindingText, lintFiles, toJsonFinding, Finding } from '../../core/lint';
import { planFixes, toSarif, unifiedDiff, writeFileAtomic } from '../../core/lint/apply';

const usage = `Usage: mtls lint PATH... [--format text|json|sarif] [--ignore CODE]... [--ignore-server NAME]...
       mtls lint PATH... --fix [--ca-file SERVER_PATH]     apply each finding's preferred fix in place
       mtls lint PATH... --diff [--ca-file SERVER_PATH]    print the fixes as a unified diff, write nothing

Checks nginx, Apache, Caddy and HAProxy configs for Leg 2 (Cloudflare -> origin client certificates): client
verification off or unchecked, no or wrong CA, invalid values, missing server certificates.
PATH is a file or a folder; folders are scanned for configs, and main files (nginx.conf, apache2.conf,
httpd.conf, Caddyfile, haproxy.cfg) are checked with everything they include (crt-lists too).

Options:
  --format text|json|sarif
                         text (default): file:line:col: severity code: message
                         json: an array of {file, line, column, endLine, endColumn, severity, code, message}
                         sarif: SARIF 2.1.0 (rules with help text, results with locations) for code scanning
  --fix                  apply each finding's preferred quick-fix (the editor's), re-lint, and say what
                         changed; files are replaced atomically and keep their mode
  --diff                 like --fix, but print a unified diff and write nothing
  --ca-file PATH         the client CA's path ON THE SERVER, written by fixes that add one (default:
                         /etc/nginx/cloudflare/origin-pull-ca.pem, /etc/apache2/cloudflare/origin-pull-ca.pem,
                         /etc/caddy/cloudflare/origin-pull-ca.pem, /etc/haproxy/cloudflare/origin-pull-ca.pem)
  --ignore CODE          do not report this rule code (repeatable)
  --ignore-server NAME   no Leg 2 findings for this server name, wildcards allowed (repeatable)
  --no-ca-files          do not read the CA files the configs name

Exit status: 1 when there is any error-level finding (including unreadable paths; with --fix/--diff: left
after the fixes), else 0; 2 on bad usage.
Silence one site with a comment in its block: # mtls-lint: ignore leg2-no-client-auth  (or: ignore all)
`;

function shown(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

export const command: CliCommand = {
  summary: 'check nginx/Apache/Caddy/HAProxy configs for Leg 2 (client certificate) mistakes',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, {
      format: { type: 'string', default: 'text' },
      ignore: { type: 'string', multiple: true },
      'ignore-server': { type: 'string', multiple: true },
      'no-ca-files': { type: 'boolean' },
      fix: { type: 'boolean' },
      diff: { type: 'boolean' },
      'ca-file': { type: 'string' },
    }, true);
    const format = values.format as string;
    if (format !== 'text' && format !== 'json' && format !== 'sarif') throw new MtlsError('usage', `--format must be text or json, or sarif for code scanning, not "${format}".`);
    if (positionals.length === 0) throw new MtlsError('usage', 'Give at least one file or folder to check.');
    if (values.fix && values.diff) throw new MtlsError('usage', 'Use --fix (write the fixes) or --diff (show them), not both.');
    const caFile = values['ca-file'] as string | undefined;
    if (caFile !== undefined && !caFile.startsWith('/')) throw new MtlsError('usage', `--ca-file is the CA's absolute path on the server, e.g. /etc/nginx/cloudflare/origin-pull-ca.pem (got "${caFile}").`);
    const paths = positionals.map(p => path.resolve(io.cwd, p));
    const settings = {
      ignoreCodes: (values.ignore as string[] | undefined) ?? [],
      ignoreServerNames: (values['ignore-server'] as string[] | undefined) ?? [],
      checkCaFiles: !values['no-ca-files'],
      workspaceRoot: io.cwd,
    };
    let findings: Finding[];
    if (values.fix || values.diff) {
      const run = await planFixes(paths, { settings, caFile });
      for (const c of run.changes) {
        if (values.diff) {
          io.stdout(unifiedDiff(shown(c.file, io.cwd), c.before, c.after));
        } else {
          writeFileAtomic(c.file, c.after);
          for (const f of c.fixes) io.stderr(`fixed ${shown(c.file, io.cwd)}:${f.line}: ${f.code}: ${f.title}\n`);
        }
      }
      const n = run.changes.reduce((k, c) => k + c.fixes.length, 0);
      io.stderr(run.changes.length === 0
        ? 'mtls lint: nothing to fix automatically.\n'
        : `mtls lint: ${values.diff ? 'would apply' : 'applied'} ${n} fix(es) in ${run.changes.length} file(s)${values.diff ? ' (nothing written)' : ''}.\n`);
      findings = run.remaining;
      if (values.diff) return findings.some(f => f.severity === 'error') ? 1 : 0;
    } else {
      findings = await lintFiles(paths, { settings });
    }
    const out = findings.map(f => ({ ...f, file: shown(f.file, io.cwd) }));
    if (format === 'sarif') {
      io.stdout(JSON.stringify(toSarif(findings, io.cwd), null, 2) + '\n');
    } else if (format === 'json') {
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
