import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  DeleteCsatSettingV1,
  GetConversationCsatV1,
  ListCsatSettingsV1,
  PutCsatSettingV1,
  type Actor,
  type CsatSetting,
  type CsatSurvey,
  type RequestOf,
} from '@app/contracts';
import { Bus, currentCorrelationId, ForbiddenError, NotFoundError } from '@app/messaging';
import { canSee } from '../work/permissions';
import { AuditRepository, WorkRepository } from '../work/work.repository';
import { CsatRepository, toSurvey } from './csat.repository';

const managesTeam = (a: Actor, teamId: string | null) => a.role === 'admin' || (a.role === 'manager' && !!teamId && a.teamIds.includes(teamId));

/** CSAT settings (admins: any team or number; managers: their teams) and a conversation's surveys (whoever may see it). */
@Injectable()
export class CsatSettingsService implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly csat: CsatRepository,
    private readonly work: WorkRepository,
    private readonly audit: AuditRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all([
      this.bus.respond(PutCsatSettingV1, (r) => this.put(r)),
      this.bus.respond(ListCsatSettingsV1, (r) => this.list(r.actor)),
      this.bus.respond(DeleteCsatSettingV1, (r) => this.remove(r.actor, r.id)),
      this.bus.respond(GetConversationCsatV1, (r) => this.forConversation(r.actor, r.conversationId)),
    ]);
  }

  async put(r: RequestOf<typeof PutCsatSettingV1>): Promise<CsatSetting> {
    const a = r.actor;
    if (r.setting.phoneNumberId && a.role !== 'admin') throw new ForbiddenError('only admins set a business number’s CSAT survey; managers set their teams’');
    if (r.setting.teamId && !managesTeam(a, r.setting.teamId)) throw new ForbiddenError('only admins and the team’s managers set its CSAT survey');
    return this.ds.transaction(async (em) => {
      const before = await this.csat.lockScope(em, r.setting);
      const after = await this.csat.put(em, r.setting);
      await this.record(em, a, before ? 'csat.setting.updated' : 'csat.setting.created', after, before, after);
      return after;
    });
  }

  async list(a: Actor): Promise<{ items: CsatSetting[] }> {
    if (a.role !== 'admin' && a.role !== 'manager') throw new ForbiddenError('only admins and managers see CSAT settings');
    return { items: await this.csat.list(this.ds.manager, a.role === 'admin' ? null : a.teamIds) };
  }

  async remove(a: Actor, id: string): Promise<{ deleted: boolean }> {
    return this.ds.transaction(async (em) => {
      const s = await this.csat.get(em, id, true);
      if (!s) throw new NotFoundError('no such CSAT setting');
      if (s.phoneNumberId ? a.role !== 'admin' : !managesTeam(a, s.teamId)) throw new ForbiddenError('only admins and the team’s managers delete its CSAT survey');
      const deleted = await this.csat.delete(em, id);
      if (deleted) await this.record(em, a, 'csat.setting.deleted', s, s, null);
      return { deleted };
    });
  }

  /** A setting change in the audit trail (no conversation; the setting's team, so its managers see it). */
  private record(em: EntityManager, a: Actor, action: string, setting: CsatSetting, before: unknown, after: unknown): Promise<void> {
    return this.audit.append(em, {
      conversationId: null,
      teamId: setting.teamId,
      actor: { type: a.type, id: a.id, name: a.name },
      action,
      before,
      after,
      requestId: currentCorrelationId() ?? null,
    });
  }

  async forConversation(a: Actor, conversationId: string): Promise<{ items: CsatSurvey[] }> {
    const w = await this.work.find(this.ds.manager, conversationId);
    if (!w || !canSee(a, w)) throw new NotFoundError('conversation not found');
    return { items: (await this.csat.forConversation(this.ds.manager, conversationId)).map(toSurvey) };
  }
}
