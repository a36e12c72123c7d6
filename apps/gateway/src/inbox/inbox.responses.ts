import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PRIORITIES, WORK_STATUSES } from '@app/contracts';

// Response shapes for the OpenAPI document (what the handlers return).

/** The bot holding a conversation (declared first: decorator metadata refers to it when the classes below are defined). */
export class BotRef {
  @ApiProperty({ description: 'The bot’s API key id' }) id!: string;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
  @ApiProperty({ format: 'date-time', description: 'Held since' }) since!: string;
}

export class WorkStateResponse {
  @ApiProperty({ format: 'uuid' }) conversationId!: string;
  @ApiProperty() phoneNumberId!: string;
  @ApiProperty({ format: 'uuid' }) contactId!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) teamId!: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) ownerId!: string | null;
  @ApiProperty({ enum: WORK_STATUSES }) status!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) snoozeUntil!: string | null;
  @ApiProperty({ enum: PRIORITIES }) priority!: string;
  @ApiProperty({ type: [String] }) labels!: string[];
  @ApiProperty({ description: 'Send it back with the next change' }) version!: number;
  @ApiProperty({ format: 'date-time' }) openedAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastMessageAt!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) resolvedAt!: string | null;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: BotRef, nullable: true, required: false, description: 'The bot holding the conversation (bot handover), else null' })
  bot?: BotRef | null;
}

class NamedRef {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
}

class ContactRef {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
  @ApiProperty({ nullable: true, type: String }) waId!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Business-scoped user id (BSUID)' }) userId!: string | null;
}

class WindowState {
  @ApiProperty({ description: 'Free-form replies allowed (24 h since the last customer message)' }) open!: boolean;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) endsAt!: string | null;
}

export class ConversationResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ enum: WORK_STATUSES }) status!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) snoozeUntil!: string | null;
  @ApiProperty({ enum: PRIORITIES }) priority!: string;
  @ApiProperty({ type: [String] }) labels!: string[];
  @ApiProperty({ type: NamedRef, nullable: true }) owner!: NamedRef | null;
  @ApiProperty({ type: NamedRef, nullable: true }) team!: NamedRef | null;
  @ApiProperty({ type: BotRef, nullable: true, description: 'The bot holding the conversation (routing and SLA wait; only it replies), else null' })
  bot!: BotRef | null;
  @ApiProperty() phoneNumberId!: string;
  @ApiProperty({ type: ContactRef }) contact!: ContactRef;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastMessageAt!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastInboundAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) lastMessageText!: string | null;
  @ApiProperty({ nullable: true, type: Number }) messageCount!: number | null;
  @ApiProperty({ type: WindowState }) window!: WindowState;
  @ApiProperty({ format: 'date-time' }) openedAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) resolvedAt!: string | null;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class ConversationPageResponse {
  @ApiProperty({ type: [ConversationResponse] }) items!: ConversationResponse[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page' }) nextCursor!: string | null;
}

class ActorRef {
  @ApiProperty({ enum: ['user', 'api_key', 'system'] }) type!: string;
  @ApiProperty({ nullable: true, type: String }) id!: string | null;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
}

export class NoteResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) conversationId!: string;
  @ApiProperty({ type: ActorRef }) author!: ActorRef;
  @ApiProperty({ description: 'Plain text' }) body!: string;
  @ApiProperty({ type: [String], format: 'uuid' }) mentions!: string[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class AuditEntryResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'Order of entries (string: 64-bit)' }) seq!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) conversationId!: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) teamId!: string | null;
  @ApiProperty({ type: ActorRef }) actor!: ActorRef;
  @ApiProperty({ example: 'conversation.claimed' }) action!: string;
  @ApiProperty({ type: Object, nullable: true, description: 'teamId, ownerId, status, snoozeUntil, priority, labels, version' }) before!: object | null;
  @ApiProperty({ type: Object, nullable: true }) after!: object | null;
  @ApiProperty({ nullable: true, type: String }) note!: string | null;
  @ApiProperty({ nullable: true, type: String }) requestId!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class AuditPageResponse {
  @ApiProperty({ type: [AuditEntryResponse] }) items!: AuditEntryResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class TimelineItemResponse {
  @ApiProperty({ enum: ['message', 'note', 'event'] }) kind!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiPropertyOptional({ type: Object, description: 'When kind = message: the message as ingest stores it' }) message?: object;
  @ApiPropertyOptional({ type: NoteResponse }) note?: NoteResponse;
  @ApiPropertyOptional({ type: AuditEntryResponse }) event?: AuditEntryResponse;
}

export class TimelineResponse {
  @ApiProperty({ type: [TimelineItemResponse] }) items!: TimelineItemResponse[];
  @ApiProperty({ description: 'More messages exist than were returned' }) moreMessages!: boolean;
}

export class ReplyResponse {
  @ApiProperty({ format: 'uuid' }) sendId!: string;
  @ApiProperty({ enum: ['queued', 'sent', 'failed'] }) status!: string;
  @ApiProperty({ nullable: true, type: String }) waMessageId!: string | null;
  @ApiProperty({ description: 'The Idempotency-Key was seen before: this is the first result' }) duplicate!: boolean;
  @ApiProperty({ description: 'The reply claimed the unassigned conversation first' }) claimed!: boolean;
  @ApiProperty() version!: number;
}

export class AttachmentResponse extends ReplyResponse {
  @ApiProperty({ enum: ['image', 'document', 'audio', 'video'], description: 'How the file is sent, from its type' }) type!: string;
}

export class NumberTeamResponse {
  @ApiProperty() phoneNumberId!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) teamId!: string | null;
}

class MessageMediaResponse {
  @ApiProperty() mediaId!: string;
  @ApiProperty({ nullable: true, type: String }) mimeType!: string | null;
  @ApiProperty({ nullable: true, type: Number }) size!: number | null;
  @ApiProperty({ nullable: true, type: String }) sha256!: string | null;
  @ApiProperty({ description: 'pending | stored | failed | …' }) state!: string;
  @ApiProperty({ nullable: true, type: String, description: 'GET it with the same credentials (/api/v1/media/{messageId})' }) url!: string | null;
}

export class MessageResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) conversationId!: string;
  @ApiProperty({ nullable: true, type: String }) waMessageId!: string | null;
  @ApiProperty({ enum: ['inbound', 'outbound'] }) direction!: string;
  @ApiProperty({ description: 'customer | echo | inbox | system' }) origin!: string;
  @ApiProperty({ description: 'WhatsApp message type (text, image, …, unsupported)' }) type!: string;
  @ApiProperty({ description: 'Text rendering' }) text!: string;
  @ApiProperty({ type: Object, nullable: true, description: "The type's fields, whole" }) content!: unknown;
  @ApiProperty({ nullable: true, type: String }) status!: string | null;
  @ApiProperty({ type: [Object] }) errors!: unknown[];
  @ApiProperty({ nullable: true, type: String }) contextWaMessageId!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) contextMessageId!: string | null;
  @ApiProperty() forwarded!: boolean;
  @ApiProperty({ type: MessageMediaResponse, nullable: true }) media!: MessageMediaResponse | null;
  @ApiProperty({ format: 'date-time' }) sentAt!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) statusUpdatedAt!: string | null;
}

export class MessagePageResponse {
  @ApiProperty({ type: [MessageResponse] }) items!: MessageResponse[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page; null at the end' }) nextCursor!: string | null;
}

export class SendResponse {
  @ApiProperty({ format: 'uuid' }) sendId!: string;
  @ApiProperty({ enum: ['queued', 'sent', 'failed'] }) status!: string;
  @ApiProperty({ nullable: true, type: String }) waMessageId!: string | null;
  @ApiProperty({ description: 'The Idempotency-Key was seen before: this is the first result' }) duplicate!: boolean;
}
