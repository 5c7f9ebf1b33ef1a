import { Dialect, ParsedFile } from './types';
import { DIALECTS } from './dialects';
import { detectDialect } from './detect';

/** Parses one file (no includes followed). Never throws: syntax problems become parse-error findings. */
export function parseConfig(text: string, options: { file: string; dialect?: Dialect }): ParsedFile {
  const dialect = options.dialect ?? detectDialect(options.file, text) ?? 'nginx';
  try {
    return DIALECTS[dialect].parse(text, options.file);
  } catch (err) {
    // Defensive: the parsers are written not to throw.
    return { file: options.file, dialect, directives: [], comments: [], lineCount: 1, findings: [{ file: options.file, line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'error', code: 'parse-error', message: `Internal error while reading this file: ${(err as Error)?.message ?? err}` }] };
  }
}
