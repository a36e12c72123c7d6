import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { LIST_VIEWS, PRIORITIES, SLA_SORTS, WORK_STATUSES } from '@app/contracts';

class Versioned {
  /** The conversation version the client saw (or If-Match: "<version>"); a stale one gets 409 with the current state. */
  @IsInt({ message: 'version (or an If-Match header) is required: the conversation version the client saw' })
  @Min(1)
  @ApiProperty({
    minimum: 1,
    required: false,
    description: 'The conversation version the client saw (409 with the current state when stale). Required unless sent as If-Match: "<version>"',
  })
  version!: number;
}

export class ClaimDto extends Versioned {}
export class TakeoverDto extends Versioned {}

export class AssignDto extends Versioned {
  /** The new owner (null: nobody). */
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsUUID()
  @ApiPropertyOptional({ format: 'uuid', nullable: true, description: 'New owner; null = nobody' })
  assigneeId?: string | null;

  /** The new team (null: the unassigned-team queue). */
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsUUID()
  @ApiPropertyOptional({ format: 'uuid', nullable: true, description: 'New team; null = the unassigned-team queue' })
  teamId?: string | null;
}

export class HandoffDto extends Versioned {
  @IsOptional()
  @IsUUID()
  @ApiPropertyOptional({ format: 'uuid' })
  toUserId?: string;

  @IsOptional()
  @IsUUID()
  @ApiPropertyOptional({ format: 'uuid' })
  toTeamId?: string;

  @IsString()
  @MinLength(1, { message: 'note is required for a handoff' })
  @MaxLength(4000)
  @ApiProperty({ maxLength: 4000, description: 'Required: the receiver sees it first' })
  note!: string;
}

export class StatusDto extends Versioned {
  @IsIn(WORK_STATUSES)
  @ApiProperty({ enum: WORK_STATUSES })
  status!: (typeof WORK_STATUSES)[number];

  @IsOptional()
  @IsISO8601({ strict: true })
  @ApiPropertyOptional({ format: 'date-time', description: 'Required for snoozed' })
  snoozeUntil?: string;
}

export class LabelsDto extends Versioned {
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(50, { each: true })
  @ApiProperty({ type: [String], maxItems: 20 })
  labels!: string[];
}

export class PriorityDto extends Versioned {
  @IsIn(PRIORITIES)
  @ApiProperty({ enum: PRIORITIES })
  priority!: (typeof PRIORITIES)[number];
}

export class NoteDto {
  @IsString()
  @MinLength(1)
  @MaxLength(4000)
  @ApiProperty({ maxLength: 4000, description: 'Stored and returned as plain text' })
  body!: string;

  /** Users to notify. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsUUID('all', { each: true })
  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'Users to notify' })
  mentions?: string[];

  @IsOptional()
  @IsInt()
  @Min(1)
  @ApiPropertyOptional({ minimum: 1 })
  version?: number;
}

/** An approved WhatsApp template to send instead of free text (the only kind allowed outside the 24 h window). */
export class ReplyTemplateDto {
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  @ApiProperty({ example: 'order_update' })
  name!: string;

  @IsString()
  @MinLength(2)
  @MaxLength(16)
  @ApiProperty({ example: 'en_US' })
  language!: string;

  /** Values for the body's {{1}}, {{2}}, … in order; their count must match the approved template. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(1024, { each: true })
  @ApiPropertyOptional({ type: [String], example: ['Ana', 'A-1042', 'shipped'] })
  bodyParameters?: string[];
}

/** Exactly one of `text` (inside the 24 h window) or `template`. */
export class ReplyDto {
  @ValidateIf((o: ReplyDto) => o.text !== undefined || o.template === undefined)
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  @ApiPropertyOptional({ maxLength: 4096, description: 'Free text; exactly one of text or template' })
  text?: string;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ReplyTemplateDto)
  @ApiPropertyOptional({ type: ReplyTemplateDto, description: 'An approved template; exactly one of text or template' })
  template?: ReplyTemplateDto;

  /** The version the client saw; checked when the reply has to claim the conversation first. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @ApiPropertyOptional({ minimum: 1, description: 'Checked when the reply claims an unassigned conversation' })
  version?: number;
}

export class ListQuery {
  @IsOptional()
  @IsIn(LIST_VIEWS)
  @ApiPropertyOptional({ enum: LIST_VIEWS, default: 'all' })
  view?: (typeof LIST_VIEWS)[number];

  @IsOptional()
  @IsIn(WORK_STATUSES)
  @ApiPropertyOptional({ enum: WORK_STATUSES })
  status?: (typeof WORK_STATUSES)[number];

  @IsOptional()
  @IsUUID()
  @ApiPropertyOptional({ format: 'uuid' })
  teamId?: string;

  @IsOptional()
  @IsUUID()
  @ApiPropertyOptional({ format: 'uuid' })
  assigneeId?: string;

  @IsOptional()
  @IsString()
  @MaxLength(50)
  @ApiPropertyOptional()
  label?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  @ApiPropertyOptional({ description: 'Only conversations on this business number' })
  phoneNumberId?: string;

  @IsOptional()
  @IsString()
  @MinLength(2)
  @MaxLength(100)
  @ApiPropertyOptional({
    minLength: 2,
    maxLength: 100,
    description:
      'Search: contact profile name, phone (wa_id, digits), BSUID (user_id) or any message text contains q ' +
      '(case-insensitive; % and _ are literal). Combines with the other filters; at most the 500 most recent matches.',
  })
  q?: string;

  @IsOptional()
  @IsIn(SLA_SORTS)
  @ApiPropertyOptional({
    enum: SLA_SORTS,
    description:
      'By SLA: due-soonest (running clocks, nearest due first), at-risk (past the warning point), breached (not yet met). ' +
      'One page of at most `limit` in that order (no cursor); combines with the other filters.',
  })
  sla?: (typeof SLA_SORTS)[number];

  @IsOptional()
  @IsString()
  @MaxLength(200)
  @ApiPropertyOptional({ description: 'Opaque; nextCursor of the previous page' })
  cursor?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  limit?: number;
}

export class TimelineQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 500, description: 'Messages (oldest first)' })
  limit?: number;
}

export class MarkReadDto {
  @ApiPropertyOptional({ default: false, description: 'Also show the typing indicator (until the reply or 25 s)' })
  @IsOptional()
  @IsBoolean()
  typing?: boolean;
}

export class MessagesQuery {
  @ApiPropertyOptional({ enum: ['oldest', 'newest'], default: 'oldest', description: 'newest: the latest messages first, paging backwards' })
  @IsOptional()
  @IsIn(['oldest', 'newest'])
  order?: 'oldest' | 'newest';

  @ApiPropertyOptional({ description: 'Opaque; nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class NumberTeamDto {
  @ValidateIf((_, v) => v !== null)
  @IsUUID()
  @ApiProperty({ format: 'uuid', nullable: true })
  teamId!: string | null;
}
