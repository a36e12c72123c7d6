import { counter } from '@app/platform';

export const ingestMetrics = {
  items: counter('switchboard_ingest_items_total', 'Webhook items applied by ingest, by kind and outcome', ['kind', 'outcome']),
  rejected: counter('switchboard_ingest_rejected_items_total', 'Webhook items rejected by ingest (see ingest.rejected_item)', ['item']),
  unknownNumbers: counter(
    'switchboard_ingest_unknown_numbers_total',
    'phone_number_id values seen for the first time (auto-registered or kept unregistered)',
    ['outcome'],
  ),
  batches: counter('switchboard_ingest_webhook_batches_total', 'Webhook receipt batches (several receipts in one transaction) by outcome', ['outcome']),
  media: counter('switchboard_ingest_media_downloads_total', 'Media download attempts by outcome', ['outcome']),
};

/** `entry[0].changes[1].value.messages[2]` → `messages`; `$` → `body`. */
export function itemKindOfPath(path: string): string {
  const m = /\.([a-z_]+)\[\d+\]$/.exec(path) ?? /\.([a-z_]+)$/.exec(path);
  if (path === '$' || path.startsWith('$.')) return 'body';
  return m ? m[1] : 'change';
}
