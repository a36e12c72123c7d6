export * from './bus';
export * from './nats-bus';
export * from './embedded-bus';
export * from './stream-feed';
export * from './errors';
export * from './context';
export * from './messaging.module';
export { busMetrics } from './metrics';
export * from './number-credentials';
