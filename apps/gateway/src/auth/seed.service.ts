import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { TeamsRepository } from '../teams/teams.repository';
import { UsersRepository } from '../users/users.repository';
import { hashPassword } from './password';
import type { Role } from './principal';

export const DEMO_DOMAIN = 'demo.switchboard.test';
export const DEMO_TEAMS = ['Sales', 'Support', 'After-sales'] as const;
/** The demo organisation: clearly labelled ("Demo …" names, @demo.switchboard.test emails). */
export const DEMO_USERS: { email: string; name: string; role: Role; teams: (typeof DEMO_TEAMS)[number][] }[] = [
  { email: `manager@${DEMO_DOMAIN}`, name: 'Demo Manager (Mara)', role: 'manager', teams: ['Sales', 'Support', 'After-sales'] },
  { email: `ana@${DEMO_DOMAIN}`, name: 'Demo Agent (Ana, Sales)', role: 'agent', teams: ['Sales'] },
  { email: `ben@${DEMO_DOMAIN}`, name: 'Demo Agent (Ben, Sales + Support)', role: 'agent', teams: ['Sales', 'Support'] },
  { email: `chloe@${DEMO_DOMAIN}`, name: 'Demo Agent (Chloé, Support)', role: 'agent', teams: ['Support'] },
  { email: `dan@${DEMO_DOMAIN}`, name: 'Demo Agent (Dan, After-sales)', role: 'agent', teams: ['After-sales'] },
];

/**
 * On start: the first admin from ADMIN_EMAIL / ADMIN_PASSWORD when no admin exists, and the demo organisation
 * when SEED_DEMO=true (once; existing rows are left alone). Replicas starting together take turns (advisory lock).
 */
@Injectable()
export class SeedService implements OnApplicationBootstrap {
  private readonly log = new Logger('Seed');

  constructor(
    private readonly ds: DataSource,
    private readonly users: UsersRepository,
    private readonly teams: TeamsRepository,
    @Inject(GATEWAY_CONFIG) private readonly cfg: GatewayConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ds.transaction(async (em) => {
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('switchboard-seed-people'))`);
      await this.firstAdmin(em);
      if (this.cfg.SEED_DEMO) await this.demo(em);
    });
  }

  private async firstAdmin(em: EntityManager): Promise<void> {
    if (!this.cfg.ADMIN_EMAIL || !this.cfg.ADMIN_PASSWORD) return;
    if (await this.users.anyAdmin(em)) return;
    const id = await this.users.insert(em, {
      email: this.cfg.ADMIN_EMAIL,
      name: 'Administrator',
      role: 'admin',
      passwordHash: await hashPassword(this.cfg.ADMIN_PASSWORD),
    });
    if (id) this.log.log('created the first admin from ADMIN_EMAIL');
    else this.log.warn('ADMIN_EMAIL belongs to an existing non-admin user; no admin created');
  }

  private async demo(em: EntityManager): Promise<void> {
    const teamIds = new Map<string, string>();
    for (const name of DEMO_TEAMS) {
      const t = (await this.teams.findByName(em, name)) ?? (await this.teams.insert(em, name));
      teamIds.set(name, t!.id);
    }
    const passwordHash = await hashPassword(this.cfg.DEMO_PASSWORD);
    let created = 0;
    for (const u of DEMO_USERS) {
      const id = await this.users.insert(em, { email: u.email, name: u.name, role: u.role, passwordHash });
      if (!id) continue;
      await this.users.setTeams(em, id, u.teams.map((t) => teamIds.get(t)!));
      created++;
    }
    if (created) this.log.log(`seeded the demo organisation: ${DEMO_TEAMS.join(', ')}; ${created} users @${DEMO_DOMAIN}`);
  }
}
