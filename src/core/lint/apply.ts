// What `mtls lint --fix` / `--diff` / `--format sarif` do, as pure functions over the linter: apply each
// finding's preferred quick-fix (the same fixes the editor offers), re-lint, repeat; unified diffs; SARIF 2.1.0.
import * as fs from 'fs';
import * as path from 'path';
import { Dialect, Finding, LintOptions, LintSettings } from './types';
import { lintFiles } from './lint';
import { detectDialect } from './detect';
import { nodeLintFs, readRegularFile } from './fs';
import { RULES } from './rules';
import { serverCaPath } from './serverCa';
import { applyEdits, computeFixes, Fix } from './fixes';

export interface AppliedFix {
  code: string;
  title: string;
  /** Line of the finding in the text the fix was applied to. */
  line: number;
}

export interface FileChange {
  file: string;
  before: string;
  after: string;
  fixes: AppliedFix[];
}

export interface FixRun {
  changes: FileChange[];
  /** Findings of the fixed texts (what is left). */
  remaining: Finding[];
}

export interface FixOptions {
  settings?: LintSettings;
  /** CA path on the server written by fixes that add a CA (default: the conventional one per dialect). */
  caFile?: string;
}

const SEVERITY_ORDER = { error: 0, warning: 1, information: 2 };

/** Most fixes applied in one run (each is followed by a re-lint; a fix that does not converge stops here). */
const MAX_ROUNDS = 200;

/** The preferred fix of a finding, when --fix may apply it without asking. */
function preferredFix(text: string, f: Finding, options: FixOptions): Fix | undefined {
  // Replacing a CA file the config names is a choice only its owner makes, except for the Cloudflare
  // Origin CA, which is never right in that place.
  if (f.code === 'leg2-ca-file' && f.data?.caProblem !== 'cloudflare-origin-ca') return undefined;
  const dialect: Dialect = f.data?.dialect ?? detectDialect(f.file, text) ?? 'nginx';
  const ca = { path: serverCaPath(dialect, options.caFile ?? options.settings?.serverCaPath), label: 'origin-pull CA', kind: 'origin-pull' as const };
  return computeFixes(text, f, { cas: [ca], dialect }).find(x => x.isPreferred && x.kind !== 'ignore');
}

/**
 * Lints `paths`, applies each finding's preferred fix in memory (one at a time, re-linting after each, since
 * a fix moves what follows it), and returns the changed texts. Nothing is written here.
 */
export async function planFixes(paths: string[], options: FixOptions = {}): Promise<FixRun> {
  const texts = new Map<string, string>();
  const originals = new Map<string, string>();
  const applied = new Map<string, AppliedFix[]>();
  const read = (p: string) => texts.get(path.resolve(p)) ?? nodeLintFs.readFile(p);
  const lintOptions: Omit<LintOptions, 'file'> = {
    settings: options.settings,
    fs: { readFile: read, fileExists: p => texts.has(path.resolve(p)) || nodeLintFs.fileExists(p), problem: nodeLintFs.problem },
  };
  const tried = new Set<string>();
  let findings = await lintFiles(paths, lintOptions);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let progressed = false;
    // Errors first: a config the server refuses is fixed before advice about a working one.
    const ordered = [...findings].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
    for (const f of ordered) {
      const key = `${f.file}\0${f.code}\0${f.message}`;
      if (tried.has(key)) continue;
      tried.add(key);
      const text = read(f.file);
      if (text === undefined) continue;
      const fix = preferredFix(text, f, options);
      if (!fix) continue;
      const after = applyEdits(text, fix.edits);
      if (after === text) continue;
      if (!originals.has(f.file)) originals.set(f.file, text);
      texts.set(path.resolve(f.file), after);
      const list = applied.get(f.file) ?? [];
      list.push({ code: f.code, title: fix.title, line: f.line });
      applied.set(f.file, list);
      progressed = true;
      break;
    }
    if (!progressed) break;
    findings = await lintFiles(paths, lintOptions);
  }
  const changes: FileChange[] = [];
  for (const [file, before] of originals) {
    const after = texts.get(path.resolve(file))!;
    if (after !== before) changes.push({ file, before, after, fixes: applied.get(file) ?? [] });
  }
  changes.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { changes, remaining: findings };
}

/**
 * Replaces a file's content atomically (a temporary file in the same folder, renamed over it), keeping
 * its mode. Refuses anything but a regular file.
 */
export function writeFileAtomic(file: string, text: string): void {
  const st = fs.statSync(file);
  if (!st.isFile()) throw new Error(`${file} is not a regular file`);
  const current = readRegularFile(file);
  if (current.error) throw new Error(`${file}: ${current.error}`);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.mtls-${process.pid}-${Date.now()}.tmp`);
  try {
    fs.writeFileSync(tmp, text, { mode: st.mode & 0o7777, flag: 'wx' });
    fs.chmodSync(tmp, st.mode & 0o7777);
    try { fs.chownSync(tmp, st.uid, st.gid); } catch { /* not ours to give away: keep the owner we have */ }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

// ------------------------------------------------------------------------------------------- diff

type Op = { kind: ' ' | '-' | '+'; line: string };

/** Line edit script between a and b (Myers' O((N+M)D) algorithm). */
function diffLines(a: string[], b: string[]): Op[] {
  const n = a.length, m = b.length, max = n + m;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let done = false;
  for (let d = 0; d <= max && !done; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[max + k - 1] < v[max + k + 1]) ? v[max + k + 1] : v[max + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) { x++; y++; }
      v[max + k] = x;
      if (x >= n && y >= m) { done = true; break; }
    }
  }
  const ops: Op[] = [];
  let x = n, y = m;
  for (let d = trace.length - 1; d > 0; d--) {
    const vv = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && vv[max + k - 1] < vv[max + k + 1]) ? k + 1 : k - 1;
    const px = vv[max + prevK], py = px - prevK;
    while (x > px && y > py) { ops.push({ kind: ' ', line: a[--x] }); y--; }
    if (x === px) ops.push({ kind: '+', line: b[--y] }); else ops.push({ kind: '-', line: a[--x] });
  }
  while (x > 0 && y > 0) { ops.push({ kind: ' ', line: a[--x] }); y--; }
  return ops.reverse();
}

/** A unified diff (3 lines of context) between two texts of `file`, labelled a/<shown> and b/<shown>. */
export function unifiedDiff(shown: string, before: string, after: string): string {
  const split = (t: string) => { const ls = t.split('\n'); if (ls[ls.length - 1] === '') ls.pop(); return ls; };
  const ops = diffLines(split(before), split(after));
  const out = [`--- a/${shown}`, `+++ b/${shown}`];
  const C = 3;
  let i = 0;
  let aLine = 1, bLine = 1;
  const aAt: number[] = [], bAt: number[] = [];
  for (const op of ops) { aAt.push(aLine); bAt.push(bLine); if (op.kind !== '+') aLine++; if (op.kind !== '-') bLine++; }
  while (i < ops.length) {
    if (ops[i].kind === ' ') { i++; continue; }
    const start = Math.max(0, i - C);
    let end = i;
    // extend the hunk while changes are within 2*C lines of each other
    for (;;) {
      while (end < ops.length && ops[end].kind !== ' ') end++;
      let next = end;
      while (next < ops.length && ops[next].kind === ' ' && next - end < 2 * C) next++;
      if (next < ops.length && ops[next].kind !== ' ') { end = next; continue; }
      break;
    }
    const stop = Math.min(ops.length, end + C);
    const slice = ops.slice(start, stop);
    const aCount = slice.filter(o => o.kind !== '+').length;
    const bCount = slice.filter(o => o.kind !== '-').length;
    out.push(`@@ -${aCount ? aAt[start] : aAt[start] - 1},${aCount} +${bCount ? bAt[start] : bAt[start] - 1},${bCount} @@`);
    for (const o of slice) out.push(o.kind + o.line);
    i = stop;
  }
  return out.join('\n') + '\n';
}

// ------------------------------------------------------------------------------------------- SARIF

const SARIF_LEVEL = { error: 'error', warning: 'warning', information: 'note' } as const;

/**
 * SARIF 2.1.0 for code scanning: every rule with its help text, every finding with its physical location
 * (paths relative to `root`, the %SRCROOT% base).
 */
export function toSarif(findings: Finding[], root: string): object {
  const codes = Object.keys(RULES) as (keyof typeof RULES)[];
  const rules = codes.map(code => {
    const r = RULES[code];
    return {
      id: code,
      name: code.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase()),
      shortDescription: { text: r.title },
      fullDescription: { text: r.explanation },
      help: { text: `${r.explanation}\n\n${r.docs}`, markdown: `${r.explanation}\n\n[Documentation](${r.docs})` },
      helpUri: r.docs,
      defaultConfiguration: { level: SARIF_LEVEL[r.severity] },
    };
  });
  const rootUri = 'file://' + (path.resolve(root).split(path.sep).map(encodeURIComponent).join('/') + '/').replace(/^file:\/\/(?!\/)/, 'file:///');
  const results = findings.map(f => {
    const rel = path.relative(root, f.file);
    const inside = rel && !rel.startsWith('..') && !path.isAbsolute(rel);
    const uri = (inside ? rel : path.resolve(f.file)).split(path.sep).map(encodeURIComponent).join('/');
    return {
      ruleId: f.code,
      ruleIndex: codes.indexOf(f.code),
      level: SARIF_LEVEL[f.severity],
      message: { text: f.message },
      locations: [{
        physicalLocation: {
          artifactLocation: inside ? { uri, uriBaseId: '%SRCROOT%' } : { uri: 'file://' + uri },
          region: { startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: Math.max(f.endColumn, f.line === f.endLine ? f.column + 1 : 1) },
        },
      }],
    };
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'mtls lint', informationUri: 'https://developers.cloudflare.com/ssl/origin-configuration/authenticated-origin-pull/', rules } },
      originalUriBaseIds: { '%SRCROOT%': { uri: rootUri } },
      results,
    }],
  };
}
