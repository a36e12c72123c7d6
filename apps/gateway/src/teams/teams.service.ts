import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource, QueryFailedError } from 'typeorm';
import { TeamsRepository, type TeamView } from './teams.repository';

@Injectable()
export class TeamsService {
  constructor(
    private readonly ds: DataSource,
    private readonly teams: TeamsRepository,
  ) {}

  async create(name: string): Promise<TeamView> {
    const t = await this.teams.insert(this.ds.manager, name.trim());
    if (!t) throw new ConflictException(`a team named "${name.trim()}" exists`);
    return t;
  }

  async rename(id: string, name: string): Promise<TeamView> {
    const t = await this.teams.rename(this.ds.manager, id, name.trim()).catch((err) => {
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
