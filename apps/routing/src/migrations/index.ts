import { RoutingInit1764086400000 } from './1764086400000-RoutingInit';

/** Every migration of the routing schema, in order. Never edit one that has been merged. */
export const routingMigrations = [RoutingInit1764086400000];
