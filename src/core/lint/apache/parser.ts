import { ParsedFile } from '../types';

export function parseApache(text: string, file: string): ParsedFile {
  return { file, dialect: 'apache', directives: [], comments: [], findings: [], lineCount: text.split('\n').length };
}
