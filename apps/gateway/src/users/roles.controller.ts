import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiSecurity, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Controller, Get, UseGuards } from '@nestjs/common';
import { AuthGuard } from '../auth/auth.guard';
import { ErrorResponse } from '../auth/auth.responses';
import { RequireScopes, ROLE_SCOPES, ROLES, type Role, type Scope } from '../auth/principal';

/** What each scope lets a caller do (routes check scopes; routing then decides per conversation). */
const SCOPE_WORDS: Record<Scope, string> = {
  'conversations:read': 'see conversations, messages, notes and the directory',
  'conversations:write': 'claim, assign, hand off, label, prioritise, change status, add notes, run macros',
  'messages:send': 'reply to customers (only in conversations they own)',
  'audit:read': 'read the audit trail',
  'contacts:read': 'see contacts',
  'contacts:write': 'edit, block, merge and erase contacts',
  'webhooks:manage': 'manage event webhooks',
  admin: 'manage users, teams, roles, API keys, numbers and every setting',
  bot: 'hold conversations as a bot and hand them over (API keys only)',
};

/** The rules routing applies on top of the scopes, per role (libs/contracts routing.permissions, routing's work service). */
const ROLE_WORDS: Record<Role, string> = {
  admin: 'Everything, in every team.',
  manager: 'Their teams’ conversations: take over, reassign, bulk reassign; SLA policies, business hours, routing rules and automation for their teams; reports and the audit trail of their teams.',
  agent: 'Their teams’ conversations and the unassigned queue: claim, reply to the ones they own, hand off; personal macros and canned responses.',
  viewer: 'Read only: their teams’ conversations.',
};

class RoleScopeResponse {
  @ApiProperty() scope!: string;
  @ApiProperty() description!: string;
}
class RoleResponse {
  @ApiProperty({ enum: ROLES }) role!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ type: [RoleScopeResponse] }) scopes!: RoleScopeResponse[];
}
class RoleListResponse {
  @ApiProperty({ type: [RoleResponse] }) items!: RoleResponse[];
  @ApiProperty({ description: 'false: only the built-in roles exist (custom roles are not built)' }) custom!: boolean;
}

/** The built-in roles and what they may do, read-only (a person's role is changed on the user). */
@ApiTags('users')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@Controller('api/v1/roles')
@UseGuards(AuthGuard)
export class RolesController {
  @Get()
  @ApiOkResponse({ type: RoleListResponse })
  @RequireScopes('conversations:read')
  list(): RoleListResponse {
    const order: Role[] = ['admin', 'manager', 'agent', 'viewer'];
    return {
      items: order.map((role) => ({ role, description: ROLE_WORDS[role], scopes: ROLE_SCOPES[role].map((scope) => ({ scope, description: SCOPE_WORDS[scope] })) })),
      custom: false,
    };
  }
}
