import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitFor } from '@app/testing';
import { RealtimeHub } from '../../apps/gateway/src/realtime/realtime.hub';
import { launchChromium } from './chromium';
import { BrowserStack, buildWeb } from './stack';

/**
 * The web client in a real browser (Debian's Chromium driven by playwright-core) against the real stack: a customer
 * writes in the sandbox, the message appears live for the agent, who claims and replies (the customer's phone gets
 * exactly one message even after a double click); a second agent sees the owner and cannot send; a handoff with a
 * note; the manager reassigns from the dashboard. Screenshots go to SCREENSHOT_DIR (default /tmp/switchboard-screenshots).
 */
const SHOTS = process.env.SCREENSHOT_DIR ?? '/tmp/switchboard-screenshots';
const PASSWORD = 'switchboard-demo';
const ANA = { email: 'ana@demo.switchboard.test', name: 'Demo Agent (Ana, Sales)' };
const BEN = { email: 'ben@demo.switchboard.test', name: 'Demo Agent (Ben, Sales + Support)' };
const MARA = { email: 'manager@demo.switchboard.test', name: 'Demo Manager (Mara)' };
/** A 1×1 PNG (a real picture, so the browser can show it). */
const PNG_1PX = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

describe('web client in Chromium against the real stack', () => {
  let stack: BrowserStack;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  async function open(setup?: (ctx: BrowserContext) => Promise<void>): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 820 } });
    contexts.push(ctx);
    await setup?.(ctx);
    const page = await ctx.newPage();
    page.setDefaultTimeout(25_000); // generous: CI runs this beside every other suite on 2 cores
    page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && !/Failed to load resource/.test(m.text()) && pageErrors.push(`${page.url()}: ${m.text()}`));
    return page;
  }

  async function signIn(who: { email: string }, setup?: (ctx: BrowserContext) => Promise<void>): Promise<Page> {
    const page = await open(setup);
    await page.goto(stack.base + '/');
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('status', { name: 'Live updates: live' }).waitFor(); // signed in, and the live connection is up
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const web = buildWeb();
    stack = await BrowserStack.start(web);
    chromium = await launchChromium();
    browser = chromium.browser;
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await chromium?.close();
    await stack?.stop();
  });

  it('login page shows the demo logins; a wrong password is explained', async () => {
    const page = await open();
    await page.goto(stack.base + '/');
    await page.getByRole('region', { name: 'Demo logins' }).getByText(ANA.email).waitFor();
    await shot(page, 'login');
    await page.getByLabel('Email').fill(ANA.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('Wrong email or password.').waitFor();
  }, 60_000);

  it('customer writes → live for the agent → claim and reply (double click) → exactly one message at the customer; others see the owner; handoff with a note; the manager reassigns', async () => {
    const ana = await signIn(ANA);
    await ana.getByRole('tab', { name: 'Unassigned' }).click();

    // the customer writes from the sandbox's phone page
    const waId = `1555${Math.floor(1e6 + Math.random() * 9e6)}`;
    const customerName = `Carla ${waId.slice(-4)}`;
    const phone = await open();
    await phone.goto(stack.sandboxUrl + '/sandbox');
    await phone.locator('#waId').fill(waId);
    await phone.locator('#name').fill(customerName);
    await phone.locator('#text').fill('Hi! Where is my order <b>#123</b>?');
    await phone.getByRole('button', { name: 'Send' }).click();

    // it appears in Ana's unassigned list without a reload, marked unread
    const row = ana.locator('.conv-item', { hasText: customerName });
    await row.waitFor();
    expect(await row.getAttribute('class')).toContain('unread');
    await row.click();
    await ana.locator('.timeline').getByText('Hi! Where is my order <b>#123</b>?').waitFor(); // shown as text, not markup
    const conversationId = /\/c\/([0-9a-f-]{36})$/.exec(ana.url())![1];

    // not the owner yet: no reply box; claim
    expect(await ana.getByLabel('Reply to the customer').count()).toBe(0);
    await ana.getByRole('button', { name: 'Claim' }).first().click();
    await ana.locator('.conv-head').getByText(ANA.name).waitFor();

    // reply with a double click: one Idempotency-Key, one message at the customer
    await ana.getByLabel('Reply to the customer').fill('Hello Carla, it ships today.');
    await ana.getByRole('button', { name: 'Send' }).dblclick();
    await ana.locator('.msg.out', { hasText: 'Hello Carla, it ships today.' }).waitFor();
    await waitFor(async () => (await stack.sentTo(waId)).count === 1, { what: 'the reply at the sandbox', timeoutMs: 25_000 });
    // the sandbox's status webhooks come back as ticks
    await ana.locator('.msg.out', { hasText: 'Hello Carla' }).getByLabel(/Delivered|Read/).waitFor();
    await phone.getByText('Hello Carla, it ships today.').waitFor();
    await shot(ana, 'inbox-agent');
    await shot(phone, 'sandbox-customer');

    // a second agent (own browser context) sees the owner and cannot send; Ana sees that Ben is viewing
    const ben = await signIn(BEN);
    await ben.goto(`${stack.base}/c/${conversationId}`);
    await ben.locator('.conv-head').getByText(ANA.name).waitFor();
    await ben.getByText(`${ANA.name} owns this conversation`).waitFor();
    expect(await ben.getByLabel('Reply to the customer').count()).toBe(0);
    expect(await ben.getByRole('button', { name: 'Send' }).count()).toBe(0);
    await ana.getByRole('status').getByText(`${BEN.name} is viewing`).waitFor();
    await shot(ben, 'inbox-other-agent');

    // handoff to Ben with a note: Ben's view turns live into the owner's, with the note inline
    await ana.getByRole('button', { name: 'Hand off' }).click();
    const dialog = ana.getByRole('dialog', { name: 'Hand off' });
    await dialog.getByLabel('To').selectOption({ label: BEN.name });
    expect(await dialog.getByRole('button', { name: 'Hand off' }).isDisabled()).toBe(true); // the note is required
    await dialog.getByLabel('Note for the receiver (required)').fill('Carla needs the tracking link; order #123.');
    await dialog.getByRole('button', { name: 'Hand off' }).click();
    await ben.locator('.note', { hasText: 'Handoff note' }).getByText('Carla needs the tracking link; order #123.').waitFor();
    await ben.locator('.event', { hasText: `handed off to ${BEN.name}` }).waitFor();
    await ben.getByLabel('Reply to the customer').waitFor();
    await ana.getByText(`${BEN.name} owns this conversation`).waitFor();

    // an internal note from Ben is visibly internal and never reaches the customer
    await ben.getByRole('tab', { name: 'Internal note' }).click();
    await ben.getByLabel('Internal note (only your team sees it)').fill('Tracking link requested from the warehouse');
    await ben.getByRole('button', { name: 'Add note' }).click();
    await ana.getByRole('note', { name: 'Internal note' }).filter({ hasText: 'Tracking link requested' }).waitFor();
    await shot(ben, 'inbox-handoff-note');

    // the manager reassigns from the dashboard; Ana's view follows live
    const mara = await signIn(MARA);
    await mara.getByRole('link', { name: 'Dashboard' }).click();
    await mara.getByRole('heading', { name: 'Agent load' }).waitFor();
    const week = mara.getByRole('region', { name: 'Last 7 days' });
    await week.getByRole('img', { name: 'Messages by hour of day' }).waitFor();
    await week.getByText('Conversations opened').waitFor();
    await mara.getByRole("region", { name: "Open conversations" }).getByLabel(`Owner of ${customerName}`).selectOption({ label: ANA.name });
    await mara.getByText('Reassigned 1 conversation.').waitFor();
    await ana.getByLabel('Reply to the customer').waitFor();
    await ana.locator('.conv-head').getByText(ANA.name).waitFor();
    await shot(mara, 'dashboard');

    // still exactly one message at the customer's phone
    expect((await stack.sentTo(waId)).count).toBe(1);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('window closed: free text is blocked and explained, an approved template with parameters reaches the customer once; once the customer writes again, an attached picture reaches them', async () => {
    const waId = `1555${Math.floor(1e6 + Math.random() * 9e6)}`;
    const customerName = `Tom ${waId.slice(-4)}`;
    await stack.customerWrites(waId, customerName, 'Any news on my order?', new Date(Date.now() - 25 * 3_600_000)); // wrote yesterday
    const ana = await signIn(ANA);
    await ana.getByRole('tab', { name: 'Unassigned' }).click();
    await ana.locator('.conv-item', { hasText: customerName }).click();
    await ana.getByRole('button', { name: 'Claim' }).first().click();
    await ana.locator('.conv-head').getByText(ANA.name).waitFor();

    // the 24 h window is closed: no free text, no attachment; the template picker is offered instead
    await ana.getByText(/24-hour window is closed/).waitFor();
    expect(await ana.getByLabel('Reply to the customer').isDisabled()).toBe(true);
    expect(await ana.getByRole('button', { name: 'Attach' }).isDisabled()).toBe(true);
    const picker = ana.getByRole('region', { name: 'Send a template' });
    await picker.getByLabel('Template').selectOption('order_update|en_US');
    expect(await picker.getByRole('button', { name: 'Send template' }).isDisabled()).toBe(true); // every parameter is needed
    await picker.getByLabel('Parameter 1').fill('Tom');
    await picker.getByLabel('Parameter 2').fill('A-1042');
    await picker.getByLabel('Parameter 3').fill('shipped');
    await picker.getByText('Hi Tom, your order A-1042 is now shipped.').waitFor();
    await shot(ana, 'composer-template-window-closed');
    await picker.getByRole('button', { name: 'Send template' }).dblclick();
    await waitFor(async () => (await stack.sentTo(waId)).count === 1, { what: 'the template at the sandbox', timeoutMs: 25_000 });
    const [template] = (await stack.sentTo(waId)).messages;
    expect(template.body).toMatchObject({ type: 'template', template: { name: 'order_update', language: { code: 'en_US' } } });
    expect(JSON.stringify(template.body.template.components)).toContain('A-1042');

    // the customer answers: the window opens live; Ana attaches a picture with a caption
    await stack.customerWrites(waId, customerName, 'Great, can you send a photo of the parcel?');
    await ana.locator('.timeline').getByText('Great, can you send a photo of the parcel?').waitFor();
    await ana.getByRole('button', { name: 'Attach' }).click();
    const attach = ana.getByRole('group', { name: 'Attach a file' });
    await attach.getByLabel('File').setInputFiles({ name: 'parcel.png', mimeType: 'image/png', buffer: PNG_1PX });
    await attach.getByLabel('Caption (optional)').fill('Your parcel');
    await attach.getByRole('button', { name: 'Send file' }).click();
    await waitFor(async () => (await stack.sentTo(waId)).count === 2, { what: 'the picture at the sandbox', timeoutMs: 25_000 });
    const picture = (await stack.sentTo(waId)).messages[1];
    expect(picture.body).toMatchObject({ type: 'image', image: { caption: 'Your parcel' } });
    expect(picture.body.image.id).toMatch(/^\d+$/); // uploaded to the sandbox's /media first, sent by id
    await ana.locator('.timeline').getByRole('img', { name: 'Your parcel' }).waitFor(); // the sent file in the timeline
    await shot(ana, 'composer-attachment');
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('the live connection drops: a banner says so, and after reconnecting what was missed is caught up', async () => {
    let blocked = false;
    // while `blocked`, the browser's reconnect attempts are refused (as when the gateway is unreachable)
    const ana = await signIn(ANA, (ctx) => ctx.routeWebSocket(/\/api\/v1\/realtime/, (ws) => (blocked ? ws.close() : void ws.connectToServer())));
    await ana.getByRole('tab', { name: 'Unassigned' }).click();
    blocked = true;
    const hub = stack.gateway.get(RealtimeHub) as unknown as { wss: { clients: Set<{ terminate(): void }> } };
    for (const ws of hub.wss.clients) ws.terminate();
    await ana.getByRole('alert').getByText(/Live updates are disconnected/).waitFor();

    // meanwhile a new customer writes
    const waId = `1555${Math.floor(1e6 + Math.random() * 9e6)}`;
    const name = `Omar ${waId.slice(-4)}`;
    await stack.customerWrites(waId, name, 'Are you open on Sunday?');
    const mara = await stack.as(MARA.email, PASSWORD);
    await waitFor(async () => (await mara<{ items: unknown[] }>(`/api/v1/conversations?view=unassigned&q=${waId}`)).items.length === 1, { what: 'the conversation on the server' });
    expect(await ana.locator('.conv-item', { hasText: name }).count()).toBe(0);
    await shot(ana, 'reconnect-banner');

    // the connection comes back: caught up without a reload
    blocked = false;
    const retry = ana.getByRole('button', { name: 'Retry now' });
    await retry.click({ timeout: 10_000 }).catch(async (err) => {
      // the client's own backoff may reconnect first and take the banner away: the same recovery, checked below
      if ((await retry.count()) > 0) throw err;
    });
    await ana.getByRole('status', { name: 'Live updates: live' }).waitFor();
    await ana.locator('.conv-item', { hasText: name }).waitFor();
    expect(await ana.getByText(/Live updates are disconnected/).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('SLA: the badge turns to warning when the (injected) clock passes the warning point, live', async () => {
    const mara = await stack.as(MARA.email, PASSWORD);
    const sales = (await mara<{ items: { id: string; name: string }[] }>('/api/v1/teams')).items.find((t) => t.name === 'Sales')!;
    await mara('/api/v1/sla/policies', { method: 'POST', body: { name: 'Sales first response', teamId: sales.id, firstResponseMinutes: 10 } });
    stack.slaClock.set(Date.now());

    const ana = await signIn(ANA);
    await ana.getByRole('tab', { name: 'Unassigned' }).click();
    const waId = `1555${Math.floor(1e6 + Math.random() * 9e6)}`;
    const name = `Sven ${waId.slice(-4)}`;
    await stack.customerWrites(waId, name, 'My parcel never arrived');
    await ana.locator('.conv-item', { hasText: name }).click();
    await ana.locator('.timeline').getByText('My parcel never arrived').waitFor();
    // keyboard: ? shows the cheat sheet, Esc closes it, c claims
    await ana.keyboard.press('?');
    await ana.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await ana.keyboard.press('Escape');
    await ana.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor({ state: 'detached' });
    await ana.keyboard.press('c');
    await ana.locator('.conv-head').getByText(ANA.name).waitFor();
    const badge = ana.getByRole('complementary', { name: 'Details' }).getByRole('region', { name: 'SLA' }).locator('[data-sla]');
    await waitFor(async () => (await badge.getAttribute('data-sla')) === 'ok', { what: 'the SLA clock on track', timeoutMs: 25_000 });
    await ana.getByText(/First response: due in/).waitFor();

    stack.slaClock.advance(8.5 * 60_000); // past 80 % of the 10-minute target
    await waitFor(async () => (await badge.getAttribute('data-sla')) === 'warning', { what: 'the SLA badge at warning', timeoutMs: 25_000 });
    await ana.getByRole('tab', { name: 'Mine' }).click();
    await ana.locator('.conv-item', { hasText: name }).locator('[data-sla="warning"]').waitFor();
    await shot(ana, 'sla-warning');
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('admin screens: a label created by the admin is offered to agents; an API key is shown once', async () => {
    const admin = await open();
    await admin.goto(stack.base + '/');
    await admin.getByLabel('Email').fill('admin@example.test');
    await admin.getByLabel('Password').fill('admin-password-123');
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByRole('link', { name: 'Admin' }).click();
    await admin.getByRole('cell', { name: ANA.email }).waitFor(); // users
    await admin.getByRole('tab', { name: 'Labels' }).click();
    await admin.getByLabel('New label').fill('VIP');
    await admin.getByRole('button', { name: 'Add label' }).click();
    await admin.locator('.label-list').getByText('VIP').waitFor();
    await admin.getByRole('tab', { name: 'API keys' }).click();
    await admin.getByLabel('Key name').fill('CRM bridge');
    await admin.getByRole('button', { name: 'Create key' }).click();
    expect(await admin.locator('code.secret').innerText()).toMatch(/^sbk_/);
    await shot(admin, 'admin-api-keys');
    await admin.getByRole('tab', { name: 'Routing rules' }).click();
    await admin.getByLabel('Name').fill('Refunds to Support');
    await admin.getByLabel('When the message contains (comma-separated)').fill('refund, money back');
    await admin.getByLabel('Send to team').selectOption({ label: 'Support' });
    await admin.getByRole('button', { name: 'Add rule' }).click();
    await admin.getByRole('cell', { name: 'Refunds to Support', exact: true }).waitFor();
    await admin.getByRole('cell', { name: /keywords: refund, money back/ }).waitFor();
    await admin.getByRole('cell', { name: /teamId: Support/ }).waitFor();
    // the screens over sla, routing's automation, event webhooks and the WhatsApp registry answer with the real shapes
    await admin.getByRole('tab', { name: 'Business hours' }).click();
    await admin.getByLabel('Name', { exact: true }).fill('Berlin office');
    await admin.getByLabel('Time zone').fill('Europe/Berlin');
    await admin.getByRole('button', { name: 'Add hours' }).click();
    await admin.getByRole('cell', { name: 'Mon 09:00–17:00; Tue 09:00–17:00; Wed 09:00–17:00; Thu 09:00–17:00; Fri 09:00–17:00' }).waitFor();
    await admin.getByRole('tab', { name: 'Automation' }).click();
    await admin.getByLabel('Shortcut', { exact: true }).fill('thanks');
    await admin.getByLabel('Title', { exact: true }).fill('Thank you');
    await admin.getByLabel('Response text').fill('Thanks {{contact.name}}!');
    await admin.getByRole('button', { name: 'Add response' }).click();
    await admin.getByRole('cell', { name: '/thanks' }).waitFor();
    await admin.getByLabel('Rule name').fill('Tag refunds');
    await admin.getByLabel('Text contains (comma-separated)').fill('refund');
    await admin.getByLabel('Action 1 labels').fill('VIP');
    await admin.getByRole('button', { name: 'Add rule' }).click();
    await admin.getByRole('cell', { name: 'add labels VIP' }).waitFor();
    await admin.getByRole('tab', { name: 'Event webhooks' }).click();
    await admin.getByRole('button', { name: 'Add subscription' }).waitFor();
    await admin.getByRole('tab', { name: 'WhatsApp' }).click();
    await admin.getByRole('heading', { name: 'Business numbers' }).waitFor();
    expect(await admin.getByText(/not available/).count()).toBe(0);
    await shot(admin, 'admin-whatsapp');

    // Ana labels her conversation with it (catalogue labels only)
    const ana = await signIn(ANA);
    await ana.getByRole('tab', { name: 'Mine' }).click();
    await ana.locator('.conv-item').first().click();
    await ana.getByLabel('Add label').selectOption('VIP');
    await ana.getByRole('complementary', { name: 'Details' }).locator('.chip.label', { hasText: 'VIP' }).waitFor();
    await ana.locator('.event', { hasText: 'added label VIP' }).waitFor();
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
