/** core/diagnostics: what the adapters (client, server, CLI) use from this folder. */
export { closest } from './suggest';
export { formatSectionOf } from './codes';
export { capDiagnostics, LEFT_OUT_CODE, MAX_DIAGNOSTICS_PER_DOCUMENT } from './cap';
