import { ParsedFile } from '../types';

export function parseNginx(text: string, file: string): ParsedFile {
  return { file, dialect: 'nginx', directives: [], comments: [], findings: [], lineCount: text.split('\n').length };
}
