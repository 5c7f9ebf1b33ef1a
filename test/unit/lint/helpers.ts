import * as path from 'path';
import { Finding, LintFs, LintOptions, lintText, Range } from '../../../src/core/lint';

/** An in-memory LintFs over absolute paths (folders are implied by the files). */
export function memFs(files: Record<string, string | Buffer>): LintFs {
  const norm = new Map<string, string | Buffer>();
  for (const [p, c] of Object.entries(files)) norm.set(path.resolve(p), c);
  const dirs = new Map<string, Set<string>>();
  for (const p of norm.keys()) {
    let child = p;
    for (let d = path.dirname(p); ; d = path.dirname(d)) {
      if (!dirs.has(d)) dirs.set(d, new Set());
      dirs.get(d)!.add(path.basename(child));
      if (path.dirname(d) === d) break;
      child = d;
    }
  }
  return {
    readFile: p => { const c = norm.get(path.resolve(p)); return c === undefined ? undefined : c.toString(); },
    readBytes: p => { const c = norm.get(path.resolve(p)); return c === undefined ? undefined : Buffer.from(c); },
    fileExists: p => norm.has(path.resolve(p)),
    listDir: p => { const s = dirs.get(path.resolve(p)); return s ? [...s] : undefined; },
    isDirectory: p => dirs.has(path.resolve(p)),
  };
}

/** Lints `text` as `file` inside an in-memory tree. */
export function lintMem(file: string, text: string, files: Record<string, string | Buffer> = {}, options: Partial<LintOptions> = {}): Finding[] {
  return lintText(text, { file, fs: memFs({ ...files, [file]: text }), ...options });
}

export function codes(fs: Finding[]): string[] {
  return fs.map(f => f.code);
}

export function only(fs: Finding[], code: string): Finding[] {
  return fs.filter(f => f.code === code);
}

/** The text a range covers in `text`. */
export function textAt(text: string, r: Range): string {
  const lines = text.split('\n');
  if (r.line === r.endLine) return (lines[r.line - 1] ?? '').slice(r.column - 1, r.endColumn - 1);
  const out = [(lines[r.line - 1] ?? '').slice(r.column - 1)];
  for (let l = r.line + 1; l < r.endLine; l++) out.push(lines[l - 1] ?? '');
  out.push((lines[r.endLine - 1] ?? '').slice(0, r.endColumn - 1));
  return out.join('\n');
}

export function pos(r: Range): string {
  return `${r.line}:${r.column}-${r.endLine}:${r.endColumn}`;
}
