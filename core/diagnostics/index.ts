/** core/diagnostics: what the adapters (client, server, CLI) use from this folder. */
export { closest } from './suggest';
export { formatSectionOf } from './codes';
