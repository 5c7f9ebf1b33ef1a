import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import { MtlsError } from './errors';

export const KEY_MODE = 0o600;
export const DIR_MODE = 0o700;
export const PUBLIC_MODE = 0o644;

/** Creates a directory (and parents) with owner-only access, like ~/.ssh. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await fs.promises.mkdir(dir, { recursive: true, mode: DIR_MODE });
  } catch (err) {
    throw new MtlsError('fs-unwritable', `Cannot create the folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? err}.`, 'Check that the folder is writable.', { cause: err });
  }
}

export interface WriteOptions {
  mode?: number;
  /** Refuse to replace an existing file (the default: keys and certificates are never overwritten). */
  overwrite?: boolean;
}

/**
 * Writes a file atomically: the content goes to a temporary file in the same folder, is flushed, and is
 * then linked (no overwrite) or renamed (overwrite) into place, so a crash never leaves half a key and an
 * existing file is never clobbered by accident.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
  const mode = options.mode ?? PUBLIC_MODE;
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(tmp, 'wx', mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.promises.chmod(tmp, mode); // the umask may have narrowed or widened it
    if (options.overwrite) {
      await fs.promises.rename(tmp, file);
    } else {
      // link() fails with EEXIST instead of replacing: the no-overwrite check and the write are one step.
      await fs.promises.link(tmp, file);
      await fs.promises.unlink(tmp);
    }
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.promises.unlink(tmp).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new MtlsError('exists', `${file} already exists; it was left as it was.`, 'Choose another name or remove the file first.', { cause: err });
    }
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT') {
      throw new MtlsError('fs-unwritable', `Cannot write ${file}: ${code}.`, 'Check that the folder exists and is writable.', { cause: err });
    }
    throw err;
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

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.promises.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Reads a file with an error that names the file and the reason, instead of a bare ENOENT. */
export async function readFileOrThrow(file: string): Promise<Buffer> {
  try {
    return await fs.promises.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : String(code ?? err);
    throw new MtlsError('fs-unreadable', `Cannot read ${file}: ${reason}.`, undefined, { cause: err });
  }
}
