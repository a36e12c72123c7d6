import { BadRequestException, ConflictException, ForbiddenException, Inject, Injectable } from '@nestjs/common';
import { GetConversationV1, GetWorkV1, SendMessageRequest, SendMessageV1, describeIssues, type ResponseOf } from '@app/contracts';
import { Bus } from '@app/messaging';
import { actorOf, type Principal } from '../auth/principal';
import { assertNotBlocked } from '../contacts/blocked';
import { requireIdempotencyKey } from '../http/idempotency-key';
import { UsersService } from '../users/users.service';
import type { SendMessageDto } from './dto/send-message.dto';

/**
 * Integrators' sends: maps the HTTP body to notifications.send-message.v1. People never send here — their
 * replies go through the conversation (POST /api/v1/conversations/:id/messages), where only the owner may
 * send; an integrator may not send into a conversation a person owns either, so nobody replies over anyone.
 */
@Injectable()
export class OutboundService {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly users: UsersService,
  ) {}

  async send(p: Principal, dto: SendMessageDto, idempotencyKey: string | undefined): Promise<ResponseOf<typeof SendMessageV1>> {
    if (p.kind === 'bot')
      throw new ForbiddenException(
        'a bot replies from the conversation it holds (POST /api/v1/conversations/:id/messages), so nobody replies over it; this route is for integrators’ API keys',
      );
    if (p.kind !== 'api_key')
      throw new ForbiddenException(
        'people reply from the conversation (POST /api/v1/conversations/:id/messages), where only the owner may send; this route is for integrators’ API keys',
      );
    requireIdempotencyKey(idempotencyKey);
    const content = dto[dto.type];
    if (content === undefined) throw new BadRequestException(`${dto.type}: the ${dto.type} object is required when type is ${dto.type}`);
    if (dto.conversationId) await this.checkConversation(p, dto);
    else await assertNotBlocked(this.bus, { to: dto.to });
    const request = {
      // scoped by the caller, so two integrators' keys never collide
      idempotencyKey: `${p.id}:${idempotencyKey}`,
      phoneNumberId: dto.phoneNumberId,
      to: dto.to,
      conversationId: dto.conversationId ?? null,
      senderId: p.id,
      senderName: p.name,
      message: dto.type === 'interactive' ? { type: 'interactive', interactive: content } : { type: dto.type, ...(content as object) },
      ...(dto.context ? { context: { messageId: dto.context.messageId } } : {}),
    };
    const parsed = SendMessageRequest.safeParse(request);
    if (!parsed.success) throw new BadRequestException(describeIssues(parsed.error.issues).replace(/\bmessage\.(interactive\.)?/g, `${dto.type}.`));
    return this.bus.request(SendMessageV1, parsed.data);
  }

  /** The message must go to that conversation's customer on its number, and nobody may own it. */
  private async checkConversation(p: Principal, dto: SendMessageDto): Promise<void> {
    const conversationId = dto.conversationId!;
    const [work, summary] = await Promise.all([
      this.bus.request(GetWorkV1, { actor: actorOf(p), conversationId }),
      this.bus.request(GetConversationV1, { conversationId }),
    ]);
    if (summary.phoneNumberId !== dto.phoneNumberId || (dto.to !== summary.contact.waId && dto.to !== summary.contact.userId))
      throw new BadRequestException('to and phoneNumberId must be the customer and business number of conversationId');
    await assertNotBlocked(this.bus, { summary });
    if (work.bot)
      throw new ConflictException({
        message: `conversation is held by bot "${work.bot.name ?? work.bot.id}"; only that bot replies in it until it hands over`,
        details: { bot: work.bot },
      });
    if (work.ownerId) {
      const owner = (await this.users.byIds([work.ownerId]))[0];
      throw new ConflictException({
        message: `conversation is owned by ${owner ? `${owner.name} <${owner.email}>` : `user ${work.ownerId}`}; only the owner can reply in it`,
        details: { owner: owner ? { id: owner.id, name: owner.name, email: owner.email } : { id: work.ownerId } },
      });
    }
  }
}
