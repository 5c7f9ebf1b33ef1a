// Entry point (extensionTestsPath) of the smoke suite that runs against the installed .vsix.
import { runSuite } from '../suite/index';

export function run(): Promise<void> {
  return runSuite(__dirname);
}
