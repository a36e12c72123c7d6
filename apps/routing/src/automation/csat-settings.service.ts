import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
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
import { Bus, ForbiddenError, NotFoundError } from '@app/messaging';
import { canSee } from '../work/permissions';
import { WorkRepository } from '../work/work.repository';
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
    return this.csat.put(this.ds.manager, r.setting);
  }

  async list(a: Actor): Promise<{ items: CsatSetting[] }> {
    if (a.role !== 'admin' && a.role !== 'manager') throw new ForbiddenError('only admins and managers see CSAT settings');
    return { items: await this.csat.list(this.ds.manager, a.role === 'admin' ? null : a.teamIds) };
  }

  async remove(a: Actor, id: string): Promise<{ deleted: boolean }> {
    const s = await this.csat.get(this.ds.manager, id);
    if (!s) throw new NotFoundError('no such CSAT setting');
    if (s.phoneNumberId ? a.role !== 'admin' : !managesTeam(a, s.teamId)) throw new ForbiddenError('only admins and the team’s managers delete its CSAT survey');
    return { deleted: await this.csat.delete(this.ds.manager, id) };
  }

  async forConversation(a: Actor, conversationId: string): Promise<{ items: CsatSurvey[] }> {
    const w = await this.work.find(this.ds.manager, conversationId);
    if (!w || !canSee(a, w)) throw new NotFoundError('conversation not found');
    return { items: (await this.csat.forConversation(this.ds.manager, conversationId)).map(toSurvey) };
  }
}
