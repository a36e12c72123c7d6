import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { counter } from '@app/platform';
import { WebhookRejectionRepository, type RejectionView } from './webhook-rejection.repository';

const deadLetters = counter('switchboard_webhook_dead_letters_total', 'Signed webhooks refused whole (4xx) by whether their dead letter was stored', [
  'status',
  'result',
]);

/** How long a refusal's answer waits for its dead letter; a slower insert goes on without it (and is logged if it fails). */
export const DEAD_LETTER_WAIT_MS = 2_000;

/**
 * Dead letters of the gateway: a webhook whose signature is valid (so it comes from Meta, or someone holding an app
 * secret) but which is refused whole with a 4xx is kept in `gateway.webhook_rejected` with its reason, so nothing
 * Meta sent is lost without a trace. Recording never fails the caller: the refusal's 4xx is answered whatever
 * happens here (an insert error is logged and counted as `result="failed"`).
 */
@Injectable()
export class WebhookDeadLetter {
  private readonly log = new Logger('WhatsAppWebhook');

  constructor(
    private readonly ds: DataSource,
    private readonly rejections: WebhookRejectionRepository,
  ) {}

  /** Resolves once the row is stored, the insert failed, or DEAD_LETTER_WAIT_MS passed; never rejects. */
  async record(appIndex: number | null, httpStatus: number, reason: string, body: Buffer): Promise<void> {
    const id = randomUUID();
    const stored = this.rejections.insert(this.ds.manager, { id, appIndex, httpStatus, reason, body }).then(
      () => void deadLetters.inc({ status: String(httpStatus), result: 'stored' }),
      (err: unknown) => {
        deadLetters.inc({ status: String(httpStatus), result: 'failed' });
        this.log.error(`refused webhook (${httpStatus}: ${reason}, ${body.length} bytes) not dead-lettered: ${(err as Error)?.message ?? err}`);
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, DEAD_LETTER_WAIT_MS)));
    await Promise.race([stored, late]);
    clearTimeout(timer);
  }

  /** Newest first, for admins. */
  async newest(limit: number): Promise<{ items: RejectionView[] }> {
    return { items: await this.rejections.listNewest(this.ds.manager, limit) };
  }
}
