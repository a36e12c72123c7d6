import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ROLES, type Actor } from '@app/contracts';

export { ROLES };
export type Role = (typeof ROLES)[number];

/**
 * What a route needs. Users get scopes from their role; API keys carry the scopes they were created with.
 * `bot`: the key is an integrator's bot (principal kind `bot`), which may hold conversations and hand them over.
 */
export const SCOPES = ['conversations:read', 'conversations:write', 'messages:send', 'audit:read', 'contacts:read', 'contacts:write', 'webhooks:manage', 'admin', 'bot'] as const;
export type Scope = (typeof SCOPES)[number];

export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  viewer: ['conversations:read', 'contacts:read'],
  agent: ['conversations:read', 'conversations:write', 'messages:send', 'contacts:read'],
  manager: ['conversations:read', 'conversations:write', 'messages:send', 'audit:read', 'contacts:read', 'contacts:write'],
  admin: SCOPES.filter((s) => s !== 'bot'), // only an API key can be a bot
};

/**
 * The only scopes a bot key may carry besides `bot`: it reads, and it replies where it holds the conversation (routing
 * checks that). It never assigns, resolves, hands off or changes contacts or settings: bots act only on what they hold.
 */
export const BOT_SCOPES: readonly Scope[] = ['bot', 'conversations:read', 'contacts:read', 'messages:send'];

/** Who is calling: a signed-in user, an integrator's API key, or an API key with the `bot` scope (a bot). */
export interface Principal {
  kind: 'user' | 'api_key' | 'bot';
  id: string;
  name: string;
  email: string | null;
  /** API keys act organisation-wide (like an admin) within their scopes. */
  role: Role;
  teamIds: string[];
  scopes: readonly Scope[];
  sessionId?: string;
}

/** The acting user as other services need it (routing checks permissions with it). */
export function actorOf(p: Principal): Actor {
  return { type: p.kind, id: p.id, name: p.name, role: p.role, teamIds: p.teamIds };
}

export const SCOPES_KEY = 'switchboard:scopes';
/** Every listed scope is required (in addition to being authenticated). */
export const RequireScopes = (...scopes: Scope[]) => SetMetadata(SCOPES_KEY, scopes);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<{ user: Principal }>().user;
});
