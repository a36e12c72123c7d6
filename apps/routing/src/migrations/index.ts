import { RoutingInit1764086400000 } from './1764086400000-RoutingInit';
import { WorkState1764097200000 } from './1764097200000-WorkState';
import { WorkListIndexes1764104400000 } from './1764104400000-WorkListIndexes';
import { Assignment1795634208951 } from './1795634208951-Assignment';
import { AutoReplies1795638234683 } from './1795638234683-AutoReplies';
import { Macros1795638677321 } from './1795638677321-Macros';
import { AutomationRules1795639426758 } from './1795639426758-AutomationRules';
import { AutomationIdle1795640107567 } from './1795640107567-AutomationIdle';
import { BotHandover1795641300000 } from './1795641300000-BotHandover';
import { NumberBot1795641400000 } from './1795641400000-NumberBot';
import { Csat1795642000000 } from './1795642000000-Csat';
import { RevokedBot1795643600000 } from './1795643600000-RevokedBot';

/** Every migration of the routing schema, in order. Never edit one that has been merged. */
export const routingMigrations = [RoutingInit1764086400000, WorkState1764097200000, WorkListIndexes1764104400000, Assignment1795634208951, AutoReplies1795638234683, Macros1795638677321, AutomationRules1795639426758, AutomationIdle1795640107567, BotHandover1795641300000, NumberBot1795641400000, Csat1795642000000, RevokedBot1795643600000];
