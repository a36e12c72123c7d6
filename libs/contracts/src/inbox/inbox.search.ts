import { z } from 'zod';
import { defineRequest } from '../define';

export const SEARCH_QUERY_MIN = 2;
export const SEARCH_QUERY_MAX = 100;
export const SEARCH_IDS_MAX = 500;

/**
 * Conversations whose contact (profile name, phone `wa_id`, BSUID `user_id`) or any message text contains `q`
 * (case-insensitive, `q` taken literally: `%` and `_` are not wildcards). Ids only, newest activity first: the
 * gateway passes them to routing (ListWorkV1 `ids`), which decides what the caller may see.
 */
export const SearchConversationsV1 = defineRequest({
  subject: 'ingest.search-conversations.v1',
  service: 'ingest',
  request: z.object({
    q: z.string().trim().min(SEARCH_QUERY_MIN).max(SEARCH_QUERY_MAX),
    limit: z.number().int().min(1).max(SEARCH_IDS_MAX).default(SEARCH_IDS_MAX),
  }),
  response: z.object({ ids: z.array(z.string().uuid()) }),
  timeoutMs: 5_000,
});
