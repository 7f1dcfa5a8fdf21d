/**
 * The OpenAI-protocol test server in a process of its own, answering at once
 * with the last 200 characters of the last user message (benchmarks: a real
 * server never shares the client's thread). Prints `{"baseURL": ...}` as one
 * line on standard output when it listens; stops when standard input closes.
 */
import { startOpenAITestServer } from './openaiServer';
import { echoReply } from './echoReply';

void startOpenAITestServer({ reply: ({ messages }) => echoReply(messages) }).then((server) => {
  process.stdout.write(`${JSON.stringify({ baseURL: server.baseURL })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
});
