import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { SANDBOX_CONFIG, type SandboxConfig } from '../config';
import { newWamid, SandboxState, type Fault } from '../graph/sandbox-state';
import { WebhookSender } from '../webhooks/webhook-sender';
import { customerPage } from './customer-page';

const WA_ID = /^\d{5,20}$/;
const FAULTS = ['5xx', 'timeout', '130429', '131056'];

/**
 * The sandbox's own endpoints (not part of the Graph API): play a customer, run scenarios, inject faults,
 * inspect what was accepted. Bodies are free-form JSON; these answer 400 with a message on bad input.
 */
@Controller('sandbox')
export class ConsoleController {
  constructor(
    private readonly state: SandboxState,
    private readonly webhooks: WebhookSender,
    @Inject(SANDBOX_CONFIG) private readonly cfg: SandboxConfig,
  ) {}

  private defaultNumber(): string {
    return this.cfg.SANDBOX_PHONE_NUMBER_IDS[0] ?? '106540352242922';
  }

  @Get()
  page(@Res() res: Response) {
    res
      .status(200)
      .setHeader('content-security-policy', "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
      .type('html')
      .send(customerPage(this.defaultNumber()));
  }

  /** Messages the business sent that the sandbox accepted (tests and the customer page). */
  @Get('sent')
  sent(@Query('phoneNumberId') phoneNumberId?: string, @Query('to') to?: string) {
    const messages = this.state.listSent({ phoneNumberId, to });
    return {
      count: messages.length,
      rejected: Object.fromEntries(this.state.rejected),
      injected: Object.fromEntries(this.state.injected),
      messages: messages.slice(-500).map((m) => ({ ...m, acceptedAt: new Date(m.acceptedAt).toISOString() })),
      acceptedAtMs: messages.map((m) => m.acceptedAt),
    };
  }

  /** Read receipts and typing indicators the business sent (what the customer's phone shows). */
  @Get('reads')
  reads(@Query('phoneNumberId') phoneNumberId?: string) {
    return { items: this.state.listReads(phoneNumberId).map((r) => ({ ...r, at: new Date(r.at).toISOString() })) };
  }

  /** Write to the business as a customer: `{ text }` or a whole message object (`{ type: 'image', image: {...} }`). */
  @Post('customers/:waId/messages')
  @HttpCode(200)
  async customerWrites(@Param('waId') waId: string, @Body() body: Record<string, unknown>) {
    if (!WA_ID.test(waId)) throw new BadRequestException('waId must be 5-20 digits');
    const phoneNumberId = typeof body?.phoneNumberId === 'string' ? body.phoneNumberId : this.defaultNumber();
    if (!this.state.knownNumber(phoneNumberId)) throw new BadRequestException('phoneNumberId is not a sandbox number');
    const name = typeof body?.name === 'string' && body.name.trim() ? body.name.trim().slice(0, 100) : `Customer ${waId.slice(-4)}`;
    const message = buildCustomerMessage(waId, body ?? {});
    const delivered = await this.webhooks.customerMessage(phoneNumberId, { waId, name }, message);
    return { waMessageId: message.id, phoneNumberId, delivered };
  }

  /** Many customers write at once (demos and benchmarks). */
  @Post('scenarios/burst')
  @HttpCode(200)
  async burst(@Body() body: { customers?: unknown; phoneNumberId?: unknown; text?: unknown }) {
    const n = Number(body?.customers ?? 50);
    if (!Number.isInteger(n) || n < 1 || n > 5_000) throw new BadRequestException('customers must be an integer 1..5000');
    const phoneNumberId = typeof body?.phoneNumberId === 'string' ? body.phoneNumberId : this.defaultNumber();
    if (!this.state.knownNumber(phoneNumberId)) throw new BadRequestException('phoneNumberId is not a sandbox number');
    const base = 15550100000;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const waId = String(base + i);
        const text = typeof body?.text === 'string' ? body.text : `Hello from customer ${i + 1}`;
        return this.webhooks.customerMessage(phoneNumberId, { waId, name: `Burst customer ${i + 1}` }, buildCustomerMessage(waId, { text }));
      }),
    );
    return { customers: n, delivered: results.filter(Boolean).length };
  }

  /** `{ share: { '5xx': 0.1, timeout: 0.05, '130429': 0.1, '131056': 0.1 }, script: [{ to?, fault }] }` replaces the faults. */
  @Post('faults')
  @HttpCode(200)
  setFaults(@Body() body: { share?: Record<string, unknown>; script?: unknown }) {
    const share: Record<string, number> = {};
    for (const [k, v] of Object.entries(body?.share ?? {})) {
      if (!FAULTS.includes(k)) throw new BadRequestException(`share.${k}: must be one of ${FAULTS.join(', ')}`);
      if (typeof v !== 'number' || v < 0 || v > 1) throw new BadRequestException(`share.${k}: must be a number 0..1`);
      share[k] = v;
    }
    const script: { to?: string; fault: Fault }[] = [];
    if (body?.script !== undefined && !Array.isArray(body.script)) throw new BadRequestException('script must be an array');
    for (const [i, s] of ((body?.script as unknown[]) ?? []).entries()) {
      const f = (s as { fault?: unknown })?.fault;
      const fault = f === '5xx' || f === 'timeout' ? f : Number(f);
      if (typeof fault === 'number' && (!Number.isInteger(fault) || fault <= 0)) throw new BadRequestException(`script.${i}.fault: '5xx', 'timeout' or a Graph error code`);
      const to = (s as { to?: unknown }).to;
      script.push({ fault, ...(typeof to === 'string' ? { to } : {}) });
    }
    this.state.faults = { share, script };
    return this.state.faults;
  }

  @Delete('faults')
  clearFaults() {
    this.state.faults = { share: {}, script: [] };
    return this.state.faults;
  }

  /** Forget accepted messages, limits and faults (tests). */
  @Post('reset')
  @HttpCode(200)
  reset() {
    this.state.reset();
    return { reset: true };
  }
}

const MESSAGE_TYPES = ['text', 'image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts', 'interactive', 'button', 'reaction', 'order', 'unsupported'];

/** A Meta-shaped inbound message (REFERENCE §1.4/1.5) from `{ text }` or a message object. */
export function buildCustomerMessage(waId: string, body: Record<string, unknown>): Record<string, unknown> & { id: string } {
  // `timestamp` (unix seconds, up to 30 days back): a customer who wrote earlier, e.g. to play a closed 24 h window
  const at = typeof body.timestamp === 'number' && Number.isInteger(body.timestamp) ? body.timestamp : Math.floor(Date.now() / 1000);
  if (at > Date.now() / 1000 + 60 || at < Date.now() / 1000 - 30 * 86_400) throw new BadRequestException('timestamp must be unix seconds within the last 30 days');
  const base = { from: waId, id: newWamid(), timestamp: String(at) };
  const context = typeof body.replyTo === 'string' ? { context: { from: waId, id: body.replyTo } } : {};
  if (typeof body.type === 'string' && body.type !== 'text') {
    if (!MESSAGE_TYPES.includes(body.type)) throw new BadRequestException(`type must be one of ${MESSAGE_TYPES.join(', ')}`);
    const content = body[body.type];
    if (content === undefined || content === null || typeof content !== 'object') throw new BadRequestException(`${body.type}: the message object is required`);
    return { ...base, ...context, type: body.type, [body.type]: content };
  }
  const text = typeof body.text === 'string' ? body.text : (body.text as { body?: unknown } | undefined)?.body;
  if (typeof text !== 'string' || !text.trim()) throw new BadRequestException('text must be a non-empty string');
  if (text.length > 4096) throw new BadRequestException('text must be at most 4096 characters');
  return { ...base, ...context, type: 'text', text: { body: text } };
}
