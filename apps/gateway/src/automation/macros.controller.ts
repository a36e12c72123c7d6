import { ApiBadRequestResponse, ApiBearerAuth, ApiBody, ApiForbiddenResponse, ApiSecurity, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { BadRequestException, Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { CreateMacroV1, ListMacrosV1, MacroStep, RunMacroV1, describeIssues } from '@app/contracts';
import { Bus } from '@app/messaging';
import { ErrorResponse } from '../auth/auth.responses';
import { AuthGuard } from '../auth/auth.guard';
import { actorOf, CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { TeamsService } from '../teams/teams.service';

const CreateMacroBody = z
  .object({ name: z.string().trim().min(1).max(100), shared: z.boolean().default(false), steps: z.array(MacroStep).min(1).max(20) })
  .strict();
const RunMacroBody = z.object({ conversationId: z.string().uuid() }).strict();

/** A JSON body checked against a contract's zod schema (strict): 400 naming the fields. */
export function parseBody<T extends z.ZodTypeAny>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (!r.success) throw new BadRequestException(describeIssues(r.error.issues));
  return r.data;
}

/**
 * Macros: named sequences of routing's audited commands run in one click (shared: admins/managers; personal:
 * anyone). Running one executes each step as the caller, so ownership and permissions hold.
 */
@ApiTags('automation')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse })
@ApiBadRequestResponse({ type: ErrorResponse })
@Controller('api/v1/macros')
@UseGuards(AuthGuard)
export class MacrosController {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly teams: TeamsService,
  ) {}

  @Get()
  @RequireScopes('conversations:read')
  list(@CurrentPrincipal() me: Principal) {
    return this.bus.request(ListMacrosV1, { actor: actorOf(me) });
  }

  /** `{name, shared?, steps: [{type: addLabels|removeLabels|setPriority|setStatus|handoff|note, …}]}`; unknown fields → 400. */
  @Post()
  @ApiBody({ schema: { type: 'object' } })
  @RequireScopes('conversations:write')
  async create(@CurrentPrincipal() me: Principal, @Body() body: unknown) {
    const dto = parseBody(CreateMacroBody, body);
    for (const [i, s] of dto.steps.entries())
      if (s.type === 'handoff' && !(await this.teams.exists(s.toTeamId))) throw new BadRequestException(`steps.${i}.toTeamId: team ${s.toTeamId} does not exist`);
    return this.bus.request(CreateMacroV1, { actor: actorOf(me), ...dto });
  }

  @Post(':id/run')
  @HttpCode(200)
  @ApiBody({ schema: { type: 'object', properties: { conversationId: { type: 'string', format: 'uuid' } } } })
  @RequireScopes('conversations:write')
  run(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string, @Body() body: unknown) {
    return this.bus.request(RunMacroV1, { actor: actorOf(me), macroId: id, conversationId: parseBody(RunMacroBody, body).conversationId });
  }
}
