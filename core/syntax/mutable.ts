/** A readonly model type with its fields writable, for the builders that fill it in step by step. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
