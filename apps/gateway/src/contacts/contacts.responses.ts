import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { WORK_STATUSES } from '@app/contracts';

/** Response shapes of the contacts API for the OpenAPI document. */
export class ContactResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ nullable: true, type: String, description: 'Business-scoped user id (BSUID)' }) userId!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Phone number (optional, may change)' }) waId!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'WhatsApp profile name' }) profileName!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The name people gave the contact' }) name!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) attributes!: Record<string, string>;
  @ApiProperty({ type: [String] }) labels!: string[];
  @ApiProperty() blocked!: boolean;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) blockedAt!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) erasedAt!: string | null;
  @ApiProperty({ description: 'Send it back with an edit to detect concurrent changes' }) version!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: [String], format: 'uuid', description: 'Its conversations the caller may see' }) conversationIds!: string[];
}

export class ContactPageResponse {
  @ApiProperty({ type: [ContactResponse] }) items!: ContactResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

class ContactConversation {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() phoneNumberId!: string;
  @ApiProperty({ enum: WORK_STATUSES }) status!: string;
  @ApiProperty({ nullable: true, type: Number }) version!: number | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) teamId!: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) ownerId!: string | null;
  @ApiProperty({ type: [String] }) labels!: string[];
  @ApiProperty({ format: 'date-time' }) lastMessageAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastInboundAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) lastMessageText!: string | null;
  @ApiProperty() messageCount!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class ContactDetailResponse extends ContactResponse {
  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String, description: 'Set when the requested contact was merged into this one' })
  redirectedFrom!: string | null;
  @ApiProperty({ type: [ContactConversation] }) conversations!: ContactConversation[];
}

class AbsorbedConversation {
  @ApiProperty({ format: 'uuid' }) from!: string;
  @ApiProperty({ format: 'uuid' }) into!: string;
}

export class MergeResponse {
  @ApiProperty({ type: ContactResponse }) contact!: ContactResponse;
  @ApiProperty({ format: 'uuid' }) mergedId!: string;
  @ApiProperty() alreadyMerged!: boolean;
  @ApiProperty({ type: [String], format: 'uuid' }) movedConversationIds!: string[];
  @ApiProperty({ type: [AbsorbedConversation], description: 'Same-number conversations whose messages moved into the survivor’s' })
  absorbedConversationIds!: AbsorbedConversation[];
  @ApiProperty() movedMessages!: number;
}

export class EraseResponse {
  @ApiProperty({ format: 'uuid' }) contactId!: string;
  @ApiProperty({ format: 'date-time' }) erasedAt!: string;
  @ApiProperty() contacts!: number;
  @ApiProperty() conversations!: number;
  @ApiProperty() messages!: number;
  @ApiProperty() mediaFiles!: number;
  @ApiProperty({ description: 'Raw webhook bodies kept by the gateway that named the person, replaced by {"erased":true}' }) webhookReceipts!: number;
  @ApiProperty({ description: 'Signed webhooks refused whole (gateway dead letters) whose body named the person, replaced by {"erased":true}' }) webhookRejections!: number;
  @ApiProperty({ description: 'Event-webhook deliveries of the person\'s conversations whose data was replaced by {"erased":true}' }) eventDeliveries!: number;
  @ApiProperty({ description: 'Outbound sends to the person whose body (reply text, template parameters) and recipient number were removed' }) outboundSends!: number;
  @ApiProperty({ description: 'Internal notes on the person\'s conversations whose body was replaced by [erased]' }) notes!: number;
  @ApiProperty({ description: 'Routing contexts (opening message text, contact attributes) of the person\'s conversations dropped' }) routeContexts!: number;
}
