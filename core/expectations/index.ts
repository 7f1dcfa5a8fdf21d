export * from './evaluate';
export * from './runTest';
