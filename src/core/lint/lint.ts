// Entry points of the linter: one text (editor), files and folders (CLI, workspace command).
import * as path from 'path';
import { Dialect, Finding, JsonFinding, LintOptions, LintResult, ParsedFile } from './types';
import { detectDialect, isLikelyConfigFile } from './detect';
import { resolveFs } from './fs';
import { isIgnored, LintContext, lineIgnores } from './common';
import { DIALECTS } from './dialects';

const DEFAULT_BUDGET_MS = 5000;

/** Lints one config text (following its includes). Never throws. */
export function lintText(text: string, options: LintOptions): Finding[] {
  return lintTextDetailed(text, options).findings;
}

/** lintText plus the parse tree. */
export function lintTextDetailed(text: string, options: LintOptions): LintResult {
  const file = options.file;
  const dialect: Dialect = options.dialect ?? detectDialect(file, text) ?? 'nginx';
  const settings = options.settings ?? {};
  const ctx: LintContext = {
    fs: resolveFs(options),
    options,
    settings,
    now: settings.now ?? new Date(),
    deadline: Date.now() + (options.timeBudgetMs ?? DEFAULT_BUDGET_MS),
    rootFile: file,
    cache: new Map(),
    files: [],
    texts: new Map(),
    findings: [],
    caCache: new Map(),
    markerCache: new Map(),
    memo: new Map(),
    timedOut: false,
  };
  let root: ParsedFile;
  try {
    root = DIALECTS[dialect].parse(text, file, { deadline: ctx.deadline });
  } catch (err) {
    // Defensive: the parsers are written not to throw; if one does, say so instead of crashing the caller.
    root = { file, dialect, directives: [], comments: [], findings: [], lineCount: 1 };
    ctx.findings.push({ file, line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'error', code: 'parse-error', message: `Internal error while reading this file: ${(err as Error)?.message ?? err}` });
  }
  ctx.cache.set(file, root);
  ctx.texts.set(file, text);
  ctx.files.push(root);
  for (const f of root.findings) ctx.findings.push(f);
  if (options.followIncludes === false) ctx.options = { ...options, resolveInclude: () => [] };
  try {
    DIALECTS[dialect].lint(ctx, root);
  } catch (err) {
    ctx.findings.push({ file, line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'error', code: 'parse-error', message: `Internal error while checking this file: ${(err as Error)?.message ?? err}` });
  }
  if (ctx.timedOut) {
    ctx.findings.push({ file, line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'warning', code: 'parse-error', message: 'Checking stopped at the time limit (the config with its includes is very large); some findings may be missing.' });
  }
  const ignoreCodes = new Set((settings.ignoreCodes ?? []).map(c => c.toLowerCase()));
  const findings = ctx.findings.filter(f => {
    if (ignoreCodes.has(f.code)) return false;
    const li = lineIgnores(ctx, f);
    return !(li && isIgnored(f.code, li));
  });
  findings.sort(compareFindings);
  return { dialect, findings: dedupe(findings), root, files: ctx.files };
}

const SEVERITY_RANK = { error: 0, warning: 1, information: 2 };

/** By file, position, then errors before warnings before information. */
function compareFindings(a: Finding, b: Finding): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column
    || SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
}

function dedupe(fs: Finding[]): Finding[] {
  const seen = new Set<string>();
  return fs.filter(f => {
    const k = `${f.file}\0${f.line}\0${f.column}\0${f.endLine}\0${f.endColumn}\0${f.code}\0${f.data?.caProblem ?? ''}\0${f.code === 'unreadable' ? f.message : ''}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', 'out', 'dist', '.vscode-test']);
const MAIN_NAMES = new Set(['nginx.conf', 'httpd.conf', 'apache2.conf', 'Caddyfile', 'haproxy.cfg']);

/** The config files lintFiles would lint for these paths, main files first, plus unreadable paths. */
export function findConfigFiles(paths: string[], options: Pick<LintOptions, 'fs' | 'readFile' | 'fileExists'> = {}): { files: string[]; unreadable: string[] } {
  const fs = resolveFs(options);
  const files: string[] = [];
  const unreadable: string[] = [];
  const walk = (dir: string, depth: number) => {
    const entries = fs.listDir(dir);
    if (!entries || depth > 12) return;
    for (const e of [...entries].sort()) {
      const p = path.join(dir, e);
      if (fs.isDirectory(p)) {
        if (!SKIP_DIRS.has(e) && !(e.startsWith('.') && e !== '.')) walk(p, depth + 1);
      } else if (isLikelyConfigFile(p) || MAIN_NAMES.has(e) || !e.includes('.')) {
        // Extension-less files (sites-enabled/example, 79-configs/site-1) are kept when their content
        // looks like nginx or Apache (decided in lintFiles).
        files.push(p);
      }
    }
  };
  for (const p0 of paths) {
    const p = path.resolve(p0);
    if (fs.isDirectory(p)) walk(p, 0);
    else if (fs.fileExists(p)) files.push(p);
    else unreadable.push(p);
  }
  const uniq = [...new Set(files)];
  uniq.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return { files: uniq, unreadable };
}

function rank(p: string): number {
  return MAIN_NAMES.has(path.basename(p)) ? 0 : 1;
}

/**
 * Lints files and folders. Folders are scanned for nginx/Apache/Caddy/HAProxy configs (by name, then content); main
 * files (nginx.conf, httpd.conf, apache2.conf) are linted first with their includes, and files they
 * include are not linted again on their own. Unreadable paths become `unreadable` findings.
 */
export async function lintFiles(paths: string[], options: Omit<LintOptions, 'file' | 'dialect'> & { dialect?: Dialect } = {}): Promise<Finding[]> {
  const fs = resolveFs(options);
  const { files, unreadable } = findConfigFiles(paths, options);
  const explicit = new Set(paths.map(p => path.resolve(p)));
  const out: Finding[] = [];
  for (const u of unreadable) {
    const why = fs.problem?.(u) ?? 'it does not exist';
    out.push({ file: u, line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'error', code: 'unreadable', message: `Cannot read ${u}: ${why}.` });
  }
  const covered = new Set<string>();
  for (const f of files) {
    if (covered.has(f)) continue;
    const text = fs.readFile(f);
    if (text === undefined) {
      const why = fs.problem?.(f) ?? 'permission denied or not a text file';
      out.push({ file: f, line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'error', code: 'unreadable', message: `Cannot read ${f}: ${why}.` });
      continue;
    }
    const dialect = options.dialect ?? detectDialect(f, text) ?? (explicit.has(f) ? 'nginx' : undefined);
    if (!dialect) continue; // a *.conf or *.cfg of no known dialect (found by a folder scan)
    const r = lintTextDetailed(text, { ...options, file: f, dialect });
    for (const pf of r.files) covered.add(pf.file);
    out.push(...r.findings);
    await new Promise<void>(res => setImmediate(res));
  }
  out.sort(compareFindings);
  return dedupe(out);
}

export function toJsonFinding(f: Finding): JsonFinding {
  return { file: f.file, line: f.line, column: f.column, endLine: f.endLine, endColumn: f.endColumn, severity: f.severity, code: f.code, message: f.message };
}

/** `file:line:col: severity code: message` */
export function formatFindingText(f: Finding): string {
  return `${f.file}:${f.line}:${f.column}: ${f.severity} ${f.code}: ${f.message}`;
}
