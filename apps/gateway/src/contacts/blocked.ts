import { ConflictException } from '@nestjs/common';
import { ListContactsV1, type ConversationSummary } from '@app/contracts';
import type { Bus } from '@app/messaging';

/**
 * Nothing is sent to a blocked contact: refused with 409 before anything is queued. Checked by the conversation's
 * contact (replies, integrator sends into a conversation) or by the WhatsApp id sent to (integrator sends).
 */
export async function assertNotBlocked(bus: Bus, target: { summary?: ConversationSummary; to?: string }): Promise<void> {
  let blocked = target.summary?.contact.blocked === true;
  if (!blocked && target.to) blocked = (await bus.request(ListContactsV1, { key: target.to, blocked: true, limit: 1 })).items.length > 0;
  if (blocked)
    throw new ConflictException('the contact is blocked: nothing can be sent to them until they are unblocked (POST /api/v1/contacts/:id/unblock)');
}
