import { Inject, Injectable, Logger, OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { SetNumberTeamV1 } from '@app/contracts';
import { Bus } from '@app/messaging';
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
export class SeedService implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopped = false;
  private readonly log = new Logger('Seed');

  constructor(
    private readonly ds: DataSource,
    private readonly users: UsersRepository,
    private readonly teams: TeamsRepository,
    @Inject(GATEWAY_CONFIG) private readonly cfg: GatewayConfig,
    @Inject(Bus) private readonly bus: Bus,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const salesTeam = await this.ds.transaction(async (em) => {
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('switchboard-seed-people'))`);
      await this.firstAdmin(em);
      return this.cfg.SEED_DEMO ? this.demo(em) : null;
    });
    // first demo seed only (an admin may change it later): the sandbox's number lands in the Sales queue
    if (salesTeam) void this.mapDemoNumber(salesTeam);
  }

  /** Routing may still be starting: retry for up to two minutes, in the background. */
  private async mapDemoNumber(teamId: string): Promise<void> {
    const actor = { type: 'system' as const, id: 'gateway-seed', name: 'demo seed', role: 'admin' as const, teamIds: [] };
    for (let attempt = 0; attempt < 60 && !this.stopped; attempt++) {
      try {
        await this.bus.request(SetNumberTeamV1, { actor, phoneNumberId: this.cfg.DEMO_PHONE_NUMBER_ID, teamId });
        this.log.log(`demo: the sandbox number ${this.cfg.DEMO_PHONE_NUMBER_ID} lands in the Sales queue`);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 2_000).unref());
      }
    }
    if (!this.stopped) this.log.warn('demo: could not map the sandbox number to Sales (routing never answered)');
  }

  onApplicationShutdown(): void {
    this.stopped = true;
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

  /** Returns the Sales team id when the demo users were created now (first seed), else null. */
  private async demo(em: EntityManager): Promise<string | null> {
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
    return created ? teamIds.get('Sales')! : null;
  }
}
