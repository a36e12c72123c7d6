import { NotificationsInit1764086400000 } from './1764086400000-NotificationsInit';
import { OutboundQueue1764100000000 } from './1764100000000-OutboundQueue';

/** Every migration of the notifications schema, in order. Never edit one that has been merged. */
export const notificationsMigrations = [NotificationsInit1764086400000, OutboundQueue1764100000000];
