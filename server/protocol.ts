/**
 * What the language server and the extension share, declared once and imported by both
 * sides (client/ imports this module; it must stay free of runtime dependencies).
 */

/** The configuration section the server pulls per resource with `workspace/configuration`. */
export const CONFIGURATION_SECTION = 'coi';

/** The settings the server reads (`coi.*`), as pulled for one document. */
export interface CoiServerSettings {
  readonly diagnostics: {
    /** Report diagnostics at all. */
    readonly enable: boolean;
    /** Push model only: the longest wait after the last edit before checking (ms); fast checks wait less (diagnostics.ts pushDelayMs). */
    readonly debounceMs: number;
  };
  readonly composability: {
    /** Run the static composability analysis on every edge of the chain. */
    readonly enable: boolean;
    readonly warnings: {
      /** A step produces one language and the next one expects another. */
      readonly languageMismatch: boolean;
      /** A list fed into a step that expects one item. */
      readonly listToItem: boolean;
      /** JSON fed into a free-text step. */
      readonly jsonToText: boolean;
      /** A classification-like step that is not the last one. */
      readonly classificationNotLast: boolean;
      /** Free text fed to a step that needs JSON or code. */
      readonly structuredInput: boolean;
    };
  };
}

export const DEFAULT_SETTINGS: CoiServerSettings = {
  diagnostics: { enable: true, debounceMs: 200 },
  composability: {
    enable: true,
    warnings: { languageMismatch: true, listToItem: true, jsonToText: true, classificationNotLast: true, structuredInput: true },
  },
};

/** The language id of `.coi` documents. */
export const LANGUAGE_ID = 'coi';
