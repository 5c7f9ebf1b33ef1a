// One way to register a command: workspace trust is checked where the command needs it, a person who
// stops (UserCancelled) ends it quietly, and every other error is logged and shown the same way.
import * as vscode from 'vscode';
import { describeError, UserCancelled } from '../core/errors';
import { requireTrust } from './context';

export interface MtlsCommandOptions {
  /** The action, as the trust warning names it (e.g. "Creating a CA"); absent when the command is safe untrusted. */
  trust?: string;
  /**
   * Hand errors to the caller (scripts and tests rely on the rejection) instead of showing them; they are
   * still logged. The command then reports to the person itself.
   */
  rethrow?: boolean;
}

let log: vscode.LogOutputChannel | undefined;

/** The extension's log, where command errors go; set once at activation. */
export function setCommandLog(channel: vscode.LogOutputChannel): void {
  log = channel;
}

export function registerMtlsCommand<A extends unknown[], R>(
  id: string,
  options: MtlsCommandOptions,
  handler: (...args: A) => R | Thenable<R>,
): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: A): Promise<R | undefined> => {
    if (options.trust && !requireTrust(options.trust)) return undefined;
    try {
      return await handler(...args);
    } catch (err) {
      if (err instanceof UserCancelled) return undefined;
      const message = describeError(err);
      log?.error(`${id}: ${message}`);
      if (options.rethrow) throw err;
      void vscode.window.showErrorMessage(`mTLS: ${message}`);
      return undefined;
    }
  });
}
