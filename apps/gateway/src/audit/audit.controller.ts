import { ApiBearerAuth, ApiCreatedResponse, ApiForbiddenResponse, ApiOkResponse, ApiSecurity, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorResponse } from '../auth/auth.responses';
import { AuditPageResponse } from '../inbox/inbox.responses';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Controller, Get, Header, Inject, Query, Res, UseGuards } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import type { Response } from 'express';
import { ListAuditV1, type AuditEntryView } from '@app/contracts';
import { Bus } from '@app/messaging';
import { AuthGuard } from '../auth/auth.guard';
import { actorOf, CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';

export class AuditQuery {
  @IsOptional()
  @IsUUID()
  @ApiPropertyOptional({ format: 'uuid' })
  conversationId?: string;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  @ApiPropertyOptional({ description: 'User or API key id' })
  actorId?: string;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  @ApiPropertyOptional({ example: 'conversation.claimed' })
  action?: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  @ApiPropertyOptional({ format: 'date-time' })
  from?: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  @ApiPropertyOptional({ format: 'date-time' })
  to?: string;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  @ApiPropertyOptional()
  cursor?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  limit?: number;

  @IsOptional()
  @IsIn(['json', 'csv'])
  @ApiPropertyOptional({ enum: ['json', 'csv'], default: 'json' })
  format?: 'json' | 'csv';
}

const CSV_COLUMNS = ['createdAt', 'seq', 'id', 'conversationId', 'teamId', 'actorType', 'actorId', 'actorName', 'action', 'before', 'after', 'note', 'requestId'];
const CSV_MAX_ROWS = 100_000;

/** One CSV cell: quoted, and a leading = + - @ neutralised so spreadsheets never run it as a formula. */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

function csvRow(e: AuditEntryView): string {
  return [e.createdAt, e.seq, e.id, e.conversationId, e.teamId, e.actor.type, e.actor.id, e.actor.name, e.action, e.before, e.after, e.note, e.requestId]
    .map(csvCell)
    .join(',');
}

/** The audit trail (read-only: there is no route that changes or deletes an entry). Managers see their teams. */
@ApiTags('audit')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse })
@Controller('api/v1/audit')
@UseGuards(AuthGuard)
@RequireScopes('audit:read')
export class AuditController {
  constructor(@Inject(Bus) private readonly bus: Bus) {}

  @Get()
  @ApiOkResponse({ type: AuditPageResponse, description: 'JSON, or text/csv with format=csv' })
  @Header('Cache-Control', 'no-store')
  async list(@CurrentPrincipal() me: Principal, @Query() q: AuditQuery, @Res({ passthrough: true }) res: Response) {
    const { format, cursor, limit, ...filters } = q;
    const req = { actor: actorOf(me), ...filters };
    if (format !== 'csv') return this.bus.request(ListAuditV1, { ...req, cursor: cursor ?? null, limit: limit ?? 100 });
    // CSV export: every matching entry (newest first), page by page
    const lines = [CSV_COLUMNS.join(',')];
    let next: string | null = cursor ?? null;
    do {
      const page = await this.bus.request(ListAuditV1, { ...req, cursor: next, limit: 1000 });
      lines.push(...page.items.map(csvRow));
      next = page.nextCursor;
    } while (next && lines.length <= CSV_MAX_ROWS);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="audit.csv"');
    return lines.join('\r\n') + '\r\n';
  }
}
