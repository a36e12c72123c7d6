import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Put, Query, UseGuards } from '@nestjs/common';
import { AuthGuard } from '../auth/auth.guard';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import {
  AssignDto,
  ClaimDto,
  HandoffDto,
  LabelsDto,
  ListQuery,
  NoteDto,
  NumberTeamDto,
  PriorityDto,
  ReplyDto,
  StatusDto,
  TakeoverDto,
  TimelineQuery,
} from './inbox.dto';
import { InboxService } from './inbox.service';

const Id = new ParseUUIDPipe({ version: undefined });

/** The team inbox: who works on which conversation, and replies. Permissions are enforced by routing. */
@Controller('api/v1/conversations')
@UseGuards(AuthGuard)
export class InboxController {
  constructor(private readonly inbox: InboxService) {}

  @Get()
  @RequireScopes('conversations:read')
  list(@CurrentPrincipal() me: Principal, @Query() q: ListQuery) {
    return this.inbox.list(me, q);
  }

  @Get(':id')
  @RequireScopes('conversations:read')
  get(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string) {
    return this.inbox.get(me, id);
  }

  @Get(':id/timeline')
  @RequireScopes('conversations:read')
  timeline(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Query() q: TimelineQuery) {
    return this.inbox.timeline(me, id, q.limit ?? 500);
  }

  @Post(':id/claim')
  @HttpCode(200)
  @RequireScopes('conversations:write')
  claim(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: ClaimDto) {
    return this.inbox.claim(me, id, dto.version);
  }

  @Post(':id/assign')
  @HttpCode(200)
  @RequireScopes('conversations:write')
  assign(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: AssignDto) {
    return this.inbox.assign(me, id, dto);
  }

  @Post(':id/handoff')
  @HttpCode(200)
  @RequireScopes('conversations:write')
  handoff(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: HandoffDto) {
    return this.inbox.handoff(me, id, dto);
  }

  @Post(':id/status')
  @HttpCode(200)
  @RequireScopes('conversations:write')
  status(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: StatusDto) {
    return this.inbox.setStatus(me, id, dto);
  }

  @Post(':id/takeover')
  @HttpCode(200)
  @RequireScopes('conversations:write')
  takeover(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: TakeoverDto) {
    return this.inbox.takeover(me, id, dto.version);
  }

  @Post(':id/labels')
  @HttpCode(200)
  @RequireScopes('conversations:write')
  labels(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: LabelsDto) {
    return this.inbox.setLabels(me, id, dto.version, dto.labels);
  }

  @Post(':id/priority')
  @HttpCode(200)
  @RequireScopes('conversations:write')
  priority(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: PriorityDto) {
    return this.inbox.setPriority(me, id, dto.version, dto.priority);
  }

  @Post(':id/notes')
  @RequireScopes('conversations:write')
  note(@CurrentPrincipal() me: Principal, @Param('id', Id) id: string, @Body() dto: NoteDto) {
    return this.inbox.addNote(me, id, dto);
  }

  /** Reply (free-form text). Requires `Idempotency-Key`; only the owner may send. */
  @Post(':id/messages')
  @HttpCode(202)
  @RequireScopes('messages:send')
  reply(
    @CurrentPrincipal() me: Principal,
    @Param('id', Id) id: string,
    @Headers('idempotency-key') key: string | undefined,
    @Body() dto: ReplyDto,
  ) {
    return this.inbox.reply(me, id, key, dto);
  }
}

/** Admin: which team's queue new conversations on a business number land in. */
@Controller('api/v1/numbers')
@UseGuards(AuthGuard)
export class NumbersController {
  constructor(private readonly inbox: InboxService) {}

  @Put(':phoneNumberId/team')
  @RequireScopes('admin')
  setTeam(@CurrentPrincipal() me: Principal, @Param('phoneNumberId') phoneNumberId: string, @Body() dto: NumberTeamDto) {
    return this.inbox.setNumberTeam(me, phoneNumberId, dto.teamId);
  }
}
