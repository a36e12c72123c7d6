import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { parseConfig } from '@app/config';
import { ConversationOpenedV1, CreateRuleV1, GetWorkV1, SetNumberTeamV1, SetTeamRoutingV1, type Actor, type WorkState } from '@app/contracts';
import { startApp, waitFor } from '@app/testing';
import { RoutingConfigSchema } from '../../routing/src/config';
import { RoutingModule } from '../../routing/src/routing.module';
import { IngestHarness } from './ingest-harness';

/**
 * The opening message's language, end to end on real PostgreSQL and NATS: a WhatsApp webhook goes into ingest,
 * which detects the language and publishes it on conversation.opened.v1; routing's `languages` rule reads it.
 */
const PN = `PN-LANG-${Date.now() % 1e6}`;
const admin: Actor = { type: 'user', id: randomUUID(), name: 'Admin', role: 'admin', teamIds: [] };
let seq = 0;

function textMessage(text: string): { raw: string; wamid: string } {
  const wamid = `wamid.lang.${Date.now()}.${++seq}`;
  const waId = `1555${String(Date.now() % 1e6).padStart(6, '0')}${seq}`; // a new contact: a new conversation
  const value = {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: '15550009999', phone_number_id: PN },
    contacts: [{ profile: { name: `Customer ${seq}` }, wa_id: waId }],
    messages: [{ from: waId, id: wamid, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
  };
  return { raw: JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: 'WABA-LANG', changes: [{ field: 'messages', value }] }] }), wamid };
}

describe('ingest → routing: the detected language of the opening message picks the language rule (real PostgreSQL and NATS)', () => {
  let h: IngestHarness;
  let routing: INestApplication;
  let germanTeam: string;
  let defaultTeam: string;

  beforeAll(async () => {
    h = await IngestHarness.start({}, [ConversationOpenedV1]);
    routing = await startApp(RoutingModule.register(parseConfig(RoutingConfigSchema, h.env.env)));
    germanTeam = randomUUID();
    defaultTeam = randomUUID();
    await h.peer.request(SetTeamRoutingV1, { actor: admin, teamId: germanTeam, strategy: 'manual' });
    await h.peer.request(SetTeamRoutingV1, { actor: admin, teamId: defaultTeam, strategy: 'manual' });
    await h.peer.request(SetNumberTeamV1, { actor: admin, phoneNumberId: PN, teamId: defaultTeam });
    await h.peer.request(CreateRuleV1, { actor: admin, name: 'German speakers', conditions: { phoneNumberIds: [PN], languages: ['de'] }, actions: { teamId: germanTeam } });
  }, 60_000);
  afterAll(async () => {
    await routing?.close();
    await h?.stop();
  });

  /** Sends the text as a webhook; returns the language ingest published and the team routing chose. */
  async function arrive(text: string): Promise<{ language: string | null | undefined; work: WorkState }> {
    const { raw, wamid } = textMessage(text);
    await h.processed(await h.webhook(raw), raw);
    const [{ conversation_id: conversationId }] = await h.sql(`SELECT conversation_id FROM ingest.message WHERE wa_message_id = $1`, [wamid]);
    const opened = await waitFor(async () => h.events(ConversationOpenedV1).find((e) => e.conversationId === conversationId) ?? null, {
      what: `opened event of ${conversationId}`,
    });
    // routing evaluates the rules, then inserts the work item in the chosen team (one transaction): once it exists, the team is decided
    const work = await waitFor(() => h.peer.request(GetWorkV1, { actor: admin, conversationId }), { what: `routing's work item for ${conversationId}` });
    return { language: opened.message?.language, work };
  }

  it('a German message goes to the German-language rule’s team; an English one does not (the number’s default team)', async () => {
    const german = await arrive('Guten Tag, meine Bestellung ist noch nicht angekommen. Können Sie bitte nachsehen?');
    expect(german.language).toBe('de');
    expect(german.work.teamId).toBe(germanTeam);

    const english = await arrive('Hello, my order has not arrived yet. Could you please check?');
    expect(english.language).toBe('en');
    expect(english.work.teamId).toBe(defaultTeam);
  });

  it('a message too short to tell carries no language (null) and no language rule matches it', async () => {
    const short = await arrive('Hallo!');
    expect(short.language).toBeNull();
    expect(short.work.teamId).toBe(defaultTeam);
  });
});
