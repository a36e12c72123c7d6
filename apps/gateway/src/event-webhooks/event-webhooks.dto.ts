import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { INTEGRATOR_EVENT_TYPES } from '@app/contracts';
import { PageQuery } from '../http/page-query';
import { SecretViewResponse } from '../whatsapp-accounts/accounts.dto';

const SUB_STATUSES = ['active', 'paused'] as const;
const DELIVERY_STATUSES = ['pending', 'sending', 'delivered', 'failed'] as const;

export class CreateSubscriptionDto {
  @IsString()
  @MaxLength(2000)
  @ApiProperty({ example: 'https://crm.example.com/switchboard/events', description: 'https; must resolve to public addresses' })
  url!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(INTEGRATOR_EVENT_TYPES.length)
  @IsIn(INTEGRATOR_EVENT_TYPES, { each: true })
  @ApiProperty({ isArray: true, enum: INTEGRATOR_EVENT_TYPES })
  eventTypes!: string[];

  @IsOptional()
  @IsString()
  @MaxLength(200)
  @ApiPropertyOptional({ maxLength: 200 })
  description?: string;

  @IsOptional()
  @IsString()
  @MinLength(16)
  @MaxLength(200)
  @ApiPropertyOptional({ writeOnly: true, description: 'Signing secret; generated (and returned once, in this answer) when omitted' })
  secret?: string;
}

export class UpdateSubscriptionDto extends PartialType(OmitType(CreateSubscriptionDto, [] as const)) {
  @IsOptional()
  @IsIn(SUB_STATUSES)
  @ApiPropertyOptional({ enum: SUB_STATUSES, description: 'active resumes a paused subscription (its queued events follow, in order)' })
  status?: (typeof SUB_STATUSES)[number];
}

export class SubscriptionResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ isArray: true, enum: INTEGRATOR_EVENT_TYPES }) eventTypes!: string[];
  @ApiProperty({ nullable: true, type: String }) description!: string | null;
  @ApiProperty({ type: SecretViewResponse }) secret!: SecretViewResponse;
  @ApiProperty({ enum: SUB_STATUSES }) status!: string;
  @ApiProperty({ description: 'Failed attempts in a row' }) failureStreak!: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) pausedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) pausedReason!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class CreatedSubscriptionResponse extends SubscriptionResponse {
  @ApiProperty({ description: 'The signing secret, shown only in this answer' }) signingSecret!: string;
}

export class SubscriptionPageResponse {
  @ApiProperty({ type: [SubscriptionResponse] }) items!: SubscriptionResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class DeliveryQuery extends PageQuery {
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  status?: (typeof DELIVERY_STATUSES)[number];
}

export class DeliveryAttemptResponse {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ nullable: true, type: Number, description: "The receiver's HTTP status" }) statusCode!: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'Why no status (timeout, connection refused, URL policy)' }) error!: string | null;
  @ApiProperty() durationMs!: number;
}

export class DeliveryResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid', description: 'Same in every delivery of this event: de-duplicate on it' }) eventId!: string;
  @ApiProperty({ enum: INTEGRATOR_EVENT_TYPES }) eventType!: string;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) conversationId!: string | null;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty({ format: 'date-time' }) nextAttemptAt!: string;
  @ApiProperty({ nullable: true, type: Number }) lastStatusCode!: number | null;
  @ApiProperty({ nullable: true, type: String }) lastError!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) deliveredAt!: string | null;
  @ApiProperty({ type: [DeliveryAttemptResponse] }) attemptLog!: DeliveryAttemptResponse[];
}

export class DeliveryPageResponse {
  @ApiProperty({ type: [DeliveryResponse] }) items!: DeliveryResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
