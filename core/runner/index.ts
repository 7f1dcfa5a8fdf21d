export * from './types';
export * from './run';
export * from './cache';
export * from './records';
export * from './prompt';
export * from './contract';
export * from './hash';
export * from './modelSpec';
