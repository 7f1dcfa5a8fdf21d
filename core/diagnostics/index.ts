/** core/diagnostics: what the adapters (client, server, CLI) use from this folder. */
export { closest } from './suggest';
export { formatSectionOf } from './codes';
export { DiagnosticCap, ALWAYS_KEPT, LEFT_OUT_CODE, leftOutNote, MAX_DIAGNOSTICS_PER_DOCUMENT, NO_DIAGNOSTICS, totalOf } from '../syntax/diagnosticCap';
export type { SeverityCounts } from '../syntax/diagnosticCap';
