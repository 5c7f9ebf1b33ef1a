import { Dialect, ParsedFile } from './types';
import { parseNginx } from './nginx/parser';
import { parseApache } from './apache/parser';
import { detectDialect } from './detect';

/** Parses one file (no includes followed). Never throws: syntax problems become parse-error findings. */
export function parseConfig(text: string, options: { file: string; dialect?: Dialect }): ParsedFile {
  const dialect = options.dialect ?? detectDialect(options.file, text) ?? 'nginx';
  return dialect === 'apache' ? parseApache(text, options.file) : parseNginx(text, options.file);
}
