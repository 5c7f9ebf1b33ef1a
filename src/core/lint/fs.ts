import * as nodeFs from 'fs';
import * as path from 'path';
import { LintFs, LintOptions } from './types';

/** Largest config or CA file the linter reads (a config is kilobytes; a runaway file must not fill memory). */
export const MAX_FILE_BYTES = 8 * 1024 * 1024;

export type ReadResult = { bytes: Buffer; error?: undefined } | { bytes?: undefined; error: string };

/**
 * Reads a regular file of at most `maxBytes`, never blocking on a FIFO or reading a device: the path is
 * checked with stat (symlinks followed), opened non-blocking, checked again on the open descriptor, and
 * read no further than the cap. Never throws.
 */
export function readRegularFile(p: string, maxBytes = MAX_FILE_BYTES): ReadResult {
  let st: nodeFs.Stats;
  try { st = nodeFs.statSync(p); } catch (err) { return { error: describeError(err) }; }
  const kind = notRegular(st);
  if (kind) return { error: kind };
  if (st.size > maxBytes) return { error: `it is ${st.size} bytes, more than the ${maxBytes}-byte limit for a config file` };
  let fd: number | undefined;
  try {
    fd = nodeFs.openSync(p, nodeFs.constants.O_RDONLY | (nodeFs.constants.O_NONBLOCK ?? 0));
    const st2 = nodeFs.fstatSync(fd);
    const kind2 = notRegular(st2);
    if (kind2) return { error: kind2 };
    const buf = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(st2.size, 0) + 1));
    let n = 0;
    for (;;) {
      if (n === buf.length) break;
      const r = nodeFs.readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    if (n > maxBytes) return { error: `it is larger than the ${maxBytes}-byte limit for a config file` };
    return { bytes: buf.subarray(0, n) };
  } catch (err) {
    return { error: describeError(err) };
  } finally {
    if (fd !== undefined) try { nodeFs.closeSync(fd); } catch { /* closed */ }
  }
}

function notRegular(st: nodeFs.Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'it is a folder';
  if (st.isFIFO()) return 'it is a named pipe (FIFO), not a regular file';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'it is a device, not a regular file';
  if (st.isSocket()) return 'it is a socket, not a regular file';
  return 'it is not a regular file';
}

function describeError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'it does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ELOOP') return 'too many levels of symbolic links';
  return (err as Error)?.message ?? String(err);
}

/** Why a path that exists cannot be read as a config (not a regular file, too large), or undefined. */
export function regularFileProblem(p: string, maxBytes = MAX_FILE_BYTES): string | undefined {
  let st: nodeFs.Stats;
  try { st = nodeFs.statSync(p); } catch { return undefined; }
  if (st.isDirectory()) return undefined;
  return notRegular(st) ?? (st.size > maxBytes ? `it is ${st.size} bytes, more than the ${maxBytes}-byte limit for a config file` : undefined);
}

/** Node's synchronous fs behind the LintFs interface: regular files only, size-capped; never throws, never blocks. */
export const nodeLintFs: LintFs = {
  readFile(p) {
    const r = readRegularFile(p);
    return r.bytes ? r.bytes.toString('utf8') : undefined;
  },
  readBytes(p) {
    return readRegularFile(p).bytes;
  },
  fileExists(p) {
    try { return nodeFs.statSync(p).isFile(); } catch { return false; }
  },
  listDir(p) {
    try { return nodeFs.readdirSync(p); } catch { return undefined; }
  },
  isDirectory(p) {
    try { return nodeFs.statSync(p).isDirectory(); } catch { return false; }
  },
  problem(p) {
    return regularFileProblem(p);
  },
};

/** The options' fs with every member filled in (options.fs first, then the shorthands, then Node). */
export function resolveFs(options: Pick<LintOptions, 'fs' | 'readFile' | 'fileExists'>): LintFs {
  const given = options.fs ?? {};
  const readFile = given.readFile ?? options.readFile ?? nodeLintFs.readFile;
  const fileExists = given.fileExists ?? options.fileExists ?? (given.readFile || options.readFile ? (p: string) => readFile(p) !== undefined : nodeLintFs.fileExists);
  const custom = !!(given.readFile || options.readFile);
  return {
    readFile,
    readBytes: given.readBytes ?? (custom ? (p: string) => { const t = readFile(p); return t === undefined ? undefined : Buffer.from(t, 'utf8'); } : nodeLintFs.readBytes),
    fileExists,
    listDir: given.listDir ?? nodeLintFs.listDir,
    isDirectory: given.isDirectory ?? nodeLintFs.isDirectory,
    problem: given.problem ?? (given.listDir ? undefined : nodeLintFs.problem),
  };
}

/**
 * A LintFs that reads the given texts first (an editor's unsaved documents, by normalized absolute path),
 * then the disk through nodeLintFs (regular files only, size-capped).
 */
export function overlayLintFs(texts: Map<string, string>): Pick<LintFs, 'readFile' | 'fileExists' | 'problem'> {
  const key = (p: string) => path.normalize(p);
  return {
    readFile: p => texts.get(key(p)) ?? nodeLintFs.readFile(p),
    fileExists: p => texts.has(key(p)) || nodeLintFs.fileExists(p),
    problem: p => (texts.has(key(p)) ? undefined : nodeLintFs.problem!(p)),
  };
}
