// `npm run bench`: runs every test/bench/*.bench.mjs in turn (each prints its own figures and ratio).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
let failed = 0;
for (const f of fs.readdirSync(dir).filter(f => f.endsWith('.bench.mjs') && (!filter || f.includes(filter))).sort()) {
  console.log(`\n== ${f}`);
  const r = spawnSync(process.execPath, [path.join(dir, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
