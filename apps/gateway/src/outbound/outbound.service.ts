import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { SendMessageRequest, SendMessageV1, describeIssues, type ResponseOf } from '@app/contracts';
import { Bus } from '@app/messaging';
import type { SendMessageDto } from './dto/send-message.dto';

/** Maps the HTTP body to notifications.send-message.v1 and asks notifications to queue it. */
@Injectable()
export class OutboundService {
  constructor(@Inject(Bus) private readonly bus: Bus) {}

  send(dto: SendMessageDto, idempotencyKey: string | undefined, sender: { id: string; name: string }): Promise<ResponseOf<typeof SendMessageV1>> {
    if (!idempotencyKey || !/^[\x21-\x7e]{1,150}$/.test(idempotencyKey))
      throw new BadRequestException('Idempotency-Key header is required (1-150 visible ASCII characters); reuse it when retrying the same message');
    const content = dto[dto.type];
    if (content === undefined) throw new BadRequestException(`${dto.type}: the ${dto.type} object is required when type is ${dto.type}`);
    const request = {
      // scoped by the caller, so two integrators' keys never collide
      idempotencyKey: `${sender.id}:${idempotencyKey}`,
      phoneNumberId: dto.phoneNumberId,
      to: dto.to,
      conversationId: dto.conversationId ?? null,
      senderId: sender.id,
      senderName: sender.name,
      message: dto.type === 'interactive' ? { type: 'interactive', interactive: content } : { type: dto.type, ...(content as object) },
      ...(dto.context ? { context: { messageId: dto.context.messageId } } : {}),
    };
    const parsed = SendMessageRequest.safeParse(request);
    if (!parsed.success) throw new BadRequestException(describeIssues(parsed.error.issues).replace(/\bmessage\.(interactive\.)?/g, `${dto.type}.`));
    return this.bus.request(SendMessageV1, parsed.data);
  }
}
