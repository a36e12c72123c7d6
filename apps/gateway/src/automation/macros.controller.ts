import { ApiBody } from '@nestjs/swagger';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { z } from 'zod';
import { CreateMacroV1, DeleteMacroV1, ListMacrosV1, MacroStep, RunMacroV1, UpdateMacroV1 } from '@app/contracts';
import { Bus } from '@app/messaging';
import { actorOf, CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { parseBody } from '../http/parse-body';
import { AutomationApi } from './automation-api.decorator';
import { AutomationRefsService } from './automation-refs.service';

const CreateMacroBody = z
  .object({ name: z.string().trim().min(1).max(100), shared: z.boolean().default(false), steps: z.array(MacroStep).min(1).max(20) })
  .strict();
const UpdateMacroBody = CreateMacroBody.partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one of name, shared, steps' });
const RunMacroBody = z.object({ conversationId: z.string().uuid() }).strict();

/**
 * Macros: named sequences of routing's audited commands run in one click (shared: admins/managers; personal:
 * anyone). Running one executes each step as the caller, so ownership and permissions hold.
 */
@AutomationApi()
@Controller('api/v1/macros')
export class MacrosController {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly refs: AutomationRefsService,
  ) {}

  @Get()
  @RequireScopes('conversations:read')
  list(@CurrentPrincipal() me: Principal) {
    return this.bus.request(ListMacrosV1, { actor: actorOf(me) });
  }

  /** `{name, shared?, steps: [{type: addLabels|removeLabels|setPriority|setStatus|handoff|note|notify|sendCanned, …}]}`; unknown fields, missing
   * teams/users/canned responses → 400. */
  @Post()
  @ApiBody({ schema: { type: 'object' } })
  @RequireScopes('conversations:write')
  async create(@CurrentPrincipal() me: Principal, @Body() body: unknown) {
    const dto = parseBody(CreateMacroBody, body);
    await this.refs.check(me, { actions: dto.steps, field: 'steps', personal: !dto.shared });
    return this.bus.request(CreateMacroV1, { actor: actorOf(me), ...dto });
  }

  /** Any of `{name, shared, steps}` (steps replace the old ones); a personal macro by its owner, a shared one by admins/managers. */
  @Patch(':id')
  @ApiBody({ schema: { type: 'object' } })
  @RequireScopes('conversations:write')
  async update(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string, @Body() body: unknown) {
    const dto = parseBody(UpdateMacroBody, body);
    // sharing stays what it was unless given: then the macro (if the caller sees it) tells whether it is personal
    const sendsCanned = !!dto.steps?.some((s) => s.type === 'sendCanned');
    const shared = dto.shared ?? (sendsCanned && (await this.bus.request(ListMacrosV1, { actor: actorOf(me) })).items.find((m) => m.id === id)?.ownerId === null);
    await this.refs.check(me, { actions: dto.steps ?? [], field: 'steps', personal: !shared });
    return this.bus.request(UpdateMacroV1, { actor: actorOf(me), macroId: id, ...dto });
  }

  @Delete(':id')
  @RequireScopes('conversations:write')
  remove(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.bus.request(DeleteMacroV1, { actor: actorOf(me), macroId: id });
  }

  @Post(':id/run')
  @HttpCode(200)
  @ApiBody({ schema: { type: 'object', properties: { conversationId: { type: 'string', format: 'uuid' } } } })
  @RequireScopes('conversations:write')
  run(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string, @Body() body: unknown) {
    return this.bus.request(RunMacroV1, { actor: actorOf(me), macroId: id, conversationId: parseBody(RunMacroBody, body).conversationId });
  }
}
