import { GatewayInit1764086400000 } from './1764086400000-GatewayInit';
import { WebhookReceipts1764090000000 } from './1764090000000-WebhookReceipts';
import { PeopleAndAuth1764093600000 } from './1764093600000-PeopleAndAuth';
import { Labels1764108000000 } from './1764108000000-Labels';
import { IntegratorPlatform1795634124512 } from './1795634124512-IntegratorPlatform';
import { UserNotices1795634964578 } from './1795634964578-UserNotices';
import { CannedResponses1795638903662 } from './1795638903662-CannedResponses';
import { ConversationWatchers1795639217088 } from './1795639217088-ConversationWatchers';
import { WebhookRejections1795640000000 } from './1795640000000-WebhookRejections';

/** Every migration of the gateway schema, in order. Never edit one that has been merged. */
export const gatewayMigrations = [GatewayInit1764086400000, WebhookReceipts1764090000000, PeopleAndAuth1764093600000, Labels1764108000000, IntegratorPlatform1795634124512, UserNotices1795634964578, CannedResponses1795638903662, ConversationWatchers1795639217088, WebhookRejections1795640000000];
