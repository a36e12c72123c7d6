import type { NoticeView } from '@app/contracts';

/**
 * Another way to reach a person with a notice (email, push, chat…). None is built yet: the in-app list and the
 * WebSocket are the channels. A channel is given every newly stored notice after it is committed; it must not
 * throw for a person it cannot reach, and it runs best effort (the list is the record).
 */
export interface NoticeChannel {
  readonly name: string;
  deliver(userId: string, notice: NoticeView): Promise<void>;
}

/** Multi-provider token: `{ provide: NOTICE_CHANNELS, useValue: [new EmailChannel(…)] }`. */
export const NOTICE_CHANNELS = Symbol('NOTICE_CHANNELS');
