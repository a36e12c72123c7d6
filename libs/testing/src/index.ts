export * from './database';
export * from './harness';
export * from './wait';
export * from './ports';
