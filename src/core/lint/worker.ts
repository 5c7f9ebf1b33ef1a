// Entry of the lint worker thread (bundled as dist/lintWorker.js): lints one text per message, reading
// includes through the texts the editor sent (unsaved documents) and then the disk, so the extension host's
// main thread never runs the parser.
import { parentPort } from 'worker_threads';
import { lintText } from './lint';
import { overlayLintFs } from './fs';
import type { WorkerRequest, WorkerResponse } from './offThread';

parentPort?.on('message', (m: WorkerRequest) => {
  let reply: WorkerResponse;
  try {
    const fs = overlayLintFs(new Map(m.open));
    // As one JSON string: copying a string and JSON.parse cost the receiving thread less than cloning the objects.
    reply = { id: m.id, json: JSON.stringify(lintText(m.text, { ...m.options, fs })) };
  } catch (err) {
    reply = { id: m.id, error: (err as Error)?.message ?? String(err) };
  }
  parentPort!.postMessage(reply);
});
