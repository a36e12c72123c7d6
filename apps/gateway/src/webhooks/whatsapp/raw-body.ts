import type { INestApplication } from '@nestjs/common';
import express from 'express';

export const WHATSAPP_WEBHOOK_PATH = '/webhooks/whatsapp';

/**
 * The webhook needs the exact bytes Meta signed, whatever the content type, so its body is read raw before
 * Nest's JSON parser (which skips a body already read). Must run before `app.init()`.
 */
export function useWebhookRawBody(app: INestApplication, maxBytes: number): void {
  app.use(WHATSAPP_WEBHOOK_PATH, express.raw({ type: () => true, limit: maxBytes }));
}
