export * from './logger';
export * from './metrics';
export * from './health';
export * from './exception.filter';
export * from './platform.module';
export * from './bootstrap';
export * from './service-core';
