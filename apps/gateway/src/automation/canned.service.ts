import { BadRequestException, ForbiddenException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { GetContactV1, GetWorkV1 } from '@app/contracts';
import { Bus, NotFoundError } from '@app/messaging';
import { actorOf, type Principal } from '../auth/principal';
import { TeamsService } from '../teams/teams.service';
import { UsersService } from '../users/users.service';
import type { CreateCannedDto } from './canned.dto';

export interface CannedView {
  id: string;
  shortcut: string;
  title: string;
  text: string;
  teamId: string | null;
  ownerId: string | null;
  updatedAt: string;
}

const COLS = 'id, shortcut, title, text, team_id, owner_id, updated_at';
const toView = (r: Record<string, any>): CannedView => ({
  id: r.id,
  shortcut: r.shortcut,
  title: r.title,
  text: r.text,
  teamId: r.team_id,
  ownerId: r.owner_id,
  updatedAt: new Date(r.updated_at).toISOString(),
});
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const KNOWN = /^(contact\.name|agent\.name|contact\.attributes\.[A-Za-z0-9_.-]{1,64})$/;
/** Fills `{{contact.name}}`, `{{agent.name}}`, `{{contact.attributes.<key>}}`; a placeholder without a value is left empty and named in `missing`. */
export function fillPlaceholders(
  text: string,
  contact: { name: string | null; profileName: string | null; attributes: Record<string, string> },
  agentName: string | null,
): { text: string; missing: string[] } {
  const missing: string[] = [];
  const filled = text.replace(PLACEHOLDER, (_all, key: string) => {
    const value =
      key === 'contact.name'
        ? (contact.name ?? contact.profileName)
        : key === 'agent.name'
          ? agentName
          : key.startsWith('contact.attributes.')
            ? contact.attributes[key.slice('contact.attributes.'.length)]
            : undefined;
    if (value === undefined || value === null || value === '') {
      missing.push(key);
      return '';
    }
    return value;
  });
  return { text: filled, missing };
}
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Canned responses: a team's (admins and the team's managers write them; its members use them) or a person's own.
 * Rendering fills the placeholders from the conversation the caller may see (routing decides) and its contact.
 */
@Injectable()
export class CannedService {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly teams: TeamsService,
    private readonly users: UsersService,
  ) {}

  async create(p: Principal, dto: CreateCannedDto): Promise<CannedView> {
    const unknown = [...dto.text.matchAll(PLACEHOLDER)].map((m) => m[1]).filter((k) => !KNOWN.test(k));
    if (unknown.length)
      throw new BadRequestException(`text: unknown placeholder ${unknown.map((k) => `{{${k}}}`).join(', ')} (use {{contact.name}}, {{agent.name}}, {{contact.attributes.<key>}})`);
    if (dto.teamId) {
      if (!(await this.teams.exists(dto.teamId))) throw new BadRequestException(`teamId: team ${dto.teamId} does not exist`);
      if (p.role !== 'admin' && !(p.role === 'manager' && p.teamIds.includes(dto.teamId)))
        throw new ForbiddenException('only admins and the team’s managers write its canned responses');
    } else if (p.kind !== 'user') throw new BadRequestException('teamId: an API key writes team responses only');
    const rows = await this.ds.query(
      `INSERT INTO gateway.canned_response (id, shortcut, title, text, team_id, owner_id, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING ${COLS}`,
      [randomUUID(), dto.shortcut, dto.title, dto.text, dto.teamId ?? null, dto.teamId ? null : p.id, p.kind === 'user' ? p.id : randomUUID()],
    );
    if (!rows[0]) throw new BadRequestException(`shortcut: "${dto.shortcut}" is taken in that list`);
    return toView(rows[0]);
  }

  /** The caller's own and their teams' (admins and API keys: every team's), shortcut matches first. */
  async search(p: Principal, q: string | undefined): Promise<{ items: CannedView[] }> {
    const all = p.role === 'admin' || p.kind === 'api_key';
    const term = (q ?? '').trim().replace(/^\//, '');
    const rows = await this.ds.query(
      `SELECT ${COLS} FROM gateway.canned_response
       WHERE (owner_id = $1 OR ($2 AND team_id IS NOT NULL) OR team_id = ANY($3::uuid[]))
         AND ($4 = '' OR lower(shortcut) LIKE lower($5) || '%' OR title ILIKE '%' || $5 || '%' OR text ILIKE '%' || $5 || '%')
       ORDER BY (lower(shortcut) LIKE lower($5) || '%') DESC, lower(shortcut), id LIMIT 50`,
      [p.id, all, p.teamIds, term, likeEscape(term)],
    );
    return { items: rows.map(toView) };
  }

  async remove(p: Principal, id: string): Promise<void> {
    const r = await this.visible(p, id);
    if (r.ownerId ? r.ownerId !== p.id : p.role !== 'admin' && !(p.role === 'manager' && p.teamIds.includes(r.teamId!)))
      throw new ForbiddenException('only the owner, admins and the team’s managers delete it');
    await this.ds.query(`DELETE FROM gateway.canned_response WHERE id = $1`, [id]);
  }

  /** The text with placeholders filled for that conversation; `missing` names placeholders with no value. */
  async render(p: Principal, id: string, conversationId: string): Promise<{ text: string; missing: string[] }> {
    const r = await this.visible(p, id);
    const work = await this.bus.request(GetWorkV1, { actor: actorOf(p), conversationId }); // NOT_FOUND if not visible
    const { contact } = await this.bus.request(GetContactV1, { contactId: work.contactId });
    return fillPlaceholders(r.text, contact, p.name);
  }

  /**
   * For routing's automation (a rule or macro that routing already checked may act on the conversation): the
   * response filled for that contact, `{{agent.name}}` from that user (null: none). NOT_FOUND once deleted.
   */
  async renderFor(id: string, contactId: string, agentId: string | null): Promise<{ text: string; missing: string[] }> {
    const rows = await this.ds.query(`SELECT text FROM gateway.canned_response WHERE id = $1`, [id]);
    if (!rows[0]) throw new NotFoundError(`canned response ${id} no longer exists`);
    const [{ contact }, agents] = await Promise.all([this.bus.request(GetContactV1, { contactId }), agentId ? this.users.byIds([agentId]) : Promise.resolve([])]);
    return fillPlaceholders(rows[0].text, contact, agents[0]?.name ?? null);
  }

  /** The response if that caller may use it (their own, or a team's they see), else null. */
  async findVisible(p: Principal, id: string): Promise<CannedView | null> {
    return this.visible(p, id).catch((err) => {
      if (err instanceof NotFoundException) return null;
      throw err;
    });
  }

  private async visible(p: Principal, id: string): Promise<CannedView> {
    const rows = await this.ds.query(`SELECT ${COLS} FROM gateway.canned_response WHERE id = $1`, [id]);
    const r = rows[0] ? toView(rows[0]) : null;
    const all = p.role === 'admin' || p.kind === 'api_key';
    if (!r || (r.ownerId ? r.ownerId !== p.id : !all && !p.teamIds.includes(r.teamId!))) throw new NotFoundException('no such canned response');
    return r;
  }
}
