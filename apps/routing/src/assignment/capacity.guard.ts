import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ConflictError } from '@app/messaging';
import { AgentRepository, TeamRoutingRepository } from './assignment.repository';

/**
 * A person taking a conversation by hand (claim, reply) stays within the same limits as the strategies: the
 * agent's own maximum, the team's per-agent maximum and the team's total. Locks the team row (only with a total)
 * and the agent row after the work row, like the automatic path, so the count it checks cannot move under it.
 */
@Injectable()
export class CapacityGuard {
  constructor(
    private readonly agents: AgentRepository,
    private readonly teams: TeamRoutingRepository,
  ) {}

  async check(em: EntityManager, userId: string, teamId: string | null): Promise<void> {
    const s = teamId ? await this.teams.get(em, teamId) : null;
    if (teamId && s?.maxOpenTeam != null) {
      await this.teams.get(em, teamId, true);
      if ((await this.agents.teamOpenCount(em, teamId)) >= s.maxOpenTeam)
        throw new ConflictError(`team ${teamId} has reached its maximum of ${s.maxOpenTeam} open conversations`, { reason: 'team-capacity' });
    }
    const a = await this.agents.lock(em, userId);
    const caps = [a?.maxOpen ?? null, s?.maxOpenPerAgent ?? null].filter((c): c is number => c !== null);
    if (!caps.length) return;
    const cap = Math.min(...caps);
    // not projected yet (never set a status): only this person's own claims can race, so serialise those
    if (!a) await em.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`routing.agent:${userId}`]);
    const open = await this.agents.openCount(em, userId);
    if (open >= cap) throw new ConflictError(`you have ${open} open conversations; the maximum is ${cap}`, { reason: 'capacity', open, max: cap });
  }
}
