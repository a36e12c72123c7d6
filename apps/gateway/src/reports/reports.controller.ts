import { BadRequestException, Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiParam, ApiProduces, ApiQuery, ApiSecurity, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { REPORT_KINDS, type ReportKind } from '@app/contracts';
import { ErrorResponse } from '../auth/auth.responses';
import { AuthGuard } from '../auth/auth.guard';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { sendCsv } from '../http/csv-stream';
import { DashboardQuery, DrillQuery, ReassignAllDto, ReportQuery } from './reports.dto';
import { DashboardResponse, DrillResponse, ReassignAllResponse } from './reports.responses';
import { ReportsApiService } from './reports.service';

const CSV_DOC = "text/csv (RFC 4180, CRLF; cells starting with = + - @ are prefixed with ')";

function kindOf(k: string): ReportKind {
  if (!(REPORT_KINDS as readonly string[]).includes(k)) throw new BadRequestException(`unknown report "${k}" (one of ${REPORT_KINDS.join(', ')})`);
  return k as ReportKind;
}

/**
 * The manager view (managers: their teams; admins: all; agents 403). Live: the WebSocket sends managers
 * `{type:"dashboard.changed", teamIds, agentIds, cause, at}` when a figure of their teams moves; refetch then.
 * Intervention uses the inbox's audited commands (assign, take over, hand off) plus bulk reassignment below.
 */
@ApiTags('manager view')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse, description: 'Agents and viewers; a team that is not the manager’s' })
@ApiBadRequestResponse({ type: ErrorResponse })
@Controller('api/v1')
@UseGuards(AuthGuard)
export class ReportsController {
  constructor(private readonly reports: ReportsApiService) {}

  @Get('dashboard')
  @ApiOkResponse({ type: DashboardResponse })
  @RequireScopes('conversations:read')
  dashboard(@CurrentPrincipal() me: Principal, @Query() q: DashboardQuery) {
    return this.reports.dashboard(me, q.teamId);
  }

  /** The conversations behind a dashboard number (same definitions), oldest first. */
  @Get('dashboard/conversations')
  @ApiOkResponse({ type: DrillResponse })
  @RequireScopes('conversations:read')
  drill(@CurrentPrincipal() me: Principal, @Query() q: DrillQuery) {
    return this.reports.drill(me, q);
  }

  /** Every unresolved conversation of the agent to their team queue or to one person; each its own audited change. */
  @Post('agents/:id/reassign-all')
  @HttpCode(200)
  @ApiOkResponse({ type: ReassignAllResponse })
  @RequireScopes('conversations:write')
  reassignAll(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string, @Body() dto: ReassignAllDto) {
    return this.reports.reassignAll(me, id, dto);
  }

  @Get('reports/:kind')
  @ApiParam({ name: 'kind', enum: REPORT_KINDS })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ description: `The report (docs/METRICS.md); with format=csv the same as ${CSV_DOC}` })
  @RequireScopes('conversations:read')
  async report(@CurrentPrincipal() me: Principal, @Param('kind') kind: string, @Query() q: ReportQuery, @Res({ passthrough: true }) res: Response) {
    const k = kindOf(kind);
    if (q.format !== 'csv') return this.reports.report(me, k, q);
    await sendCsv(res, `${k}.csv`, this.reports.reportCsv(me, k, q));
  }

  /** The rows behind a report: JSON a page at a time (`cursor`), or every row streamed as CSV (format=csv). */
  @Get('reports/:kind/raw')
  @ApiParam({ name: 'kind', enum: REPORT_KINDS })
  @ApiQuery({ name: 'cursor', required: false })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ description: `{columns, rows, nextCursor}; with format=csv ${CSV_DOC}, streamed` })
  @RequireScopes('conversations:read')
  async raw(@CurrentPrincipal() me: Principal, @Param('kind') kind: string, @Query() q: ReportQuery, @Query('cursor') cursor: string | undefined, @Res({ passthrough: true }) res: Response) {
    const k = kindOf(kind);
    if (q.format !== 'csv') return this.reports.rawPage(me, k, q, cursor ?? null, 1000);
    await sendCsv(res, `${k}-raw.csv`, this.reports.rawCsv(me, k, q));
  }
}
