import { SlaInit1764086400000 } from './1764086400000-SlaInit';

/** Every migration of the sla schema, in order. Never edit one that has been merged. */
export const slaMigrations = [SlaInit1764086400000];
