export * from './define';
export * from './streams';
export * from './errors';
export * from './system/system.requests';
