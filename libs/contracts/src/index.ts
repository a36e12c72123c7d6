export * from './define';
export * from './streams';
export * from './errors';
export * from './system/system.requests';
export * from './webhooks/webhook.events';
export * from './inbox/inbox.events';
export * from './inbox/inbox.requests';
export * from './outbound/outbound.events';
