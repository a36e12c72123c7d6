import { parseConfig } from '@app/config';
import { NotificationsConfigSchema } from './config';

describe('notifications config', () => {
  it('refuses a send lease shorter than a Graph call, naming the setting', () => {
    expect(() => parseConfig(NotificationsConfigSchema, { GRAPH_API_TIMEOUT_MS: '30000', OUTBOUND_LEASE_MS: '20000' })).toThrow(
      /OUTBOUND_LEASE_MS: must be longer than GRAPH_API_TIMEOUT_MS \+ 1000/,
    );
    expect(parseConfig(NotificationsConfigSchema, { GRAPH_API_TIMEOUT_MS: '10000', OUTBOUND_LEASE_MS: '30000' }).OUTBOUND_LEASE_MS).toBe(30000);
  });
});
