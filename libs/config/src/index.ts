export * from './parse-config';
export * from './schemas';
