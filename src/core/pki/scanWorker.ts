// Entry of the helper thread of a large store scan (bundled as dist/scanWorker.js): reads and parses a share
// of the store's certificate files, or checks a share of signatures, for the thread that scans the store.
import { parentPort } from 'worker_threads';
import { scanFiles, scannedShare, verifyShare } from './scan';
import type { HelperRequest, HelperResponse } from './scan';

parentPort?.on('message', (m: HelperRequest) => {
  try {
    if (m.kind === 'scan') {
      parentPort!.postMessage({ id: m.id, result: scannedShare(scanFiles(m.files, m.dir)) } satisfies HelperResponse);
    } else {
      parentPort!.postMessage({ id: m.id, result: verifyShare(m) } satisfies HelperResponse);
    }
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: (err as Error)?.message ?? String(err) } satisfies HelperResponse);
  }
});
