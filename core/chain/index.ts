/** core/chain: what the adapters (client, server, CLI) use from this folder. */
export type { Chain, ChainInput, ChainStep, ChainTest, ModelProfile } from './model';
export { baseUrlSecretProblem } from './baseUrl';
export { apiKeyHeaderProblem } from './apiKeyHeader';
