import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { parseConfig } from '@app/config';
import { startApp, waitFor } from '@app/testing';
import { NotificationsConfigSchema } from '../../notifications/src/config';
import { NotificationsModule } from '../../notifications/src/notifications.module';
import { Stack } from '../../../test/support/stack';
import { textWebhook } from '../../../test/support/webhooks';

/**
 * The contacts API (issue 13, part 2) with gateway, ingest and routing on real PostgreSQL and NATS: customers
 * arrive as signed webhooks through ingest, visibility comes from routing, every change lands in routing's audit.
 */
const SALES = '1555000601';
const SUPPORT = '1555000602';
const MEDIA_DIR = `/tmp/contacts-e2e-${randomUUID()}`;

describe('contacts API (gateway + ingest + routing, real PostgreSQL and NATS)', () => {
  let s: Stack;
  const http = () => s.http();
  const as = (who: string) => s.as(who);
  const teams = () => s.teams;
  const newWaId = () => `49${Math.floor(1e9 + Math.random() * 9e9)}`;

  /** A webhook body; `mutate` edits the single message/contact (e.g. to make it an image or add a BSUID). */
  async function customerWrites(o: { number: string; waId: string; name?: string; text: string; mutate?: (value: any) => void }) {
    const body = JSON.parse(textWebhook({ phoneNumberId: o.number, from: o.waId, name: o.name ?? 'Customer', text: o.text }));
    o.mutate?.(body.entry[0].changes[0].value);
    await s.webhook(JSON.stringify(body)).expect(200);
  }

  /** The conversation of `waId` on `number` once routing knows it (as the admin sees it). */
  const conversationOf = (waId: string, number: string) =>
    waitFor(
      async () => {
        const res = await http().get(`/api/v1/conversations?q=${waId}&limit=50`).set(as('admin'));
        return res.body.items?.find((c: any) => c.phoneNumberId === number) ?? null;
      },
      { what: `conversation of ${waId} on ${number}` },
    );

  const contactOf = async (waId: string) => (await http().get(`/api/v1/contacts?q=${waId}`).set(as('admin')).expect(200)).body.items[0];
  const messagesOf = async (conversationId: string) =>
    (await http().get(`/api/v1/conversations/${conversationId}/messages?limit=100`).set(as('admin')).expect(200)).body.items;
  const auditOf = (action: string, entityId: string, n = 1) =>
    waitFor(
      async () => {
        const res = await http().get(`/api/v1/audit?action=${action}&limit=1000`).set(as('admin')).expect(200);
        const found = res.body.items.filter((e: any) => (e.after ?? e.before)?.contactId === entityId);
        return found.length >= n ? found : null;
      },
      { what: `${n} audit entries ${action} of ${entityId}` },
    );

  beforeAll(async () => {
    s = await Stack.start({ MEDIA_DIR });
    await s.team('Sales');
    await s.team('Support');
    await http().put(`/api/v1/numbers/${SALES}/team`).set(as('admin')).send({ teamId: s.teams.Sales }).expect(200);
    await http().put(`/api/v1/numbers/${SUPPORT}/team`).set(as('admin')).send({ teamId: s.teams.Support }).expect(200);
    await s.user('manager', 'manager', ['Sales']);
    await s.user('sales', 'agent', ['Sales']);
    await s.user('support', 'agent', ['Support']);
    await s.user('supportmgr', 'manager', ['Support']);
    for (const name of ['vip', 'csv']) await http().post('/api/v1/labels').set(as('admin')).send({ name, color: '#aa3300' }).expect(201);
  }, 120_000);
  afterAll(async () => {
    await s?.stop();
    await rm(MEDIA_DIR, { recursive: true, force: true });
  });

  it('searches by name, phone (as typed), BSUID; pages with a cursor; another team sees nothing', async () => {
    const alice = newWaId();
    const bob = newWaId();
    await customerWrites({ number: SALES, waId: alice, name: 'Alice Wonderland', text: 'hi' });
    await customerWrites({ number: SALES, waId: bob, name: 'Bob Wonderland', text: 'hi', mutate: (v) => (v.contacts[0].user_id = `US.${bob}bsuid`) });
    await conversationOf(alice, SALES);
    await conversationOf(bob, SALES);

    const byName = (await http().get('/api/v1/contacts?q=alice%20wonder').set(as('sales')).expect(200)).body.items;
    expect(byName.map((c: any) => c.waId)).toEqual([alice]);
    expect(byName[0]).toMatchObject({ profileName: 'Alice Wonderland', name: null, blocked: false, labels: [], attributes: {} });
    const typed = `+${alice.slice(0, 2)} ${alice.slice(2, 5)}-${alice.slice(5)}`;
    expect((await http().get(`/api/v1/contacts?q=${encodeURIComponent(typed)}`).set(as('sales')).expect(200)).body.items.map((c: any) => c.waId)).toEqual([alice]);
    expect((await http().get(`/api/v1/contacts?q=${bob}bsuid`).set(as('sales')).expect(200)).body.items.map((c: any) => c.waId)).toEqual([bob]);

    const first = (await http().get('/api/v1/contacts?q=wonderland&limit=1').set(as('sales')).expect(200)).body;
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await http().get(`/api/v1/contacts?q=wonderland&limit=1&cursor=${first.nextCursor}`).set(as('sales')).expect(200)).body;
    expect(second.items).toHaveLength(1);
    expect(second.items[0].id).not.toBe(first.items[0].id);
    await http().get('/api/v1/contacts?cursor=not-a-cursor').set(as('admin')).expect(400);

    expect((await http().get('/api/v1/contacts?q=wonderland').set(as('support')).expect(200)).body.items).toEqual([]);
  });

  it('an agent of another team cannot read the contact or its conversations: 404, no data', async () => {
    const waId = newWaId();
    await customerWrites({ number: SALES, waId, name: 'Sales Only', text: 'private sales matter' });
    const conv = await conversationOf(waId, SALES);
    const contactId = conv.contact.id;

    const seen = (await http().get(`/api/v1/contacts/${contactId}`).set(as('sales')).expect(200)).body;
    expect(seen.conversations.map((c: any) => c.id)).toEqual([conv.id]);
    expect(seen.conversations[0]).toMatchObject({ phoneNumberId: SALES, teamId: teams().Sales, status: 'open', lastMessageText: 'private sales matter' });

    const hidden = await http().get(`/api/v1/contacts/${contactId}`).set(as('support')).expect(404);
    expect(JSON.stringify(hidden.body)).not.toContain('Sales Only');
    expect(JSON.stringify(hidden.body)).not.toContain(waId);
    await http().get(`/api/v1/contacts/${randomUUID()}`).set(as('support')).expect(404);
    await http().get('/api/v1/contacts/not-a-uuid').set(as('support')).expect(400);
    // a manager of another team can neither edit nor block it
    await http().patch(`/api/v1/contacts/${contactId}`).set(as('supportmgr')).send({ name: 'hijacked' }).expect(404);
    await http().post(`/api/v1/contacts/${contactId}/block`).set(as('supportmgr')).expect(404);
    expect((await http().get(`/api/v1/contacts/${contactId}`).set(as('admin')).expect(200)).body).toMatchObject({ name: null, blocked: false, version: 1 });

    // once the customer also writes to Support, the Support agent sees the contact, but only that conversation
    await customerWrites({ number: SUPPORT, waId, text: 'support question' });
    const supportConv = await conversationOf(waId, SUPPORT);
    const partial = (await http().get(`/api/v1/contacts/${contactId}`).set(as('support')).expect(200)).body;
    expect(partial.conversations.map((c: any) => c.id)).toEqual([supportConv.id]);
    expect(partial.conversationIds).toEqual([supportConv.id]);
    expect(JSON.stringify(partial)).not.toContain('private sales matter');
    // the admin sees both
    expect((await http().get(`/api/v1/contacts/${contactId}`).set(as('admin')).expect(200)).body.conversations).toHaveLength(2);
  });

  it('managers edit name / attributes / catalogue labels (versioned); agents may not; the audit names fields, never values', async () => {
    const waId = newWaId();
    await customerWrites({ number: SALES, waId, name: 'Edit Me', text: 'hello' });
    const { contact } = await conversationOf(waId, SALES);

    await http().patch(`/api/v1/contacts/${contact.id}`).set(as('sales')).send({ name: 'x' }).expect(403);
    const bad = await http().patch(`/api/v1/contacts/${contact.id}`).set(as('manager')).send({ labels: ['nope'] }).expect(400);
    expect(bad.body.message).toContain('not in the label catalogue: "nope"');
    expect((await http().patch(`/api/v1/contacts/${contact.id}`).set(as('manager')).send({ attributes: { 'bad key!': 'x' } }).expect(400)).body.message).toContain(
      'attribute keys',
    );
    await http().patch(`/api/v1/contacts/${contact.id}`).set(as('manager')).send({ attributes: { plan: 'x'.repeat(1001) } }).expect(400);

    const edited = (
      await http()
        .patch(`/api/v1/contacts/${contact.id}`)
        .set(as('manager'))
        .send({ version: 1, name: 'Edith Secretname', attributes: { plan: 'gold', city: 'Hamburg' }, labels: ['VIP'] })
        .expect(200)
    ).body;
    expect(edited).toMatchObject({ name: 'Edith Secretname', profileName: 'Edit Me', attributes: { plan: 'gold', city: 'Hamburg' }, labels: ['vip'], version: 2 });
    const stale = await http().patch(`/api/v1/contacts/${contact.id}`).set(as('manager')).send({ version: 1, name: 'Late' }).expect(409);
    expect(stale.body.details.current).toMatchObject({ version: 2, name: 'Edith Secretname' });
    const patched = (await http().patch(`/api/v1/contacts/${contact.id}`).set(as('manager')).send({ attributes: { city: null } }).expect(200)).body;
    expect(patched.attributes).toEqual({ plan: 'gold' });
    // a no-op writes nothing
    expect((await http().patch(`/api/v1/contacts/${contact.id}`).set(as('manager')).send({ labels: ['vip'] }).expect(200)).body.version).toBe(3);

    const entries = await auditOf('contact.updated', contact.id, 2);
    expect(entries).toHaveLength(2);
    const first = entries[entries.length - 1];
    expect(first).toMatchObject({
      actor: { type: 'user', name: 'User manager' },
      before: { contactId: contact.id, labels: [] },
      after: { contactId: contact.id, fields: ['name', 'attributes', 'labels'], attributeKeys: ['city', 'plan'], labels: ['vip'], version: 2 },
    });
    for (const secret of ['Edith Secretname', 'Hamburg', 'gold', 'Edit Me', waId]) expect(JSON.stringify(entries)).not.toContain(secret);
    // labels are available to routing rules on the next conversation the contact opens
    expect((await http().get(`/api/v1/contacts?label=vip`).set(as('manager')).expect(200)).body.items.map((c: any) => c.id)).toContain(contact.id);
  });

  it('blocks: messages are stored but do not reopen; replies are refused; unblocking restores both', async () => {
    const waId = newWaId();
    await customerWrites({ number: SALES, waId, name: 'Blocky', text: 'first' });
    const conv = await conversationOf(waId, SALES);
    await http().post(`/api/v1/conversations/${conv.id}/status`).set(as('admin')).send({ version: conv.version, status: 'resolved' }).expect(200);
    const ingestStatus = async () => (await s.ingest.get(DataSource).query(`SELECT status FROM ingest.conversation WHERE id = $1`, [conv.id]))[0].status;
    await waitFor(async () => (await ingestStatus()) === 'resolved', { what: 'ingest saw the resolve' });

    await http().post(`/api/v1/contacts/${conv.contact.id}/block`).set(as('sales')).expect(403);
    const blocked = (await http().post(`/api/v1/contacts/${conv.contact.id}/block`).set(as('manager')).expect(200)).body;
    expect(blocked).toMatchObject({ blocked: true, blockedAt: expect.any(String) });
    expect((await http().get('/api/v1/contacts?blocked=true').set(as('admin')).expect(200)).body.items.map((c: any) => c.id)).toContain(conv.contact.id);

    await customerWrites({ number: SALES, waId, text: 'while blocked' });
    await waitFor(async () => (await messagesOf(conv.id)).some((m: any) => m.text === 'while blocked'), { what: 'blocked message stored' });
    // stored in the same transaction that would have reopened it: still resolved, so nothing was routed
    expect(await ingestStatus()).toBe('resolved');
    const reply = await http().post(`/api/v1/conversations/${conv.id}/messages`).set(as('sales')).set('Idempotency-Key', randomUUID()).send({ text: 'hi' }).expect(409);
    expect(reply.body.message).toContain('blocked');
    // an integrator's send by phone number is refused too, before anything is queued
    s.tokens.sender = (await http().post('/api/v1/api-keys').set(as('admin')).send({ name: 'sender', scopes: ['messages:send'] }).expect(201)).body.key;
    const sendsBefore = s.sends.length;
    const api = await http()
      .post('/api/v1/messages')
      .set(as('sender'))
      .set('Idempotency-Key', randomUUID())
      .send({ phoneNumberId: SALES, to: waId, type: 'text', text: { body: 'promo' } })
      .expect(409);
    expect(api.body.message).toContain('blocked');
    expect(s.sends.length).toBe(sendsBefore);

    await http().post(`/api/v1/contacts/${conv.contact.id}/unblock`).set(as('manager')).expect(200);
    await customerWrites({ number: SALES, waId, text: 'after unblock' });
    await waitFor(async () => (await http().get(`/api/v1/conversations/${conv.id}`).set(as('admin'))).body.status === 'open', { what: 'reopened after unblock' });
    const events = (await http().get(`/api/v1/audit?conversationId=${conv.id}&limit=100`).set(as('admin')).expect(200)).body.items;
    // only the message after unblocking reopened it
    expect(events.filter((e: any) => e.action === 'conversation.reopened')).toHaveLength(1);
    const actions = (await auditOf('contact.blocked', conv.contact.id)).concat(await auditOf('contact.unblocked', conv.contact.id));
    expect(actions.map((e: any) => e.action).sort()).toEqual(['contact.blocked', 'contact.unblocked']);
  });

  it('merges two contacts: conversations and messages move, the tombstone redirects, repeating changes nothing', async () => {
    const x = newWaId();
    const y = newWaId();
    await customerWrites({ number: SALES, waId: x, name: 'Same Person', text: 'x on sales' });
    await customerWrites({ number: SALES, waId: y, name: 'Same Person (new phone)', text: 'y on sales' });
    await customerWrites({ number: SUPPORT, waId: y, text: 'y on support' });
    const xSales = await conversationOf(x, SALES);
    const ySales = await conversationOf(y, SALES);
    const ySupport = await conversationOf(y, SUPPORT);
    const survivor = xSales.contact.id;
    const merged = ySales.contact.id;
    await http().patch(`/api/v1/contacts/${merged}`).set(as('admin')).send({ attributes: { crm: '42' }, labels: ['vip'] }).expect(200);

    await http().post(`/api/v1/contacts/${survivor}/merge`).set(as('manager')).send({ mergedContactId: merged }).expect(403);
    await http().post(`/api/v1/contacts/${survivor}/merge`).set(as('admin')).send({ mergedContactId: survivor }).expect(400);
    const done = (await http().post(`/api/v1/contacts/${survivor}/merge`).set(as('admin')).send({ mergedContactId: merged }).expect(200)).body;
    expect(done).toMatchObject({
      alreadyMerged: false,
      mergedId: merged,
      movedConversationIds: [ySupport.id],
      absorbedConversationIds: [{ from: ySales.id, into: xSales.id }],
      movedMessages: 1,
      contact: { id: survivor, attributes: { crm: '42' }, labels: ['vip'] },
    });

    // both histories in the survivor's Sales thread; the Support thread now belongs to the survivor
    expect((await messagesOf(xSales.id)).map((m: any) => m.text).sort()).toEqual(['x on sales', 'y on sales']);
    const view = (await http().get(`/api/v1/contacts/${survivor}`).set(as('admin')).expect(200)).body;
    expect(view.conversations.map((c: any) => c.id).sort()).toEqual([xSales.id, ySupport.id].sort());
    // the tombstone redirects
    const redirected = (await http().get(`/api/v1/contacts/${merged}`).set(as('admin')).expect(200)).body;
    expect(redirected).toMatchObject({ id: survivor, redirectedFrom: merged });
    expect((await http().get('/api/v1/contacts?q=same%20person').set(as('admin')).expect(200)).body.items.map((c: any) => c.id)).toEqual([survivor]);
    // the emptied Sales work item is resolved, not left waiting in a queue
    await waitFor(async () => (await http().get(`/api/v1/conversations/${ySales.id}`).set(as('admin'))).body.status === 'resolved', { what: 'absorbed resolved' });

    const again = (await http().post(`/api/v1/contacts/${survivor}/merge`).set(as('admin')).send({ mergedContactId: merged }).expect(200)).body;
    expect(again).toMatchObject({ alreadyMerged: true, movedConversationIds: [], movedMessages: 0 });
    expect((await messagesOf(xSales.id)).map((m: any) => m.text).sort()).toEqual(['x on sales', 'y on sales']);
    const entries = await auditOf('contact.merged', survivor);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ after: { mergedContactId: merged, movedMessages: 1 } });
    // the other direction is refused, not a second merge
    await http().post(`/api/v1/contacts/${merged}/merge`).set(as('admin')).send({ mergedContactId: survivor }).expect(409);

    // the person writes again from the merged phone: it lands in the survivor's thread
    await customerWrites({ number: SALES, waId: y, text: 'y again' });
    await waitFor(async () => (await messagesOf(xSales.id)).some((m: any) => m.text === 'y again'), { what: 'message via the tombstone' });
  });

  it('two simultaneous merges of the same pair: one merges, the other finds it done', async () => {
    const [x, y] = [newWaId(), newWaId()];
    await customerWrites({ number: SALES, waId: x, text: 'one' });
    await customerWrites({ number: SUPPORT, waId: y, text: 'two' });
    const survivor = (await conversationOf(x, SALES)).contact.id;
    const merged = (await conversationOf(y, SUPPORT)).contact.id;
    const both = await Promise.all(
      [0, 1].map(() => http().post(`/api/v1/contacts/${survivor}/merge`).set(as('admin')).send({ mergedContactId: merged }).expect(200)),
    );
    expect(both.map((r) => r.body.alreadyMerged).sort()).toEqual([false, true]);
    expect((await http().get(`/api/v1/contacts/${survivor}`).set(as('admin')).expect(200)).body.conversationIds).toHaveLength(2);
    expect(await auditOf('contact.merged', survivor)).toHaveLength(1);
  });

  it('a merge waits for a message of the merged person being stored, so it never lands in an emptied thread', async () => {
    const x = newWaId();
    const y = newWaId();
    await customerWrites({ number: SALES, waId: x, text: 'x first' });
    await customerWrites({ number: SALES, waId: y, text: 'y first' });
    const [xSales, ySales] = [await conversationOf(x, SALES), await conversationOf(y, SALES)];
    const ds = s.ingest.get(DataSource);
    // the inbound path holds this lock while it stores a message of y (ContactRepository)
    const inbound = ds.createQueryRunner();
    await inbound.connect();
    try {
      await inbound.startTransaction();
      await inbound.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`ingest-contact:w:${y}`]);
      const merged = http().post(`/api/v1/contacts/${xSales.contact.id}/merge`).set(as('admin')).send({ mergedContactId: ySales.contact.id }).then((r) => r);
      await waitFor(
        async () =>
          (
            await ds.query(
              `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
               WHERE d.datname = current_database() AND l.locktype = 'advisory' AND NOT l.granted
                 AND ((l.classid::text::bigint << 32) | l.objid::text::bigint) = hashtextextended($1, 0)`,
              [`ingest-contact:w:${y}`],
            )
          )[0].n > 0,
        { what: 'the merge waiting for the message being stored' },
      );
      await inbound.commitTransaction();
      expect((await merged).body).toMatchObject({ alreadyMerged: false, absorbedConversationIds: [{ from: ySales.id, into: xSales.id }] });
    } finally {
      if (inbound.isTransactionActive) await inbound.rollbackTransaction();
      await inbound.release();
    }
  });

  it('exports CSV: streamed, RFC 4180 quoting, formula cells neutralised, visibility applied', async () => {
    const a = newWaId();
    const b = newWaId();
    await customerWrites({ number: SALES, waId: a, name: 'Plain Export', text: 'hi' });
    await customerWrites({ number: SALES, waId: b, name: 'Tricky', text: 'hi' });
    const ca = (await conversationOf(a, SALES)).contact.id;
    const cb = (await conversationOf(b, SALES)).contact.id;
    await http().patch(`/api/v1/contacts/${ca}`).set(as('admin')).send({ labels: ['csv'] }).expect(200);
    await http()
      .patch(`/api/v1/contacts/${cb}`)
      .set(as('admin'))
      .send({ name: '=HYPERLINK("http://evil")', attributes: { note: 'a,b "c"\nd', x: '-1' }, labels: ['csv', 'vip'] })
      .expect(200);

    const res = await http().get('/api/v1/contacts/export?label=csv').set(as('sales')).expect(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toContain('attachment');
    const lines = res.text.split('\r\n');
    expect(lines[0]).toBe('id,name,profile_name,wa_id,user_id,labels,attributes,blocked,created_at,updated_at');
    expect(lines[lines.length - 1]).toBe(''); // ends with CRLF
    const tricky = res.text.slice(res.text.indexOf(cb));
    expect(tricky.startsWith(`${cb},"'=HYPERLINK(""http://evil"")",Tricky,${b},,csv;vip,"{""note"":""a,b \\""c\\""\\nd"",""x"":""-1""}",false,`)).toBe(true);
    expect(res.text).toContain(`${ca},,Plain Export,${a},,csv,{},false,`);
    expect(res.text.match(/\r\n/g)).toHaveLength(3);

    const other = await http().get('/api/v1/contacts/export?label=csv').set(as('support')).expect(200);
    expect(other.text).toBe('id,name,profile_name,wa_id,user_id,labels,attributes,blocked,created_at,updated_at\r\n');
  });

  it('erases a person: texts, captions and files gone, profile cleared, skeleton kept, audit keeps the fact only', async () => {
    const waId = newWaId();
    // an integrator's event subscription (paused: nothing is sent here); its delivery log keeps each event's body
    const [sub] = await s.sql(
      `INSERT INTO gateway.event_subscription (url, event_types, secret_sealed, secret_last4, status, created_by_kind)
       VALUES ('https://crm.example.com/hook', ARRAY['message.received'], 'v1.none', 'none', 'paused', 'user') RETURNING id`,
    );
    await customerWrites({ number: SALES, waId, name: 'Erin Erasable', text: 'my address is 12 Secret Lane' });
    await customerWrites({
      number: SALES,
      waId,
      text: 'unused',
      mutate: (v) => {
        const m = v.messages[0];
        delete m.text;
        m.type = 'image';
        m.image = { id: `media-${randomUUID()}`, mime_type: 'image/jpeg', sha256: 'abc', caption: 'photo of my passport' };
      },
    });
    // a signed webhook naming the person but cut short: refused whole (400) and kept as the gateway's dead letter
    const cut = `{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"contacts":[{"wa_id":"${waId}"}],"messages":[{"text":{"body":"12 Secret Lane`;
    await s.webhook(cut).expect(400);
    const deadLetters = () => s.sql(`SELECT body FROM gateway.webhook_rejected WHERE body LIKE '%' || $1 || '%' OR body = '{"erased":true}'`, [waId]);
    expect(await deadLetters()).toEqual([{ body: cut }]);
    const conv = await conversationOf(waId, SALES);
    await http().patch(`/api/v1/contacts/${conv.contact.id}`).set(as('admin')).send({ attributes: { doc: 'X1234567' } }).expect(200);
    const msgs = await waitFor(async () => {
      const items = await messagesOf(conv.id);
      return items.length === 2 ? items : null;
    });
    const image = msgs.find((m: any) => m.type === 'image');
    expect(image.text).toContain('photo of my passport');
    // the media file as the downloader would have stored it
    const key = `e2e/${image.id}.jpg`;
    await mkdir(path.join(MEDIA_DIR, 'e2e'), { recursive: true });
    await writeFile(path.join(MEDIA_DIR, key), 'jpeg bytes');
    await s.ingest.get(DataSource).query(`UPDATE ingest.media SET state = 'stored', storage_key = $2, size = 10 WHERE message_id = $1`, [image.id, key]);
    await http().get(`/api/v1/media/${image.id}`).set(as('admin')).expect(200);
    const deliveries = () => s.sql(`SELECT body FROM gateway.event_delivery WHERE subscription_id = $1 AND conversation_id = $2`, [sub.id, conv.id]);
    await waitFor(async () => ((await deliveries()).length === 2 ? true : null), { what: 'both events in the delivery log' });
    expect(JSON.stringify(await deliveries())).toContain('Secret Lane');

    // an internal note, and routing's context of the conversation (opening message text, contact attributes)
    await http().post(`/api/v1/conversations/${conv.id}/notes`).set(as('admin')).send({ body: 'she lives at Secret Lane, call after 6' }).expect(201);
    const routing = s.routing.get(DataSource);
    const routeContext = async () => (await routing.query(`SELECT route_context FROM routing.conversation_work WHERE conversation_id = $1`, [conv.id]))[0].route_context;
    expect(JSON.stringify(await routeContext())).toContain('Secret Lane');

    await http().post(`/api/v1/contacts/${conv.contact.id}/erasure`).set(as('manager')).expect(403);
    // notifications not running: the erasure refuses fast (nothing reported done) and can be repeated
    await http().post(`/api/v1/contacts/${conv.contact.id}/erasure`).set(as('admin')).expect(503);
    expect(JSON.stringify(await routeContext())).toContain('Secret Lane');

    let notifications: INestApplication | undefined;
    try {
      notifications = await startApp(NotificationsModule.register(parseConfig(NotificationsConfigSchema, { ...s.env.env, GRAPH_API_BASE_URL: 'http://127.0.0.1:9' })));
      const nds = notifications.get(DataSource);
      // a reply that went out to the person, and a template still queued to their number
      const reply = { messaging_product: 'whatsapp', to: waId, type: 'text', text: { body: 'we ship to 12 Secret Lane tomorrow' } };
      const template = { messaging_product: 'whatsapp', to: waId, type: 'template', template: { name: 'ship', components: [{ type: 'body', parameters: [{ type: 'text', text: 'Erin Erasable' }] }] } };
      await nds.query(
        `INSERT INTO notifications.outbound_send (id, idempotency_key, request_hash, phone_number_id, recipient, conversation_id, kind, graph_body, status, next_attempt_at)
         VALUES (gen_random_uuid(), gen_random_uuid()::text, 'h', $1, $2, $3, 'text', $4, 'sent', now()),
                (gen_random_uuid(), gen_random_uuid()::text, 'h', $1, $2, NULL, 'template', $5, 'queued', now() + interval '1 day')`,
        [SALES, waId, conv.id, JSON.stringify(reply), JSON.stringify(template)],
      );
      const sends = () => nds.query(`SELECT recipient, graph_body, status, kind FROM notifications.outbound_send WHERE conversation_id = $1 OR recipient IN ($2, 'erased')`, [conv.id, waId]);

      const erased = (await http().post(`/api/v1/contacts/${conv.contact.id}/erasure`).set(as('admin')).expect(200)).body;
      expect(erased).toMatchObject({
        contactId: conv.contact.id,
        contacts: 1,
        conversations: 1,
        messages: 2,
        mediaFiles: 1,
        webhookReceipts: 2,
        webhookRejections: 1,
        eventDeliveries: 2,
        outboundSends: 2,
        notes: 1,
        routeContexts: 1,
      });
      // the sends keep their skeleton (kind, status; the queued one fails instead of going out), not the text or number
      const left = await sends();
      expect(left.map((r: any) => `${r.kind}:${r.status}:${r.recipient}`).sort()).toEqual(['template:failed:erased', 'text:sent:erased']);
      for (const r of left) expect(r.graph_body).toEqual({ erased: true });
      expect(await routeContext()).toBeNull();
      const notes = await routing.query(`SELECT body FROM routing.note WHERE conversation_id = $1`, [conv.id]);
      expect(notes).toEqual([{ body: '[erased]' }]);
      expect(JSON.stringify(await routing.query(`SELECT * FROM routing.audit_entry WHERE conversation_id = $1`, [conv.id]))).not.toContain('Secret Lane');
    // the event-webhook deliveries keep id, type and time; their data is gone (a redelivery sends only that)
    for (const { body } of await deliveries())
      expect(JSON.parse(body)).toEqual({ id: expect.any(String), type: 'message.received', occurredAt: expect.any(String), data: { conversationId: conv.id, erased: true } });
    // the signed webhook bodies the gateway keeps no longer hold the person's data
    const raw = await s.sql(`SELECT body FROM gateway.webhook_receipt WHERE body LIKE '%' || $1 || '%' OR body LIKE '%Secret Lane%'`, [waId]);
    expect(raw).toEqual([]);
    expect((await s.sql(`SELECT count(*)::int AS n FROM gateway.webhook_receipt WHERE body = '{"erased":true}'`))[0].n).toBe(2);
    expect(await deadLetters()).toEqual([{ body: '{"erased":true}' }]);

    expect(existsSync(path.join(MEDIA_DIR, key))).toBe(false);
    await http().get(`/api/v1/media/${image.id}`).set(as('admin')).expect(404);
    const after = await messagesOf(conv.id);
    expect(after).toHaveLength(2); // the skeleton stays for reports
    for (const m of after) expect(m).toMatchObject({ text: '', content: {}, direction: 'inbound' });
    const contact = (await http().get(`/api/v1/contacts/${conv.contact.id}`).set(as('admin')).expect(200)).body;
    expect(contact).toMatchObject({ profileName: null, name: null, waId: null, attributes: {}, erasedAt: expect.any(String) });
    expect(JSON.stringify(contact)).not.toContain('Secret Lane');
    expect((await http().get(`/api/v1/conversations?q=Secret%20Lane`).set(as('admin')).expect(200)).body.items).toEqual([]);
    expect((await http().get(`/api/v1/contacts?q=Erin`).set(as('admin')).expect(200)).body.items).toEqual([]);
    expect(await contactOf(waId)).toBeUndefined();

    // repeating it finds nothing left to erase
    expect((await http().post(`/api/v1/contacts/${conv.contact.id}/erasure`).set(as('admin')).expect(200)).body).toMatchObject({
      messages: 0,
      mediaFiles: 0,
      webhookReceipts: 0,
      webhookRejections: 0,
      eventDeliveries: 0,
      outboundSends: 0,
      notes: 0,
      routeContexts: 0,
    });

    const [copies] = await auditOf('contact.receipts-erased', conv.contact.id);
    expect(copies.after).toEqual({ contactId: conv.contact.id, webhookReceipts: 2, webhookRejections: 1, eventDeliveries: 2, outboundSends: 2, notes: 1, routeContexts: 1 });
    const [fact] = (await auditOf('contact.erased', conv.contact.id, 2)).reverse();
    expect(fact).toMatchObject({
      actor: { type: 'user', name: expect.any(String) },
      before: null,
      after: { contactId: conv.contact.id, messages: 2, mediaFiles: 1, conversations: 1, erasedAt: erased.erasedAt },
    });
    const trail = JSON.stringify((await http().get('/api/v1/audit?limit=1000').set(as('admin')).expect(200)).body);
    for (const secret of ['Secret Lane', 'passport', 'X1234567', 'Erin Erasable', waId]) expect(trail).not.toContain(secret);
    } finally {
      await notifications?.close();
    }
  });

  it('API keys need contacts:read / contacts:write', async () => {
    const key = async (who: string, scopes: string[]) =>
      (s.tokens[who] = (await http().post('/api/v1/api-keys').set(as('admin')).send({ name: who, scopes }).expect(201)).body.key);
    await key('reader', ['contacts:read']);
    await key('none', ['conversations:read']);
    const [reader, none] = ['reader', 'none'];
    const list = (await http().get('/api/v1/contacts?limit=1').set(as(reader)).expect(200)).body.items;
    await http().get('/api/v1/contacts').set(as(none)).expect(403);
    await http().patch(`/api/v1/contacts/${list[0].id}`).set(as(reader)).send({ name: 'x' }).expect(403);
  });
});
