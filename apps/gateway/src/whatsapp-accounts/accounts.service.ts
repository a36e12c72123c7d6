import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SetNumberTeamV1 } from '@app/contracts';
import { Bus } from '@app/messaging';
import { DirectoryAudit } from '../auth/directory-audit';
import { actorOf, type Principal } from '../auth/principal';
import { TeamsService } from '../teams/teams.service';
import { SecretBox, viewOf } from '../secrets/secret-box';
import { AccountsRepository, SECRET_FIELDS, type MetaAppRow, type NumberRow, type SecretField, type Status, type WabaRow } from './accounts.repository';
import { AppCredentials } from './app-credentials';
import { GraphProbe } from './graph-probe';

export type AppInput = { name?: string; metaAppId?: string | null; status?: Status } & Partial<Record<SecretField, string>>;

/** A Meta app as the API shows it: secrets only as `{ set, last4 }`. */
export const presentApp = (a: MetaAppRow) => ({
  id: a.id,
  name: a.name,
  metaAppId: a.metaAppId,
  status: a.status,
  appSecret: viewOf({ last4: a.last4.appSecret }),
  verifyToken: viewOf({ last4: a.last4.verifyToken }),
  accessToken: viewOf({ last4: a.last4.accessToken }),
  createdAt: a.createdAt,
  updatedAt: a.updatedAt,
});
const presentWaba = (w: WabaRow) => ({ wabaId: w.wabaId, name: w.name, appId: w.appId, status: w.status, createdAt: w.createdAt, updatedAt: w.updatedAt });
const presentNumber = (n: NumberRow) => ({
  phoneNumberId: n.phoneNumberId,
  wabaId: n.wabaId,
  displayNumber: n.displayNumber,
  defaultTeamId: n.defaultTeamId,
  graphApiVersion: n.graphApiVersion,
  status: n.status,
  lastTest: n.lastTest,
  createdAt: n.createdAt,
  updatedAt: n.updatedAt,
});
/** What the audit keeps of an app: never a secret, only whether each one is set and changed. */
const auditApp = (a: MetaAppRow) => ({ name: a.name, metaAppId: a.metaAppId, status: a.status, ...Object.fromEntries(SECRET_FIELDS.map((f) => [`${f}Last4`, a.last4[f]])) });

/** Collaborators outside the registry itself (kept together so the service stays small). */
@Injectable()
export class AccountsDeps {
  constructor(
    readonly credentials: AppCredentials,
    readonly probe: GraphProbe,
    readonly teams: TeamsService,
    readonly bus: Bus,
  ) {}
  get defaultGraphVersion(): string {
    return this.probe.defaultVersion;
  }
}

/**
 * The registry of Meta apps, WhatsApp Business Accounts and their phone numbers (admins only). Secrets are
 * sealed before they reach the repository and never leave it in clear except to call Meta (test connection)
 * or, over the bus, to services that call the Graph API. Every change is audited (without secrets).
 */
@Injectable()
export class AccountsService {
  constructor(
    private readonly ds: DataSource,
    private readonly accounts: AccountsRepository,
    private readonly box: SecretBox,
    private readonly audit: DirectoryAudit,
    private readonly deps: AccountsDeps,
  ) {}

  private seal(p: AppInput) {
    const sealed: Partial<Record<SecretField, { sealed: string; last4: string }>> = {};
    for (const f of SECRET_FIELDS) if (p[f] !== undefined) sealed[f] = this.box.seal(p[f]!);
    return sealed;
  }

  async createApp(p: AppInput & { name: string }, by: Principal) {
    const a = await this.ds.transaction(async (em) => {
      const a = await this.accounts.insertApp(em, { name: p.name.trim(), metaAppId: p.metaAppId ?? null, sealed: this.seal(p) });
      await this.audit.record(em, by, { action: 'meta-app.created', entityType: 'meta_app', entityId: a.id, before: null, after: auditApp(a) });
      return a;
    });
    await this.deps.credentials.reload();
    return presentApp(a);
  }

  async updateApp(id: string, p: AppInput, by: Principal) {
    const a = await this.ds.transaction(async (em) => {
      const before = await this.accounts.lockApp(em, id);
      if (!before) throw new NotFoundException(`Meta app ${id} not found`);
      const after = await this.accounts.updateApp(em, id, { name: p.name?.trim(), metaAppId: p.metaAppId, status: p.status, sealed: this.seal(p) });
      await this.audit.record(em, by, { action: 'meta-app.updated', entityType: 'meta_app', entityId: id, before: auditApp(before), after: auditApp(after) });
      return after;
    });
    await this.deps.credentials.reload();
    return presentApp(a);
  }

  async getApp(id: string) {
    const a = await this.accounts.getApp(this.ds.manager, id);
    if (!a) throw new NotFoundException(`Meta app ${id} not found`);
    return presentApp(a);
  }

  async listApps() {
    return { items: (await this.accounts.listApps(this.ds.manager)).map(presentApp) };
  }

  async createWaba(p: { wabaId: string; name: string; appId: string }, by: Principal) {
    return this.ds.transaction(async (em) => {
      if (!(await this.accounts.getApp(em, p.appId))) throw new BadRequestException(`appId: Meta app ${p.appId} not found`);
      const w = await this.accounts.insertWaba(em, { ...p, name: p.name.trim() });
      if (!w) throw new ConflictException(`WhatsApp Business Account ${p.wabaId} is already registered`);
      await this.audit.record(em, by, { action: 'waba.created', entityType: 'waba', entityId: w.id, before: null, after: presentWaba(w) });
      return presentWaba(w);
    });
  }

  async updateWaba(wabaId: string, p: { name?: string; appId?: string; status?: Status }, by: Principal) {
    return this.ds.transaction(async (em) => {
      const before = await this.accounts.lockWaba(em, wabaId);
      if (!before) throw new NotFoundException(`WhatsApp Business Account ${wabaId} not found`);
      if (p.appId && !(await this.accounts.getApp(em, p.appId))) throw new BadRequestException(`appId: Meta app ${p.appId} not found`);
      const after = await this.accounts.updateWaba(em, before.id, { ...p, name: p.name?.trim() });
      await this.audit.record(em, by, { action: 'waba.updated', entityType: 'waba', entityId: before.id, before: presentWaba(before), after: presentWaba(after) });
      return presentWaba(after);
    });
  }

  async getWaba(wabaId: string) {
    const w = await this.accounts.getWaba(this.ds.manager, wabaId);
    if (!w) throw new NotFoundException(`WhatsApp Business Account ${wabaId} not found`);
    return presentWaba(w);
  }

  async listWabas() {
    return { items: (await this.accounts.listWabas(this.ds.manager)).map(presentWaba) };
  }

  /** Registers a number; its default team is also set in routing (which owns where new conversations land). */
  async createNumber(p: { phoneNumberId: string; wabaId: string; displayNumber: string; defaultTeamId?: string | null; graphApiVersion?: string }, by: Principal) {
    if (p.defaultTeamId && !(await this.deps.teams.exists(p.defaultTeamId))) throw new BadRequestException(`defaultTeamId: team ${p.defaultTeamId} not found`);
    const n = await this.ds.transaction(async (em) => {
      const w = await this.accounts.getWaba(em, p.wabaId);
      if (!w) throw new BadRequestException(`wabaId: WhatsApp Business Account ${p.wabaId} is not registered (POST /api/v1/whatsapp-accounts first)`);
      const inserted = await this.accounts.insertNumber(em, {
        phoneNumberId: p.phoneNumberId,
        wabaRowId: w.id,
        displayNumber: p.displayNumber.trim(),
        defaultTeamId: p.defaultTeamId ?? null,
        graphApiVersion: p.graphApiVersion ?? this.deps.defaultGraphVersion,
      });
      if (!inserted) throw new ConflictException(`phone number ${p.phoneNumberId} is already registered`);
      const n = (await this.accounts.getNumber(em, p.phoneNumberId))!;
      await this.audit.record(em, by, { action: 'phone-number.created', entityType: 'phone_number', entityId: n.id, before: null, after: presentNumber(n) });
      return n;
    });
    if (p.defaultTeamId) await this.deps.bus.request(SetNumberTeamV1, { actor: actorOf(by), phoneNumberId: p.phoneNumberId, teamId: p.defaultTeamId });
    return presentNumber(n);
  }

  async updateNumber(phoneNumberId: string, p: { displayNumber?: string; defaultTeamId?: string | null; graphApiVersion?: string; status?: Status }, by: Principal) {
    if (p.defaultTeamId && !(await this.deps.teams.exists(p.defaultTeamId))) throw new BadRequestException(`defaultTeamId: team ${p.defaultTeamId} not found`);
    const n = await this.ds.transaction(async (em) => {
      const before = await this.accounts.getNumber(em, phoneNumberId, true);
      if (!before) throw new NotFoundException(`phone number ${phoneNumberId} not found`);
      await this.accounts.updateNumber(em, phoneNumberId, { ...p, displayNumber: p.displayNumber?.trim() });
      const after = (await this.accounts.getNumber(em, phoneNumberId))!;
      await this.audit.record(em, by, { action: 'phone-number.updated', entityType: 'phone_number', entityId: before.id, before: presentNumber(before), after: presentNumber(after) });
      return after;
    });
    if (p.defaultTeamId !== undefined) await this.deps.bus.request(SetNumberTeamV1, { actor: actorOf(by), phoneNumberId, teamId: p.defaultTeamId });
    return presentNumber(n);
  }

  async getNumber(phoneNumberId: string) {
    const n = await this.accounts.getNumber(this.ds.manager, phoneNumberId);
    if (!n) throw new NotFoundException(`phone number ${phoneNumberId} not found`);
    return presentNumber(n);
  }

  async listNumbers(f: { wabaId?: string; status?: Status }) {
    return { items: (await this.accounts.listNumbers(this.ds.manager, f)).map(presentNumber) };
  }

  /** Calls the Graph API for the number with its app's token and keeps the answer on the number. */
  async testConnection(phoneNumberId: string) {
    const c = await this.accounts.credentials(this.ds.manager, phoneNumberId);
    if (!c) throw new NotFoundException(`phone number ${phoneNumberId} not found`);
    if (!c.accessTokenSealed) throw new BadRequestException(`the Meta app of phone number ${phoneNumberId} has no access token: set accessToken on the app first`);
    const report = await this.deps.probe.phoneNumber(phoneNumberId, c.graphApiVersion, this.box.open(c.accessTokenSealed));
    const { ok: _ok, ...lastTest } = report;
    await this.accounts.updateNumber(this.ds.manager, phoneNumberId, { lastTest });
    return report;
  }

  /** Re-seals every stored secret under the current key (after a rotation); returns how many changed. */
  async reencrypt() {
    let changed = 0;
    await this.ds.transaction(async (em) => {
      for (const s of await this.accounts.allSealed(em)) {
        if (this.box.keyIdOf(s.sealed) === this.box.currentKeyId) continue;
        if (await this.accounts.replaceSealed(em, s.table, s.id, s.column, this.box.seal(this.box.open(s.sealed)).sealed, s.sealed)) changed++;
      }
    });
    await this.deps.credentials.reload();
    return { reencrypted: changed, keyId: this.box.currentKeyId };
  }
}
