// The `coi` dispatcher in-process, with stand-in commands: argument parsing, help,
// errors and exit codes that every command shares.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../cli/cli';
import type { CommandEntry } from '../../cli/command';
import { CliError } from '../../cli/errors';
import type { CliIO } from '../../cli/io';
import { globToRegExp } from '../../cli/files';

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], registry: CommandEntry[], env: Record<string, string> = {}): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), cwd: process.cwd(), env, readStdin: () => Promise.resolve(Buffer.alloc(0)) };
  const code = await runCli(argv, io, registry);
  return { code, stdout, stderr };
}

const seen: { positionals: readonly string[]; format?: string; verbose: boolean; tags: readonly string[] }[] = [];
const echo: CommandEntry = {
  name: 'echo',
  summary: 'Echo its arguments.',
  load: () =>
    Promise.resolve({
      name: 'echo',
      usage: 'coi echo [options] WORDS...',
      options: [
        { name: 'format', kind: 'value', choices: ['text', 'json'], description: 'Output format.' },
        { name: 'verbose', short: 'v', kind: 'flag', description: 'Say more.' },
        { name: 'tag', kind: 'value', valueName: 'TAG', description: 'A tag (repeatable).' },
      ],
      run: ({ args, io }) => {
        seen.push({ positionals: args.positionals, format: args.value('format'), verbose: args.has('verbose'), tags: args.values('tag') });
        io.stdout(args.positionals.join(' ') + '\n');
        return Promise.resolve(0);
      },
    }),
};
const failing: CommandEntry = {
  name: 'fail',
  summary: 'Fails.',
  load: () =>
    Promise.resolve({
      name: 'fail',
      usage: 'coi fail',
      options: [{ name: 'internal', kind: 'flag', description: 'Fail like a bug.' }],
      run: ({ args }) => {
        if (args.has('internal')) throw new TypeError('cannot read properties of undefined');
        throw new CliError('the input has 3 errors');
      },
    }),
};
const registry = [echo, failing];

void test('parses flags, values, --name=value, repeated options and -- ', async () => {
  seen.length = 0;
  const result = await run(['echo', 'a', '--format=json', '-v', '--tag', 'x', 'b', '--tag', 'y', '--', '--not-an-option'], registry);
  assert.equal(result.code, 0);
  assert.deepEqual(seen[0], { positionals: ['a', 'b', '--not-an-option'], format: 'json', verbose: true, tags: ['x', 'y'] });
  assert.equal(result.stdout, 'a b --not-an-option\n');
});

void test('usage errors exit 2 and name the option, with a suggestion', async () => {
  const unknown = await run(['echo', '--formt', 'json'], registry);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, "coi echo: Unknown option '--formt' (did you mean --format?).\nRun 'coi echo --help' for usage.\n");
  const choice = await run(['echo', '--format', 'xml'], registry);
  assert.equal(choice.code, 2);
  assert.match(choice.stderr, /--format must be one of text, json \(got 'xml'\)/);
  const missing = await run(['echo', '--format'], registry);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Option --format needs a value/);
  const flagValue = await run(['echo', '--verbose=yes'], registry);
  assert.equal(flagValue.code, 2);
  assert.match(flagValue.stderr, /--verbose takes no value/);
});

void test("a negative number after an option is its value (checked as --name=-1 is), while any other word starting with '-' still goes after '='", async () => {
  for (const value of ['-1', '-0.5', '-.5', '-2e-4']) {
    seen.length = 0;
    const result = await run(['echo', '--tag', value, '-v', 'a'], registry);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(seen[0], { positionals: ['a'], format: undefined, verbose: true, tags: [value] });
  }
  // Not numbers: an option, or a word for '=' (`--tag=-x`).
  const word = await run(['echo', '--tag', '-x'], registry);
  assert.equal(word.code, 2);
  assert.match(word.stderr, /Option --tag needs a value \(TAG\)\. A value that starts with '-' goes after '=': --tag=-x\./);
  const flag = await run(['echo', '--tag', '-v'], registry);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /Option --tag needs a value \(TAG\)\.\n/);
  // A short option named by a digit keeps `-1` an option.
  const digit: CommandEntry = { name: 'digit', summary: 'A -1 flag.', load: () => Promise.resolve({ name: 'digit', usage: 'coi digit', options: [{ name: 'one', short: '1', kind: 'flag', description: 'One.' }, { name: 'n', kind: 'value', valueName: 'N', description: 'N.' }], run: () => Promise.resolve(0) }) };
  const ambiguous = await run(['digit', '--n', '-1'], [digit]);
  assert.equal(ambiguous.code, 2);
  assert.match(ambiguous.stderr, /Option --n needs a value \(N\)\.\n/);
});

void test('an unknown command exits 2 with a suggestion', async () => {
  const result = await run(['ecko'], registry);
  assert.equal(result.code, 2);
  assert.equal(result.stderr, "coi: Unknown command 'ecko' (did you mean 'echo'?). Run 'coi --help' for the list.\n");
});

void test('help lists the commands; each command has its own help', async () => {
  const main = await run(['--help'], registry);
  assert.equal(main.code, 0);
  assert.match(main.stdout, /^ {2}echo {2}Echo its arguments\.$/m);
  assert.match(main.stdout, /^ {2}fail {2}Fails\.$/m);
  const none = await run([], registry);
  assert.equal(none.code, 2);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /Usage: coi COMMAND/);
  for (const argv of [['echo', '--help'], ['help', 'echo'], ['echo', '-h']]) {
    const help = await run(argv, registry);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^coi echo — Echo its arguments\.\n\nUsage: coi echo \[options\] WORDS\.\.\.\n/);
    assert.match(help.stdout, /--format text\|json +Output format\./);
    assert.match(help.stdout, /-v, --verbose +Say more\./);
    assert.match(help.stdout, /-h, --help +Show this help\./);
  }
});

void test('a command error prints its message, never a stack trace', async () => {
  const result = await run(['fail'], registry);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, 'coi fail: the input has 3 errors\n');
});

void test('an internal error exits 70 without a stack trace, unless COI_DEBUG=1', async () => {
  const quiet = await run(['fail', '--internal'], registry);
  assert.equal(quiet.code, 70);
  assert.equal(quiet.stderr, 'coi: internal error: cannot read properties of undefined\nThis is a bug in coi; set COI_DEBUG=1 to see the stack trace.\n');
  const debug = await run(['fail', '--internal'], registry, { COI_DEBUG: '1' });
  assert.equal(debug.code, 70);
  assert.match(debug.stderr, /TypeError: cannot read properties of undefined\n\s+at /);
});

void test('globs: ** spans folders, * and ? stay within one, {a,b} alternates', () => {
  const cases: [string, string, boolean][] = [
    ['**/*.coi', 'a.coi', true],
    ['**/*.coi', 'x/y/a.coi', true],
    ['*.coi', 'x/a.coi', false],
    ['x/*.coi', 'x/a.coi', true],
    ['x/**', 'x/y/z.txt', true],
    ['?.coi', 'ab.coi', false],
    ['{a,b}.coi', 'b.coi', true],
    ['{a,b}.coi', 'c.coi', false],
    ['a+b(1).coi', 'a+b(1).coi', true],
    ['a**b.coi', 'a/x/b.coi', false],
  ];
  for (const [glob, path, expected] of cases) assert.equal(globToRegExp(glob).test(path), expected, `${glob} vs ${path}`);
});
