// Entry point of the `.coi` language server (bundled to dist/server.js). The transport
// comes from the command line: `--stdio` (other editors, tests) or `--node-ipc`
// (the VS Code extension, TransportKind.ipc).
import { startServer } from './server';

startServer();
