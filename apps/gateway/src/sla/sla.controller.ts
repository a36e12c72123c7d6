import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDateString, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { AuthGuard } from '../auth/auth.guard';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { SlaApiService } from './sla.service';

const Id = new ParseUUIDPipe();

export class TeamFilter {
  @IsOptional()
  @IsUUID()
  @ApiPropertyOptional({ format: 'uuid' })
  teamId?: string;
}

export class ReminderDto {
  @IsOptional()
  @IsDateString({ strict: true })
  @ApiPropertyOptional({ description: 'When (ISO 8601 with offset), e.g. tomorrow 09:00 in the team’s time zone' })
  at?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(366 * 24 * 60)
  @ApiPropertyOptional({ description: 'Or: in this many minutes' })
  inMinutes?: number;

  @IsOptional()
  @Matches(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'nextDayAt must be a time HH:MM (00:00–23:59)' })
  @ApiPropertyOptional({
    example: '09:00',
    description:
      "Or: tomorrow at this time (HH:MM) — the next calendar day in the time zone of the conversation team's business hours (UTC when the team has none; the answer's `timeZone` says which)",
  })
  nextDayAt?: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  @ApiPropertyOptional({ maxLength: 500 })
  note?: string;
}

/**
 * SLA administration. Bodies follow the contracts in libs/contracts/src/sla/sla.ts (validated there: a bad field
 * is a 400 naming it; overlapping hours or an unknown time zone are refused by sla with 400). Who may change what is
 * decided by sla: admins everything, managers their own teams.
 */
@ApiTags('sla')
@ApiBearerAuth()
@Controller('api/v1/sla')
@UseGuards(AuthGuard)
export class SlaController {
  constructor(private readonly sla: SlaApiService) {}

  @Post('policies')
  @RequireScopes('conversations:write')
  createPolicy(@CurrentPrincipal() me: Principal, @Body() body: unknown) {
    return this.sla.createPolicy(me, body);
  }

  @Get('policies')
  @RequireScopes('conversations:read')
  listPolicies(@CurrentPrincipal() me: Principal, @Query() q: TeamFilter) {
    return this.sla.listPolicies(me, q.teamId);
  }

  @Patch('policies/:id')
  @RequireScopes('conversations:write')
  updatePolicy(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() body: unknown) {
    return this.sla.updatePolicy(me, id, body);
  }

  @Delete('policies/:id')
  @RequireScopes('conversations:write')
  deletePolicy(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string) {
    return this.sla.deletePolicy(me, id);
  }

  @Post('business-hours')
  @RequireScopes('conversations:write')
  createHours(@CurrentPrincipal() me: Principal, @Body() body: unknown) {
    return this.sla.createHours(me, body);
  }

  @Get('business-hours')
  @RequireScopes('conversations:read')
  listHours(@CurrentPrincipal() me: Principal) {
    return this.sla.listHours(me);
  }

  @Patch('business-hours/:id')
  @RequireScopes('conversations:write')
  updateHours(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() body: unknown) {
    return this.sla.updateHours(me, id, body);
  }

  @Delete('business-hours/:id')
  @RequireScopes('conversations:write')
  deleteHours(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string) {
    return this.sla.deleteHours(me, id);
  }

  @Post('follow-up-rules')
  @RequireScopes('conversations:write')
  createRule(@CurrentPrincipal() me: Principal, @Body() body: unknown) {
    return this.sla.createRule(me, body);
  }

  @Get('follow-up-rules')
  @RequireScopes('conversations:read')
  listRules(@CurrentPrincipal() me: Principal, @Query() q: TeamFilter) {
    return this.sla.listRules(me, q.teamId);
  }

  @Delete('follow-up-rules/:id')
  @RequireScopes('conversations:write')
  deleteRule(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string) {
    return this.sla.deleteRule(me, id);
  }
}

/** Reminders and the SLA detail of one conversation (the caller must be able to see it). */
@ApiTags('sla')
@ApiBearerAuth()
@Controller('api/v1/conversations/:id')
@UseGuards(AuthGuard)
export class ConversationSlaController {
  constructor(private readonly sla: SlaApiService) {}

  @Get('sla')
  @RequireScopes('conversations:read')
  detail(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string) {
    return this.sla.conversationSla(me, id);
  }

  @Post('reminders')
  @RequireScopes('conversations:write')
  createReminder(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: ReminderDto) {
    return this.sla.createReminder(me, id, dto);
  }

  @Get('reminders')
  @RequireScopes('conversations:read')
  listReminders(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string) {
    return this.sla.listReminders(me, id);
  }

  @Delete('reminders/:reminderId')
  @HttpCode(200)
  @RequireScopes('conversations:write')
  cancelReminder(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Param('reminderId', Id) reminderId: string) {
    return this.sla.cancelReminder(me, id, reminderId);
  }
}
