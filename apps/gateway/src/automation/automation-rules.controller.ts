import { ApiBody } from '@nestjs/swagger';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { z } from 'zod';
import { AUTOMATION_EVENTS, AutomationRuleInput, AutomationRulePatch, CreateAutomationRuleV1, DeleteAutomationRuleV1, DryRunAutomationV1, ListAutomationRulesV1, SetAutomationRuleEnabledV1, UpdateAutomationRuleV1 } from '@app/contracts';
import { Bus } from '@app/messaging';
import { actorOf, CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { parseBody } from '../http/parse-body';
import { AutomationApi } from './automation-api.decorator';
import { AutomationRefsService } from './automation-refs.service';

const EnabledBody = z.object({ enabled: z.boolean() }).strict();
const DryRunBody = z
  .object({ conversationId: z.string().uuid(), event: z.enum(AUTOMATION_EVENTS), text: z.string().max(4096).optional(), label: z.string().max(50).optional() })
  .strict();

/**
 * Automation rules (admins; managers for rules naming only their teams): `{name, event, conditions, actions, enabled}`;
 * unknown fields, missing teams/users/canned responses, unapproved templates and rules that would trigger each other
 * endlessly → 400 (templates: 503 when notifications does not answer). Routing runs them.
 */
@AutomationApi()
@Controller('api/v1/automation/rules')
export class AutomationRulesController {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly refs: AutomationRefsService,
  ) {}

  @Get()
  @RequireScopes('conversations:read')
  list(@CurrentPrincipal() me: Principal) {
    return this.bus.request(ListAutomationRulesV1, { actor: actorOf(me) });
  }

  @Post()
  @ApiBody({ schema: { type: 'object' } })
  @RequireScopes('conversations:write')
  async create(@CurrentPrincipal() me: Principal, @Body() body: unknown) {
    const rule = parseBody(AutomationRuleInput, body);
    await this.refs.check(me, { conditions: rule.conditions, actions: rule.actions, field: 'actions', personal: false });
    return this.bus.request(CreateAutomationRuleV1, { actor: actorOf(me), rule });
  }

  /**
   * `{enabled}` turns a rule on or off; any of `{name, event, conditions, actions, enabled}` changes it (given fields
   * replace the old ones; the result is checked like a new rule). Audited.
   */
  @Patch(':id')
  @ApiBody({ schema: { type: 'object', properties: { enabled: { type: 'boolean' } } } })
  @RequireScopes('conversations:write')
  async update(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string, @Body() body: unknown) {
    const only = body && typeof body === 'object' && Object.keys(body).length === 1 && 'enabled' in body;
    if (only) {
      const { enabled } = parseBody(EnabledBody, body);
      if (enabled) await this.recheck(me, id, {});
      return this.bus.request(SetAutomationRuleEnabledV1, { actor: actorOf(me), ruleId: id, enabled });
    }
    const patch = parseBody(AutomationRulePatch, body);
    if (patch.actions || patch.conditions || patch.enabled === true) await this.recheck(me, id, patch);
    return this.bus.request(UpdateAutomationRuleV1, { actor: actorOf(me), ruleId: id, patch });
  }

  /**
   * The references of the rule as it will be (its stored conditions/actions with the patch's over them): a rule moved
   * to other teams or enabled again is checked against its new scope (templates of those teams' numbers, an assignee's
   * membership) like a new rule. A rule the caller cannot see: only the patch (routing then answers 403/404).
   * Residual: a change made between this read and routing's update is not re-checked.
   */
  private async recheck(me: Principal, id: string, patch: Pick<AutomationRulePatch, 'conditions' | 'actions'>): Promise<void> {
    const current = (await this.bus.request(ListAutomationRulesV1, { actor: actorOf(me) })).items.find((r) => r.id === id);
    const conditions = patch.conditions ?? current?.conditions;
    const actions = patch.actions ?? current?.actions ?? [];
    await this.refs.check(me, { conditions, actions, field: 'actions', personal: false });
  }

  @Delete(':id')
  @RequireScopes('conversations:write')
  remove(@CurrentPrincipal() me: Principal, @Param('id', ParseUUIDPipe) id: string) {
    return this.bus.request(DeleteAutomationRuleV1, { actor: actorOf(me), ruleId: id });
  }

  /** Which enabled rules would run for that event on a (past) conversation. Changes nothing. */
  @Post('dry-run')
  @HttpCode(200)
  @ApiBody({ schema: { type: 'object' } })
  @RequireScopes('conversations:read')
  dryRun(@CurrentPrincipal() me: Principal, @Body() body: unknown) {
    return this.bus.request(DryRunAutomationV1, { actor: actorOf(me), ...parseBody(DryRunBody, body) });
  }
}
