export * from './common-tables';
export * from './processed-event';
export * from './outbox';
export * from './database.module';
export * from './cursor';
