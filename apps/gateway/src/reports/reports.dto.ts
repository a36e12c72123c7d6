import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { AGE_BUCKETS, DRILL_METRICS } from '@app/contracts';

export class DashboardQuery {
  @ApiPropertyOptional({ description: 'One team (managers: one of theirs); none = every team the caller may see' })
  @IsOptional()
  @IsUUID()
  teamId?: string;
}

export class DrillQuery extends DashboardQuery {
  @ApiPropertyOptional({ enum: DRILL_METRICS, description: 'The number to drill into (docs/METRICS.md, Dashboard)' })
  @IsIn(DRILL_METRICS)
  metric!: (typeof DRILL_METRICS)[number];

  @ApiPropertyOptional({ description: 'Owner (or, for replies-last-hour, the replying agent)' })
  @IsOptional()
  @IsUUID()
  agentId?: string;

  @ApiPropertyOptional({ enum: AGE_BUCKETS })
  @IsOptional()
  @IsIn(AGE_BUCKETS)
  ageBucket?: (typeof AGE_BUCKETS)[number];

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class ReportQuery {
  @ApiPropertyOptional({ description: 'Start (inclusive), ISO 8601 with offset', example: '2026-11-02T00:00:00+01:00' })
  @IsISO8601({ strict: true })
  from!: string;

  @ApiPropertyOptional({ description: 'End (exclusive), ISO 8601; at most 366 days after from' })
  @IsISO8601({ strict: true })
  to!: string;

  @ApiPropertyOptional({ description: 'IANA time zone for hour/weekday buckets (default UTC)', example: 'Europe/Berlin' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  tz?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  teamId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  agentId?: string;

  @ApiPropertyOptional({ description: "Business number (Meta's phone_number_id)" })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  phoneNumberId?: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'], default: 'json' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

export class ReassignAllDto {
  @ApiPropertyOptional({ description: 'Put each conversation back in its team queue (the team strategy picks again)' })
  @IsOptional()
  @IsBoolean()
  toTeamQueue?: boolean;

  @ApiPropertyOptional({ description: 'Give each conversation to this person' })
  @IsOptional()
  @IsUUID()
  toUserId?: string;
}
