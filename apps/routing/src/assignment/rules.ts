import type { PayloadOf, ConversationOpenedV1, RuleActions, RuleConditions } from '@app/contracts';

/** What the rules look at: the opened event's facts, stored with the work item (so a dry run sees the same). */
export interface RouteContext {
  phoneNumberId: string;
  contact: { returning?: boolean; labels?: string[]; attributes?: Record<string, string> };
  message: { type?: string; text?: string; language?: string | null; referral?: unknown } | null;
}

export interface StoredRule {
  id: string;
  name: string;
  position: number;
  enabled: boolean;
  conditions: RuleConditions;
  actions: RuleActions;
}

export function contextOf(e: PayloadOf<typeof ConversationOpenedV1>): RouteContext {
  return {
    phoneNumberId: e.phoneNumberId,
    contact: {
      returning: e.contact?.returning ?? (e.reopened ? true : undefined),
      labels: e.contact?.labels,
      attributes: e.contact?.attributes,
    },
    message: e.message ? { type: e.message.type, text: e.message.text, language: e.message.language ?? null, referral: e.message.referral } : null,
  };
}

/** A condition that needs the sla service (business hours): answered before the rules are evaluated. */
export type BusinessHoursAsk = (q: { businessHoursId?: string; teamId?: string }) => Promise<boolean>;

/** Thrown when a rule cannot be evaluated (e.g. sla did not answer): the rule is skipped, never the conversation. */
export class RuleSkipped extends Error {}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whole-word (or phrase), case-insensitive, Unicode-aware. */
export function containsKeyword(text: string, keyword: string): boolean {
  const re = new RegExp(`(^|[^\\p{L}\\p{N}_])${escapeRe(keyword.trim())}($|[^\\p{L}\\p{N}_])`, 'iu');
  return re.test(text);
}

function minutesIn(at: Date, timeZone: string): { minutes: number; day: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hour12: false, hour: '2-digit', minute: '2-digit', weekday: 'short' }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'));
  return { minutes: (Number(get('hour')) % 24) * 60 + Number(get('minute')), day };
}

const hhmm = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));

function referralOf(ctx: RouteContext): Record<string, unknown> | null {
  const r = ctx.message?.referral;
  return r && typeof r === 'object' ? (r as Record<string, unknown>) : null;
}

/** Every given condition must hold. Unknown facts (absent from the event) never match. */
export async function matches(c: RuleConditions, a: RuleActions, ctx: RouteContext, at: Date, hours: BusinessHoursAsk): Promise<boolean> {
  if (c.phoneNumberIds && !c.phoneNumberIds.includes(ctx.phoneNumberId)) return false;
  if (c.contact) {
    if (ctx.contact.returning === undefined) return false;
    if ((c.contact === 'returning') !== ctx.contact.returning) return false;
  }
  if (c.contactLabels) {
    const have = new Set((ctx.contact.labels ?? []).map((l) => l.toLowerCase()));
    if (!c.contactLabels.some((l) => have.has(l.toLowerCase()))) return false;
  }
  if (c.contactAttributes) {
    const attrs = ctx.contact.attributes;
    if (!attrs) return false;
    for (const [k, v] of Object.entries(c.contactAttributes)) {
      if (attrs[k] === undefined || String(attrs[k]).toLowerCase() !== v.toLowerCase()) return false;
    }
  }
  if (c.keywords) {
    const text = ctx.message?.text;
    if (!text || !c.keywords.some((k) => containsKeyword(text, k))) return false;
  }
  if (c.languages) {
    const lang = (ctx.message?.language ?? ctx.contact.attributes?.language ?? '').toLowerCase();
    if (!lang || !c.languages.some((l) => lang === l.toLowerCase() || lang.startsWith(`${l.toLowerCase()}-`))) return false;
  }
  if (c.messageTypes && (!ctx.message?.type || !c.messageTypes.includes(ctx.message.type))) return false;
  if (c.referral !== undefined && (referralOf(ctx) !== null) !== c.referral) return false;
  if (c.referralSourceIds) {
    const id = referralOf(ctx)?.source_id ?? referralOf(ctx)?.sourceId;
    if (typeof id !== 'string' || !c.referralSourceIds.includes(id)) return false;
  }
  if (c.timeOfDay) {
    const { minutes, day } = minutesIn(at, c.timeOfDay.timeZone);
    if (c.timeOfDay.days && !c.timeOfDay.days.includes(day)) return false;
    const from = hhmm(c.timeOfDay.from);
    const to = hhmm(c.timeOfDay.to);
    const inside = from <= to ? minutes >= from && minutes < to : minutes >= from || minutes < to;
    if (!inside) return false;
  }
  if (c.businessHours) {
    const open = await hours({
      businessHoursId: c.businessHours.businessHoursId,
      teamId: c.businessHours.businessHoursId ? undefined : (c.businessHours.teamId ?? a.teamId),
    });
    if (open !== (c.businessHours.state === 'open')) return false;
  }
  return true;
}

export interface RuleOutcome {
  rule: StoredRule | null;
  skipped: { ruleId: string; name: string; reason: string }[];
}

/** The first enabled rule (by position) whose conditions hold; rules that fail to evaluate are skipped. */
export async function firstMatch(rules: StoredRule[], ctx: RouteContext, at: Date, hours: BusinessHoursAsk): Promise<RuleOutcome> {
  const skipped: RuleOutcome['skipped'] = [];
  for (const r of rules) {
    if (!r.enabled) continue;
    try {
      if (await matches(r.conditions, r.actions, ctx, at, hours)) return { rule: r, skipped };
    } catch (err) {
      skipped.push({ ruleId: r.id, name: r.name, reason: (err as Error).message.slice(0, 300) });
    }
  }
  return { rule: null, skipped };
}
