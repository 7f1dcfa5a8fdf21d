/**
 * Shared by the tests of the checks made before a run (usedProfiles.test.ts, testProfiles.test.ts):
 * an OpenAI profile block whose line numbers their assertions count on, and the CLI run with the
 * keys those profiles name.
 */
import { join } from 'node:path';
import { coiAsync, type CliResult } from './cliProcess';

/** Lines 1 to 7 of an OpenAI profile block on the server at `baseURL`: its `api_key_env` is on the fifth. */
export function openaiProfileBlock(baseURL: string, name: string, keyVariable: string): string {
  return `model ${name} {\n  provider openai\n  base_url "${baseURL}"\n  model "tiny"\n  api_key_env "${keyVariable}"\n}\n\n`;
}

/** `coi ARGS --no-cache` in `dir`, with $COI_TEST_KEY (the test server's key) and an OpenAI key set, no $COI_MODEL. */
export function coiWithKeys(dir: string, args: readonly string[]): Promise<CliResult> {
  return coiAsync([...args, '--no-cache'], { cwd: dir, env: { COI_MODEL: '', COI_TEST_KEY: 'sk-test', OPENAI_API_KEY: 'sk-openai-0123456789', COI_CACHE_DIR: join(dir, 'cache') } });
}
