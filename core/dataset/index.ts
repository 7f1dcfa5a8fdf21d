/**
 * Chain datasets: training examples read from and written to every format the
 * fine-tuning engines take (see ./types.ts for the example, ./read.ts and ./write.ts
 * for the formats).
 */
export * from './types';
export * from './read';
export * from './write';
export * from './prepare';
export * from './sources';
export * from './compose';
