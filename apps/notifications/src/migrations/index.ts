import { NotificationsInit1764086400000 } from './1764086400000-NotificationsInit';

/** Every migration of the notifications schema, in order. Never edit one that has been merged. */
export const notificationsMigrations = [NotificationsInit1764086400000];
