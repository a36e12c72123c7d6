import { z } from 'zod';
import { NoticeView } from './notices';

/**
 * A stored notice, pushed live: over core NATS between gateway replicas (no stream; the list is the durable
 * record), each replica sends it to its WebSocket clients signed in as one of `userIds`.
 */
export const UserNoticePushV1 = {
  subject: 'push.user-notice.v1',
  schema: z.object({ userId: z.string().uuid(), notice: NoticeView }),
};
