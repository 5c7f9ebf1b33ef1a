// File primitives for everything that holds keys: atomic no-clobber writes with temporary names the store's
// ignore rules cover, reads of regular files only (with a size cap), owner-only folders, a lock file for
// read-modify-write records, and refusal of symlinked folders inside the store.
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import { MtlsError } from './errors';

export const KEY_MODE = 0o600;
export const DIR_MODE = 0o700;
export const PUBLIC_MODE = 0o644;

/** Default cap for a certificate, key, CSR, bundle or config read from disk: far above any real one. */
export const MAX_READ_BYTES = 4 * 1024 * 1024;

/** Marker in every temporary name this module creates (files and staging folders); see `isTempName`. */
export const TEMP_MARK = '.tmp';

/**
 * A temporary name beside `file` that keeps its extension (`ca.key` -> `.ca.1a2b3c.tmp.key`), so whatever
 * ignore pattern covers the final file (`*.key`, `*.p12`) covers the temporary one too, and a scan that skips
 * hidden entries never mistakes it for a certificate.
 */
export function tempNameFor(file: string): string {
  const ext = path.extname(file);
  const stem = path.basename(file, ext);
  return path.join(path.dirname(file), `.${stem}.${crypto.randomBytes(6).toString('hex')}${TEMP_MARK}${ext}`);
}

/** True for names `tempNameFor` and `makeStagingDir` produce (leftovers of an interrupted write). */
export function isTempName(name: string): boolean {
  return /^\..+\.[0-9a-f]{12}\.tmp(\.[A-Za-z0-9]+)?$/.test(name);
}

/** Test hook: with MTLS_TEST_CRASH_AT=<step> (tests only), the process dies here as if killed, without cleanup. */
export function crashPoint(step: string): void {
  if (process.env.MTLS_TEST_CRASH_AT === step && process.env.MTLS_TEST_HOOKS === '1') process.kill(process.pid, 'SIGKILL');
}

/** Creates a directory (and parents) with owner-only access, like ~/.ssh; tightens an existing one to 0700. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await fs.promises.mkdir(dir, { recursive: true, mode: DIR_MODE });
    const st = await fs.promises.lstat(dir);
    if (!st.isDirectory()) throw new MtlsError('fs-unwritable', `${dir} is not a folder.`, 'Remove or rename it.');
    if ((st.mode & 0o777) !== DIR_MODE && (typeof process.getuid !== 'function' || st.uid === process.getuid())) {
      await fs.promises.chmod(dir, DIR_MODE);
    }
  } catch (err) {
    if (err instanceof MtlsError) throw err;
    throw new MtlsError('fs-unwritable', `Cannot create the folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? err}.`, 'Check that the folder is writable.', { cause: err });
  }
}

/**
 * Throws unless every folder from `root` down to `target` (both included) is a real folder, not a symlink,
 * and `target` resolves inside `root`: writes and deletes never follow a link out of the store.
 * Missing folders are fine (they will be created as real folders).
 */
export async function assertRealFoldersInside(root: string, target: string): Promise<void> {
  const base = path.resolve(root);
  const abs = path.resolve(target);
  const rel = path.relative(base, abs);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new MtlsError('outside-store', `${abs} is outside the store ${base}; nothing was changed.`);
  }
  const parts = rel ? rel.split(path.sep) : [];
  let cur = base;
  for (let i = 0; i <= parts.length; i++) {
    if (i > 0) cur = path.join(cur, parts[i - 1]);
    let st: fs.Stats;
    try {
      st = await fs.promises.lstat(cur);
    } catch {
      return; // the rest does not exist yet
    }
    if (st.isSymbolicLink()) {
      throw new MtlsError('symlink-folder', `${cur} is a symbolic link; the store only writes into and deletes from real folders inside it, so nothing was changed.`, 'Replace the link with a real folder.');
    }
    if (!st.isDirectory()) throw new MtlsError('fs-unwritable', `${cur} is not a folder; nothing was changed.`);
  }
  const real = await fs.promises.realpath(abs).catch(() => abs);
  const realBase = await fs.promises.realpath(base).catch(() => base);
  if (real !== realBase && !real.startsWith(realBase + path.sep)) {
    throw new MtlsError('outside-store', `${abs} resolves outside the store ${base}; nothing was changed.`);
  }
}

export interface WriteOptions {
  mode?: number;
  /** Replace an existing file (default false: keys and certificates are never overwritten). */
  overwrite?: boolean;
}

function writeError(err: unknown, file: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EEXIST') {
    return new MtlsError('exists', `${file} already exists; it was left as it was.`, 'Choose another name or remove the file first.', { cause: err });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') {
    return new MtlsError('fs-unwritable', `Cannot write ${file}: ${code}.`, 'Check that the folder exists and is writable.', { cause: err });
  }
  return err;
}

/** Writes `data` to a new file `file` (never an existing one), flushed, with `mode`. */
async function writeNew(file: string, data: string | Uint8Array, mode: number): Promise<void> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), mode);
    await handle.writeFile(data);
    await handle.chmod(mode); // the umask may have narrowed or widened it
    await handle.sync();
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Writes a file atomically: the content goes to a temporary file in the same folder (a name the store's
 * ignore rules cover), is flushed, and is then linked (no overwrite) or renamed (overwrite) into place, so a
 * crash never leaves half a key and an existing file is never clobbered by accident.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
  const mode = options.mode ?? PUBLIC_MODE;
  const tmp = tempNameFor(file);
  try {
    await writeNew(tmp, data, mode);
    crashPoint(`write:${path.basename(file)}:temp-written`);
    if (options.overwrite) {
      await fs.promises.rename(tmp, file);
    } else {
      // link() fails with EEXIST instead of replacing: the no-overwrite check and the write are one step.
      await fs.promises.link(tmp, file);
      await fs.promises.unlink(tmp);
    }
  } catch (err) {
    await fs.promises.unlink(tmp).catch(() => undefined);
    throw writeError(err, file);
  }
}

/** Writes several files as one unit: if any already exists, nothing is written; if one write fails, the ones written by this call are removed. */
export async function writeFilesAtomic(files: { path: string; data: string | Uint8Array; mode?: number }[]): Promise<void> {
  for (const f of files) {
    if (await exists(f.path)) {
      throw new MtlsError('exists', `${f.path} already exists; nothing was written.`, 'Choose another name or remove the file first.');
    }
  }
  const written: string[] = [];
  try {
    for (const f of files) {
      await writeFileAtomic(f.path, f.data, { mode: f.mode });
      written.push(f.path);
    }
  } catch (err) {
    for (const w of written) await fs.promises.unlink(w).catch(() => undefined);
    throw err;
  }
}

/** A new owner-only staging folder beside `target` (`.<name>.<hex>.tmp`), hidden from scans and covered by the ignore rules of what it holds. */
export async function makeStagingDir(parent: string, name: string): Promise<string> {
  const dir = path.join(parent, `.${name}.${crypto.randomBytes(6).toString('hex')}${TEMP_MARK}`);
  await fs.promises.mkdir(dir, { mode: DIR_MODE });
  return dir;
}

/** Writes files into a (new, private) staging folder, each flushed, with its mode. */
export async function writeStaged(dir: string, files: { name: string; data: string | Uint8Array; mode: number }[]): Promise<void> {
  for (const f of files) await writeNew(path.join(dir, f.name), f.data, f.mode);
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.promises.access(p);
    return true;
  } catch {
    return false;
  }
}

export interface ReadOptions {
  /** Default MAX_READ_BYTES. */
  maxBytes?: number;
}

export interface ReadSyncOptions extends ReadOptions {
  /** Refuse a symbolic link (ELOOP) instead of following it. */
  noFollow?: boolean;
  /** Called with the open file's status before it is checked (so a caller needs no separate stat). */
  onStat?: (st: fs.Stats) => void;
}

/**
 * Reads a regular file (never a device, FIFO, socket or folder), at most `maxBytes`. A FIFO is opened
 * non-blocking, so it cannot hang the reader; `/dev/zero` is refused before a byte is read.
 */
export async function readRegularFile(file: string, options: ReadOptions = {}): Promise<Buffer> {
  const max = options.maxBytes ?? MAX_READ_BYTES;
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    const st = await handle.stat();
    if (st.isDirectory()) throw new MtlsError('fs-unreadable', `Cannot read ${file}: it is a folder.`);
    if (!st.isFile()) throw new MtlsError('not-regular', `Cannot read ${file}: it is not a regular file (a device, pipe or socket).`, 'Give a certificate, key or bundle file.');
    if (st.size > max) throw new MtlsError('too-large', `Cannot read ${file}: it has ${st.size} bytes, more than the ${max} a certificate, key or bundle file may have.`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const { bytesRead } = await handle.read(buf, off, buf.length - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return buf.subarray(0, off);
  } catch (err) {
    if (err instanceof MtlsError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : String(code ?? err);
    throw new MtlsError('fs-unreadable', `Cannot read ${file}: ${reason}.`, undefined, { cause: err });
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * readRegularFile without the thread pool: four system calls of a few microseconds instead of four round
 * trips, for scans of thousands of small files (the caller yields to the event loop between batches).
 */
export function readRegularFileSync(file: string, options: ReadSyncOptions = {}): Buffer {
  const max = options.maxBytes ?? MAX_READ_BYTES;
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) | (options.noFollow ? fs.constants.O_NOFOLLOW ?? 0 : 0));
    const st = fs.fstatSync(fd);
    options.onStat?.(st);
    if (!st.isFile()) throw new MtlsError('not-regular', `Cannot read ${file}: it is not a regular file (a device, pipe or socket).`, 'Give a certificate, key or bundle file.');
    if (st.size > max) throw new MtlsError('too-large', `Cannot read ${file}: it has ${st.size} bytes, more than the ${max} a certificate, key or bundle file may have.`);
    // From Node's shared pool for small files (no allocation per file); only the bytes read are handed out.
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = fs.readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } catch (err) {
    if (err instanceof MtlsError) throw err;
    throw new MtlsError('fs-unreadable', `Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}.`, undefined, { cause: err });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Reads a file with an error that names the file and the reason; regular files only, size-capped. */
export async function readFileOrThrow(file: string, options: ReadOptions = {}): Promise<Buffer> {
  return readRegularFile(file, options);
}

// ---- lock files -------------------------------------------------------------------------------

export interface LockOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** A lock older than this whose owner cannot be seen alive is stale (default 60 s). */
  staleMs?: number;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function lockIsStale(lockPath: string, staleMs: number): Promise<boolean> {
  try {
    const [text, st] = await Promise.all([fs.promises.readFile(lockPath, 'utf8'), fs.promises.stat(lockPath)]);
    const pid = Number(/^(\d+)/.exec(text)?.[1]);
    const host = /host=(.*)$/m.exec(text)?.[1];
    const sameHost = host === undefined || host === require('os').hostname();
    if (sameHost && pid > 0 && !processAlive(pid)) return true; // its owner died (crash, kill -9)
    return Date.now() - st.mtimeMs > staleMs;
  } catch {
    return false; // gone already, or half-written by its owner right now
  }
}

/**
 * Runs `fn` holding `lockPath` (created with O_EXCL; holds the owner's pid). A lock whose owner died or
 * that is older than `staleMs` is taken over. Every read-modify-write of a store record goes through here.
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30000;
  const staleMs = options.staleMs ?? 60000;
  const deadline = Date.now() + timeoutMs;
  const token = `${process.pid}\nhost=${require('os').hostname()}\n${crypto.randomBytes(8).toString('hex')}\n`;
  let delay = 5;
  for (;;) {
    try {
      const h = await fs.promises.open(lockPath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), 0o600);
      try {
        await h.writeFile(token);
      } finally {
        await h.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError(err, lockPath);
    }
    if (await lockIsStale(lockPath, staleMs)) {
      // Take it over by renaming a fresh claim onto it, so two waiters never both win.
      const claim = tempNameFor(lockPath);
      await fs.promises.writeFile(claim, token, { mode: 0o600 });
      const before = await fs.promises.readFile(lockPath, 'utf8').catch(() => undefined);
      if (before !== undefined && (await lockIsStale(lockPath, staleMs)) && (await fs.promises.readFile(lockPath, 'utf8').catch(() => undefined)) === before) {
        await fs.promises.rename(claim, lockPath);
        if ((await fs.promises.readFile(lockPath, 'utf8').catch(() => '')) === token) break;
      } else {
        await fs.promises.unlink(claim).catch(() => undefined);
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new MtlsError('locked', `${lockPath} is held by another mTLS process; gave up after ${Math.round(timeoutMs / 1000)} s.`, 'Wait for it to finish, or remove the file if no mtls process is running.');
    }
    await new Promise(r => setTimeout(r, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await fn();
  } finally {
    // Remove it only while it is still ours.
    if ((await fs.promises.readFile(lockPath, 'utf8').catch(() => '')) === token) await fs.promises.unlink(lockPath).catch(() => undefined);
  }
}
