import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { AGENT_STATUSES, ON_OWNER_OFFLINE, PRIORITIES, STRATEGIES } from '@app/contracts';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** A list of short strings (1–max entries, each 1–len characters). */
function StringList(max: number, len: number): PropertyDecorator {
  return (target, key) => {
    IsOptional()(target, key);
    IsArray()(target, key);
    ArrayMinSize(1)(target, key);
    ArrayMaxSize(max)(target, key);
    IsString({ each: true })(target, key);
    MinLength(1, { each: true })(target, key);
    MaxLength(len, { each: true })(target, key);
  };
}

export class TimeOfDayDto {
  @Matches(HHMM, { message: 'timeOfDay.from must be HH:MM' })
  @ApiProperty({ example: '18:00' })
  from!: string;

  @Matches(HHMM, { message: 'timeOfDay.to must be HH:MM' })
  @ApiProperty({ example: '08:00' })
  to!: string;

  @IsString()
  @MaxLength(64)
  @ApiProperty({ example: 'Europe/Berlin' })
  timeZone!: string;

  @IsOptional()
  @IsArray()
  @IsInt({ each: true })
  @Min(0, { each: true })
  @Max(6, { each: true })
  @ApiPropertyOptional({ type: [Number], description: '0 = Sunday … 6 = Saturday' })
  days?: number[];
}

export class BusinessHoursConditionDto {
  @IsIn(['open', 'closed'])
  @ApiProperty({ enum: ['open', 'closed'] })
  state!: 'open' | 'closed';

  @IsOptional()
  @IsUUID()
  @ApiPropertyOptional({ format: 'uuid' })
  businessHoursId?: string;

  @IsOptional()
  @IsUUID()
  @ApiPropertyOptional({ format: 'uuid', description: "The team whose calendar applies (default: the rule's team)" })
  teamId?: string;
}

/** Every given condition must hold; within a list any entry matches. No conditions = every conversation. */
export class RuleConditionsDto {
  @StringList(100, 64)
  @ApiPropertyOptional({ type: [String], description: 'Business numbers (phone_number_id)' })
  phoneNumberIds?: string[];

  @IsOptional()
  @IsIn(['new', 'returning'])
  @ApiPropertyOptional({ enum: ['new', 'returning'] })
  contact?: 'new' | 'returning';

  @StringList(20, 50)
  @ApiPropertyOptional({ type: [String] })
  contactLabels?: string[];

  @IsOptional()
  @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  contactAttributes?: Record<string, string>;

  @StringList(100, 100)
  @ApiPropertyOptional({ type: [String], description: 'Whole words or phrases, case-insensitive' })
  keywords?: string[];

  @StringList(20, 10)
  @ApiPropertyOptional({
    type: [String],
    example: ['de'],
    description:
      "ISO 639-1 codes (\"de\" also matches \"de-AT\"). Compared with the opening message's language as detected by ingest, else (message too short or unclear) with the contact's `language` attribute; neither known: no match",
  })
  languages?: string[];

  @StringList(20, 30)
  @ApiPropertyOptional({ type: [String], example: ['text', 'image'] })
  messageTypes?: string[];

  @IsOptional()
  @IsBoolean()
  @ApiPropertyOptional({ description: 'true: came through an ad/post referral' })
  referral?: boolean;

  @StringList(100, 100)
  @ApiPropertyOptional({ type: [String] })
  referralSourceIds?: string[];

  @IsOptional()
  @ValidateNested()
  @Type(() => TimeOfDayDto)
  @ApiPropertyOptional({ type: TimeOfDayDto })
  timeOfDay?: TimeOfDayDto;

  @IsOptional()
  @ValidateNested()
  @Type(() => BusinessHoursConditionDto)
  @ApiPropertyOptional({ type: BusinessHoursConditionDto })
  businessHours?: BusinessHoursConditionDto;
}

export class RuleActionsDto {
  @IsOptional()
  @IsUUID()
  @ApiPropertyOptional({ format: 'uuid' })
  teamId?: string;

  @IsOptional()
  @IsIn(PRIORITIES)
  @ApiPropertyOptional({ enum: PRIORITIES })
  priority?: (typeof PRIORITIES)[number];

  @StringList(20, 50)
  @ApiPropertyOptional({ type: [String] })
  labels?: string[];

  @IsOptional()
  @IsUUID()
  @ApiPropertyOptional({ format: 'uuid', description: 'Give it to this person (when online and under capacity)' })
  assigneeId?: string;

  @StringList(10, 50)
  @ApiPropertyOptional({ type: [String], description: 'Only agents with all these skills receive it' })
  skills?: string[];
}

export class CreateRuleDto {
  @IsString()
  @MinLength(1)
  @MaxLength(120)
  @ApiProperty({ maxLength: 120 })
  name!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @ApiPropertyOptional({ minimum: 1, description: '1-based; default: last' })
  position?: number;

  @IsOptional()
  @IsBoolean()
  @ApiPropertyOptional({ default: true })
  enabled?: boolean;

  @ValidateNested()
  @Type(() => RuleConditionsDto)
  @ApiProperty({ type: RuleConditionsDto })
  conditions!: RuleConditionsDto;

  @ValidateNested()
  @Type(() => RuleActionsDto)
  @ApiProperty({ type: RuleActionsDto })
  actions!: RuleActionsDto;
}

export class UpdateRuleDto {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(120)
  @ApiPropertyOptional({ maxLength: 120 })
  name?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @ApiPropertyOptional({ minimum: 1 })
  position?: number;

  @IsOptional()
  @IsBoolean()
  @ApiPropertyOptional()
  enabled?: boolean;

  @IsOptional()
  @ValidateNested()
  @Type(() => RuleConditionsDto)
  @ApiPropertyOptional({ type: RuleConditionsDto })
  conditions?: RuleConditionsDto;

  @IsOptional()
  @ValidateNested()
  @Type(() => RuleActionsDto)
  @ApiPropertyOptional({ type: RuleActionsDto })
  actions?: RuleActionsDto;
}

export class ReorderRulesDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @IsUUID('all', { each: true })
  @ApiProperty({ type: [String], description: 'These rules take, in this order, the positions they hold now' })
  ids!: string[];
}

export class DryRunDto {
  @IsUUID()
  @ApiProperty({ format: 'uuid' })
  conversationId!: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  @ApiPropertyOptional({ format: 'date-time', description: 'Evaluate as of this moment (default: now)' })
  at?: string;
}

export class TeamRoutingDto {
  @IsIn(STRATEGIES)
  @ApiProperty({ enum: STRATEGIES })
  strategy!: (typeof STRATEGIES)[number];

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(365)
  @ApiPropertyOptional({ default: 30, description: 'sticky: previous owner within this many days' })
  stickyDays?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  @ApiPropertyOptional({ nullable: true, description: 'Per-agent maximum of open conversations (null = no limit)' })
  maxOpenPerAgent?: number | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  @ApiPropertyOptional({ nullable: true, description: "The team's maximum of open, owned conversations (null = no limit)" })
  maxOpenTeam?: number | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_080)
  @ApiPropertyOptional({ nullable: true, description: 'Reassign when a waiting customer is unanswered this many minutes' })
  reassignUnansweredMinutes?: number | null;

  @IsOptional()
  @IsIn(ON_OWNER_OFFLINE)
  @ApiPropertyOptional({ enum: ON_OWNER_OFFLINE, default: 'keep' })
  onOwnerOffline?: (typeof ON_OWNER_OFFLINE)[number];
}

export class AgentStatusDto {
  @IsIn(AGENT_STATUSES)
  @ApiProperty({ enum: AGENT_STATUSES })
  status!: (typeof AGENT_STATUSES)[number];
}

export class CapacityDto {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  @ApiPropertyOptional({ nullable: true, description: 'Maximum open conversations (null = no personal limit)' })
  maxOpen?: number | null;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(50, { each: true })
  @ApiPropertyOptional({ type: [String], example: ['de', 'billing'] })
  skills?: string[];
}

export class AgentsQuery {
  @IsOptional()
  @IsUUID()
  @ApiPropertyOptional({ format: 'uuid' })
  teamId?: string;
}

export class QueueQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  limit?: number;
}
