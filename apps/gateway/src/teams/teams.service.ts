import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource, QueryFailedError } from 'typeorm';
import { DirectoryAudit } from '../auth/directory-audit';
import type { Principal } from '../auth/principal';
import { TeamsRepository, type TeamView } from './teams.repository';

@Injectable()
export class TeamsService {
  constructor(
    private readonly ds: DataSource,
    private readonly teams: TeamsRepository,
    private readonly audit: DirectoryAudit,
  ) {}

  create(name: string, by: Principal): Promise<TeamView> {
    return this.ds.transaction(async (em) => {
      const t = await this.teams.insert(em, name.trim());
      if (!t) throw new ConflictException(`a team named "${name.trim()}" exists`);
      await this.audit.record(em, by, { action: 'team.created', entityType: 'team', entityId: t.id, before: null, after: { name: t.name } });
      return t;
    });
  }

  async rename(id: string, name: string, by: Principal): Promise<TeamView> {
    const t = await this.ds.transaction(async (em) => {
      const before = await this.teams.findById(em, id);
      const after = await this.teams.rename(em, id, name.trim());
      if (before && after)
        await this.audit.record(em, by, { action: 'team.renamed', entityType: 'team', entityId: id, before: { name: before.name }, after: { name: after.name } });
      return after;
    }).catch((err) => {
      if (err instanceof QueryFailedError && (err as { code?: string }).code === '23505')
        throw new ConflictException(`a team named "${name.trim()}" exists`, { cause: err });
      throw err;
    });
    if (!t) throw new NotFoundException(`team ${id} not found`);
    return this.get(id);
  }

  async get(id: string): Promise<TeamView> {
    const t = await this.teams.findById(this.ds.manager, id);
    if (!t) throw new NotFoundException(`team ${id} not found`);
    return t;
  }

  async exists(id: string): Promise<boolean> {
    return (await this.teams.findById(this.ds.manager, id)) !== null;
  }

  list(): Promise<TeamView[]> {
    return this.teams.list(this.ds.manager);
  }
}
