export * from './types';
export * from './run';
export * from './cache';
export * from './runStore';
export * from './prompt';
export * from './contract';
export * from './hash';
export * from './modelSpec';
