// Linting off the main thread: one worker thread runs the parser and the rules, so an editor stays
// responsive however large or hostile the config is. The caller's thread only copies the text over and the
// findings back. A lint that overruns its budget ends the worker (a new one starts for the next request)
// and comes back as a finding instead of blocking anything.
import { Worker } from 'worker_threads';
import type { Finding, LintOptions } from './types';

/** What crosses to the worker: the text, the options that can be copied (no functions), open documents. */
export interface WorkerRequest {
  id: number;
  text: string;
  options: Omit<LintOptions, 'fs' | 'readFile' | 'fileExists' | 'resolveInclude'>;
  /** Unsaved texts of open documents by normalized absolute path, read before the disk. */
  open: [string, string][];
}

export type WorkerResponse = { id: number; json: string; error?: undefined } | { id: number; json?: undefined; error: string };

export class LintWorker {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (f: Finding[]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  /** `script`: the worker entry (dist/lintWorker.js in the extension, out/src/core/lint/worker.js in tests). */
  constructor(private readonly script: string, private readonly budgetMs = 10000) {}

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.script);
    w.unref();
    w.on('message', (m: WorkerResponse) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(JSON.parse(m.json) as Finding[]);
    });
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = undefined;
      for (const [id, p] of this.pending) { clearTimeout(p.timer); p.reject(err); this.pending.delete(id); }
    };
    w.on('error', fail);
    w.on('exit', code => fail(new Error(`the lint worker stopped (exit code ${code})`)));
    this.worker = w;
    return w;
  }

  /** Lints `text` in the worker. Rejects when the worker fails; a lint past the budget resolves to one finding. */
  lint(text: string, options: WorkerRequest['options'], open: Map<string, string> = new Map()): Promise<Finding[]> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise<Finding[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        // The worker is stuck in this text: end it; the next lint starts a fresh one.
        if (this.worker === w) this.worker = undefined;
        void w.terminate();
        resolve([{ file: options.file, line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'warning', code: 'parse-error', message: `Checking stopped after ${this.budgetMs} ms (the config with its includes is too large or complex); no findings are shown for it.` }]);
      }, this.budgetMs);
      this.pending.set(id, { resolve, reject, timer });
      const req: WorkerRequest = { id, text, options, open: [...open] };
      w.postMessage(req);
    });
  }

  dispose(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    void this.worker?.terminate();
    this.worker = undefined;
  }
}
