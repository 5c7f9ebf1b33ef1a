// `npm start`: a browser VS Code on 127.0.0.1 with this extension loaded and a demo workspace open.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, startCodeServer, makeWorkspace, workbenchUrl } from './codeServer.mjs';

const port = Number(process.env.PORT ?? 8080);
const demo = path.join(ROOT, '.vscode-test/demo-workspace');
if (!fs.existsSync(demo)) fs.cpSync(makeWorkspace(), demo, { recursive: true });
const server = await startCodeServer({ workspace: demo, port });
console.log(`\nmTLS Workbench is running in VS Code at:\n\n  ${workbenchUrl(server, { folder: demo })}\n\nOpen that address in a browser (Ctrl+C stops the server).`);
const stop = async () => { await server.stop(); process.exit(0); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
