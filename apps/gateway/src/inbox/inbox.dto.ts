import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { LIST_VIEWS, PRIORITIES, WORK_STATUSES } from '@app/contracts';

class Versioned {
  /** The conversation version the client saw; a stale one gets 409 with the current state. */
  @IsInt()
  @Min(1)
  version!: number;
}

export class ClaimDto extends Versioned {}
export class TakeoverDto extends Versioned {}

export class AssignDto extends Versioned {
  /** The new owner (null: nobody). */
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsUUID()
  assigneeId?: string | null;

  /** The new team (null: the unassigned-team queue). */
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsUUID()
  teamId?: string | null;
}

export class HandoffDto extends Versioned {
  @IsOptional()
  @IsUUID()
  toUserId?: string;

  @IsOptional()
  @IsUUID()
  toTeamId?: string;

  @IsString()
  @MinLength(1, { message: 'note is required for a handoff' })
  @MaxLength(4000)
  note!: string;
}

export class StatusDto extends Versioned {
  @IsIn(WORK_STATUSES)
  status!: (typeof WORK_STATUSES)[number];

  @IsOptional()
  @IsISO8601({ strict: true })
  snoozeUntil?: string;
}

export class LabelsDto extends Versioned {
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(50, { each: true })
  labels!: string[];
}

export class PriorityDto extends Versioned {
  @IsIn(PRIORITIES)
  priority!: (typeof PRIORITIES)[number];
}

export class NoteDto {
  @IsString()
  @MinLength(1)
  @MaxLength(4000)
  body!: string;

  /** Users to notify. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsUUID('all', { each: true })
  mentions?: string[];

  @IsOptional()
  @IsInt()
  @Min(1)
  version?: number;
}

export class ReplyDto {
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  text!: string;

  /** The version the client saw; checked when the reply has to claim the conversation first. */
  @IsOptional()
  @IsInt()
  @Min(1)
  version?: number;
}

export class ListQuery {
  @IsOptional()
  @IsIn(LIST_VIEWS)
  view?: (typeof LIST_VIEWS)[number];

  @IsOptional()
  @IsIn(WORK_STATUSES)
  status?: (typeof WORK_STATUSES)[number];

  @IsOptional()
  @IsUUID()
  teamId?: string;

  @IsOptional()
  @IsUUID()
  assigneeId?: string;

  @IsOptional()
  @IsString()
  @MaxLength(50)
  label?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

export class TimelineQuery {
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
  teamId!: string | null;
}
