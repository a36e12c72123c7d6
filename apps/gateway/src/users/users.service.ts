import { ConflictException, Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuthRepository } from '../auth/auth.repository';
import { hashPassword } from '../auth/password';
import { DirectoryAudit } from '../auth/directory-audit';
import type { Principal, Role } from '../auth/principal';
import { TeamsRepository } from '../teams/teams.repository';
import { UsersRepository, type UserView } from './users.repository';

export interface CreateUserCommand {
  email: string;
  name: string;
  password: string;
  role: Role;
  teamIds?: string[];
}

@Injectable()
export class UsersService {
  constructor(
    private readonly ds: DataSource,
    private readonly users: UsersRepository,
    private readonly teams: TeamsRepository,
    private readonly auth: AuthRepository,
    private readonly audit: DirectoryAudit,
  ) {}

  async create(cmd: CreateUserCommand, by: Principal): Promise<UserView> {
    const passwordHash = await hashPassword(cmd.password);
    return this.ds.transaction(async (em) => {
      await this.checkTeams(em, cmd.teamIds ?? []);
      const id = await this.users.insert(em, { email: cmd.email, name: cmd.name, role: cmd.role, passwordHash });
      if (!id) throw new ConflictException(`a user with email ${cmd.email} exists`);
      await this.users.setTeams(em, id, cmd.teamIds ?? []);
      const created = (await this.users.findById(em, id))!;
      await this.audit.record(em, by, { action: 'user.created', entityType: 'user', entityId: id, before: null, after: auditView(created) });
      return created;
    });
  }

  async update(
    id: string,
    cmd: { name?: string; password?: string; role?: Role; teamIds?: string[]; disabled?: boolean },
    by: Principal,
  ): Promise<UserView> {
    const passwordHash = cmd.password ? await hashPassword(cmd.password) : undefined;
    return this.ds.transaction(async (em) => {
      if (cmd.teamIds) await this.checkTeams(em, cmd.teamIds);
      const before = await this.users.findById(em, id);
      const found = await this.users.update(em, id, { name: cmd.name, role: cmd.role, passwordHash, disabled: cmd.disabled });
      if (!found) throw new NotFoundException(`user ${id} not found`);
      if (cmd.teamIds) await this.users.setTeams(em, id, cmd.teamIds);
      // a disabled user or a new password ends every session at once
      if (cmd.disabled || passwordHash) await this.auth.revokeUserSessions(em, id);
      const after = (await this.users.findById(em, id))!;
      await this.audit.record(em, by, {
        action: 'user.updated',
        entityType: 'user',
        entityId: id,
        before: auditView(before!),
        after: { ...auditView(after), ...(passwordHash ? { passwordChanged: true } : {}) },
      });
      return after;
    });
  }

  async get(id: string): Promise<UserView> {
    const u = await this.users.findById(this.ds.manager, id);
    if (!u) throw new NotFoundException(`user ${id} not found`);
    return u;
  }

  byIds(ids: string[]): Promise<UserView[]> {
    return this.users.findByIds(this.ds.manager, ids);
  }

  list(filter: { teamId?: string; role?: Role }): Promise<UserView[]> {
    return this.users.list(this.ds.manager, filter);
  }

  private async checkTeams(em: import('typeorm').EntityManager, teamIds: string[]): Promise<void> {
    const missing = await this.teams.missing(em, teamIds);
    if (missing.length) throw new UnprocessableEntityException(`unknown team(s): ${missing.join(', ')}`);
  }
}

/** What the audit trail keeps of a user (never the password hash). */
function auditView(u: UserView): Record<string, unknown> {
  return { email: u.email, name: u.name, role: u.role, teamIds: u.teamIds, disabled: u.disabled };
}
