// Include globs and path resolution, over an injectable fs.
import * as path from 'path';
import { LintFs } from './types';

const GLOB_CHARS = /[*?[]/;

export function hasGlob(p: string): boolean {
  return GLOB_CHARS.test(p);
}

/** fnmatch-style segment pattern (`*`, `?`, `[...]`, `[!...]`) to a RegExp; `*` does not match a leading dot. */
function segmentRegex(seg: string): RegExp {
  let re = '^';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = seg.indexOf(']', i + 2);
      if (close < 0) { re += '\\['; continue; }
      let body = seg.slice(i + 1, close);
      if (body[0] === '!' || body[0] === '^') body = '^' + body.slice(1);
      re += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = close;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

/**
 * Expands an absolute glob to existing files, sorted like glob(3). Directories matched by the last
 * segment are expanded to the files inside them when `dirs` is 'recurse' (Apache), dropped otherwise.
 */
export function expandGlob(pattern: string, fs: LintFs, dirs: 'recurse' | 'drop', limit = 5000, skipped?: Skipped[]): string[] {
  const abs = path.resolve(pattern);
  const root = path.parse(abs).root;
  const segs = abs.slice(root.length).split(/[\\/]+/).filter(s => s.length > 0);
  let current: string[] = [root];
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const next: string[] = [];
    if (!hasGlob(seg)) {
      for (const c of current) next.push(path.join(c, seg));
    } else {
      const re = segmentRegex(seg);
      for (const c of current) {
        const entries = fs.listDir(c);
        if (!entries) continue;
        for (const e of [...entries].sort()) {
          if (e.startsWith('.') && !seg.startsWith('.')) continue;
          if (re.test(e)) next.push(path.join(c, e));
        }
      }
    }
    current = next;
    if (current.length > limit) current = current.slice(0, limit);
  }
  const out: string[] = [];
  for (const c of current) {
    if (fs.fileExists(c)) out.push(c);
    else if (fs.isDirectory(c)) { if (dirs === 'recurse') for (const f of listFilesRecursive(c, fs, limit, skipped)) out.push(f); }
    else noteProblem(c, fs, skipped);
  }
  return out;
}

/** A path an include matched that is not read (a FIFO, a device, too large), with the reason. */
export interface Skipped {
  path: string;
  why: string;
}

function noteProblem(p: string, fs: LintFs, skipped?: Skipped[]): void {
  if (!skipped || !fs.problem || skipped.length >= 100) return;
  const why = fs.problem(p);
  if (why) skipped.push({ path: p, why });
}

export function listFilesRecursive(dir: string, fs: LintFs, limit = 5000, skipped?: Skipped[]): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 16 || out.length >= limit) return;
    const entries = fs.listDir(d);
    if (!entries) return;
    for (const e of [...entries].sort()) {
      const p = path.join(d, e);
      if (fs.fileExists(p)) out.push(p);
      else if (fs.isDirectory(p)) walk(p, depth + 1);
      else noteProblem(p, fs, skipped);
      if (out.length >= limit) return;
    }
  };
  walk(dir, 0);
  return out;
}

/** True when `child` is `parent` or inside it. */
export function isUnder(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Resolves a path or glob as written in a config to existing files.
 * - relative: tried against each base in order; the first base where it matches wins;
 * - absolute: used as is when it is inside one of the bases' trees or exists; otherwise its trailing
 *   components are tried under the bases (a workspace copy of /etc/nginx has `sites-enabled/...` where
 *   the config says `/etc/nginx/sites-enabled/...`).
 * Returns the matches and the candidate paths tried (first = the "natural" resolution).
 */
export function resolvePattern(written: string, bases: string[], fs: LintFs, dirs: 'recurse' | 'drop', skipped?: Skipped[]): { files: string[]; natural: string } {
  const glob = hasGlob(written);
  const match = (p: string): string[] => {
    if (glob) return expandGlob(p, fs, dirs, 5000, skipped);
    if (fs.fileExists(p)) return [p];
    if (dirs === 'recurse' && fs.isDirectory(p)) return listFilesRecursive(p, fs, 5000, skipped);
    noteProblem(p, fs, skipped);
    return [];
  };
  const uniqBases = [...new Set(bases.filter(b => !!b).map(b => path.resolve(b)))];
  if (!path.isAbsolute(written)) {
    for (const b of uniqBases) {
      const files = match(path.join(b, written));
      if (files.length) return { files, natural: path.join(b, written) };
    }
    return { files: [], natural: path.join(uniqBases[0] ?? '.', written) };
  }
  const abs = path.resolve(written);
  if (uniqBases.some(b => isUnder(abs, b))) {
    return { files: match(abs), natural: abs };
  }
  const direct = match(abs);
  // Prefer the workspace's copy of the tree when there is one.
  const parts = abs.slice(path.parse(abs).root.length).split(/[\\/]+/);
  for (let drop = 1; drop < parts.length - 1; drop++) {
    const suffix = parts.slice(drop).join('/');
    for (const b of uniqBases) {
      const files = match(path.join(b, suffix));
      if (files.length) return { files, natural: path.join(b, suffix) };
    }
  }
  return { files: direct, natural: abs };
}
