/**
 * The OpenAI-protocol test server in a process of its own (benchmarks: a real
 * server never shares the client's thread). By default it answers at once with
 * the last 200 characters of the last user message; with a JSON argument
 * `{"text": "...", "delayMs": 50}` it answers every request with that text after
 * that delay (a server of fixed latency). Prints `{"baseURL": ...}` as one line
 * on standard output when it listens; stops when standard input closes.
 */
import { startOpenAITestServer } from './openaiServer';
import { echoReply } from './echoReply';

interface FixedReply {
  readonly text: string;
  readonly delayMs: number;
}

function fixedReply(argument: string | undefined): FixedReply | undefined {
  if (argument === undefined) return undefined;
  const parsed = JSON.parse(argument) as Partial<FixedReply>;
  return { text: parsed.text ?? '', delayMs: parsed.delayMs ?? 0 };
}

const fixed = fixedReply(process.argv[2]);

void startOpenAITestServer({
  reply: fixed === undefined ? ({ messages }) => echoReply(messages) : () => new Promise<string>((resolve) => setTimeout(() => resolve(fixed.text), fixed.delayMs)),
}).then((server) => {
  process.stdout.write(`${JSON.stringify({ baseURL: server.baseURL })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
});
