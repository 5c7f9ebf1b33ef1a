import * as nodeFs from 'fs';
import { LintFs, LintOptions } from './types';

/** Node's synchronous fs behind the LintFs interface; never throws. */
export const nodeLintFs: LintFs = {
  readFile(p) {
    try { return nodeFs.readFileSync(p, 'utf8'); } catch { return undefined; }
  },
  readBytes(p) {
    try { return nodeFs.readFileSync(p); } catch { return undefined; }
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
  };
}
