import { createRef } from 'react';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { saveSession } from '../lib/api';
import type { AuditEntry, TimelineItem } from '../lib/types';
import { conversation, ME, renderWithApp, stubFetch } from '../test-utils';
import { ConversationList } from './ConversationList';
import { ConversationView } from './ConversationView';
import { DEFAULT_FILTERS, matches } from './listing';
import { describeEvent, TimelineList } from './Timeline';

const noop = () => undefined;
const BOT = { id: 'k-helper', name: 'Helper bot', since: new Date().toISOString() };
const SUPPORT = { id: 't-support', name: 'Support', memberCount: 3, createdAt: new Date().toISOString() };

describe('bot handover in the web client', () => {
  beforeEach(() => saveSession({ accessToken: 'sba_test', refreshToken: 'sbr_test', expiresAt: Date.now() + 60_000 }));

  it('a conversation a bot holds says so, has no reply box or Claim, and Take back posts the version seen', async () => {
    const conv = conversation({ owner: null, bot: BOT, version: 7 });
    const calls = stubFetch((url, init) => {
      if (url.endsWith('/take-back') && init.method === 'POST') return { status: 200, body: { conversationId: conv.id, ownerId: ME.id, bot: null, version: 8 } };
      if (url.endsWith(`/conversations/${conv.id}`)) return { status: 200, body: conv };
      if (url.includes('/timeline')) return { status: 200, body: { items: [], moreMessages: false } };
      return { status: 200, body: { items: [] } };
    });
    renderWithApp(<ConversationView id={conv.id} onChanged={noop} />);
    const head = await screen.findByText('Held by bot Helper bot');
    expect(head.tagName).toBe('STRONG');
    expect(screen.queryByText('Unassigned')).toBeNull();
    expect(screen.getByText(/^Helper bot \(bot, since /)).toBeTruthy(); // the details panel
    // the composer explains why nobody can reply and offers Take back, never Claim
    const lock = screen.getByRole('status', { name: '' });
    expect(lock.textContent).toMatch(/Held by bot Helper bot: it is answering the customer, and routing and SLA wait until it hands over/);
    expect(screen.queryByLabelText('Reply to the customer')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Claim' })).toBeNull();
    fireEvent.click(within(lock).getByRole('button', { name: 'Take back' }));
    await waitFor(() => expect(calls.filter((c) => c.url.endsWith('/take-back'))).toHaveLength(1));
    const posted = calls.find((c) => c.url.endsWith('/take-back'))!;
    expect(posted.url).toContain(`/api/v1/conversations/${conv.id}/take-back`);
    expect(JSON.parse(String(posted.init.body))).toEqual({ version: 7 });
  });

  it('the list shows the holding bot, and a bot’s conversation is not “unassigned”', () => {
    const held = conversation({ owner: null, bot: BOT, contact: { id: 'c9', name: 'Dora', waId: '15550009999', userId: null } });
    renderWithApp(
      <ConversationList
        items={[held]}
        loading={false}
        error={null}
        hasMore={false}
        filters={{ ...DEFAULT_FILTERS, view: 'team' }}
        selectedId={null}
        seen={{}}
        searchRef={createRef<HTMLInputElement>()}
        onFilters={noop}
        onSelect={noop}
        onMore={noop}
        onRetry={noop}
      />,
    );
    expect(screen.getByText('Held by bot Helper bot')).toBeTruthy();
    expect(matches(ME, { ...DEFAULT_FILTERS, view: 'unassigned' }, held)).toBe(false);
    expect(matches(ME, { ...DEFAULT_FILTERS, view: 'unassigned' }, { ...held, bot: null })).toBe(true);
  });

  it('the handover note shows in the timeline as the bot’s summary, with the steps in words', () => {
    const at = (m: number) => new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString();
    const summary = 'Customer asks about order #4711; wants to change the address.';
    const event = (m: number, action: string, before: Record<string, unknown> | null, after: Record<string, unknown>, actor = { type: 'bot', id: BOT.id, name: BOT.name }): AuditEntry => ({
      id: `e-${m}`,
      seq: String(m),
      conversationId: 'c',
      teamId: null,
      actor,
      action,
      before,
      after,
      note: action === 'conversation.bot-handover' ? summary : null,
      createdAt: at(m),
    });
    const items: TimelineItem[] = [
      { kind: 'event', at: at(1), event: event(1, 'conversation.bot-held', { bot: null }, { bot: { id: BOT.id, name: BOT.name } }) },
      { kind: 'event', at: at(2), event: event(2, 'conversation.bot-handover', { bot: { id: BOT.id, name: BOT.name }, teamId: 't-front' }, { bot: null, teamId: SUPPORT.id }) },
      { kind: 'note', at: at(2), note: { id: 'n1', conversationId: 'c', author: { type: 'bot', id: BOT.id, name: BOT.name }, body: summary, mentions: [], createdAt: at(2) } },
      {
        kind: 'event',
        at: at(3),
        event: event(3, 'conversation.bot-taken-back', { ownerId: null, bot: { id: BOT.id, name: BOT.name } }, { ownerId: ME.id, bot: null }, { type: 'user', id: ME.id, name: 'Ana' }),
      },
    ];
    renderWithApp(<TimelineList items={items} dir={{ users: new Map(), teams: new Map([[SUPPORT.id, SUPPORT]]), labels: [] }} />);
    const note = screen.getByRole('note', { name: 'Internal note' });
    expect(note.textContent).toContain('↪ Bot handover summary · Helper bot');
    expect(note.textContent).toContain(summary);
    expect(screen.getAllByText(summary)).toHaveLength(1); // shown once, as the note
    expect(screen.getByText('Bot Helper bot is handling the conversation (routing and SLA wait)')).toBeTruthy();
    expect(screen.getByText('Bot Helper bot handed the conversation over to Support')).toBeTruthy();
    expect(screen.getByText('Ana took the conversation back from bot Helper bot')).toBeTruthy();
    // a number's bot: routing (the system) gives it to the bot
    const routed = event(4, 'conversation.bot-held', { bot: null }, { bot: { id: BOT.id, name: 'Number bot' } }, { type: 'system', id: null as unknown as string, name: 'routing' });
    expect(describeEvent(routed, { users: new Map(), teams: new Map(), labels: [] })).toBe('Bot Number bot is handling the conversation (routing and SLA wait)');
  });
});
