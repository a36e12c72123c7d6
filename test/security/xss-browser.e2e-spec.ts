import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { OutboundQueuedV1 } from '@app/contracts';
import { NatsBus } from '@app/messaging';
import { TEST_NATS_URL, waitFor } from '@app/testing';
import { sign } from '../../apps/gateway/src/webhooks/whatsapp/signature';
import { launchChromium } from '../browser/chromium';
import { BrowserStack, buildWeb } from '../browser/stack';
import { textWebhook } from '../support/webhooks';

/**
 * Stored XSS, checked in the browser: hostile markup in a customer's message, a contact's profile name, an internal
 * note and a template's parameters (as notifications renders them into the outbound message) reaches the real web
 * client in Chromium. Each must show as literal text: no element is created from it and no script runs. Two layers
 * are checked separately: React's escaping (no element from the payload in the DOM) and the CSP, on its own: markup
 * put into the page past React (as an escaping bug or a dangerouslySetInnerHTML would) must still run nothing, its
 * inline handler and inline script being refused by the policy (a violation is reported: positive control). Without
 * that second check the test passes with `'unsafe-inline'` in script-src, since React alone keeps the payloads inert.
 */
const NUMBER = '106540352242922'; // the demo's Sales number
const MARA = { email: 'manager@demo.switchboard.test', password: 'switchboard-demo' };
const P = {
  message: `<img src=x-msg onerror="window.__xss='message'"> hello <script>window.__xss='script'</script>`,
  name: `<svg onload="window.__xss='name'"></svg>Eve`,
  note: `<img src=x-note onerror="window.__xss='note'"><a href="javascript:window.__xss='link'">click</a>`,
  template: `Your order <img src=x-tpl onerror="window.__xss='template'"> ships`,
};

describe('security: stored XSS in the web client (Chromium, real stack)', () => {
  let stack: BrowserStack;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let browser: Browser;
  let peer: NatsBus;

  beforeAll(async () => {
    stack = await BrowserStack.start(buildWeb());
    chromium = await launchChromium();
    browser = chromium.browser;
    peer = await NatsBus.connect({ url: TEST_NATS_URL, namespace: stack.env.namespace, service: 'xss-peer' });
  }, 180_000);
  afterAll(async () => {
    await peer?.close();
    await chromium?.close();
    await stack?.stop();
  });

  it('shows hostile markup from messages, names, notes and template parameters as text, and runs nothing', async () => {
    const api = async (path: string, token: string | null, body?: unknown) => {
      const res = await fetch(`${stack.base}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return res.json();
    };
    // the customer writes (a signed webhook, as Meta or the sandbox sends it)
    const waId = `1555${Math.floor(1e6 + Math.random() * 9e6)}`;
    const raw = textWebhook({ phoneNumberId: NUMBER, from: waId, name: P.name, text: P.message });
    const posted = await fetch(`${stack.base}/webhooks/whatsapp`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(raw, 'sandbox-app-secret') }, body: raw });
    expect(posted.status).toBe(200);
    const token = (await api('/api/v1/auth/login', null, MARA)).accessToken as string;
    const conversation = await waitFor(async () => (await api('/api/v1/conversations?view=all&limit=100', token)).items?.find((c: { contact: { waId: string } }) => c.contact.waId === waId), {
      what: 'the conversation',
      timeoutMs: 20_000,
    });
    await api(`/api/v1/conversations/${conversation.id}/notes`, token, { body: P.note });
    // a template sent with hostile parameters, as notifications announces it once rendered
    const sendId = randomUUID();
    await peer.publish(OutboundQueuedV1, {
      eventId: randomUUID(), occurredAt: new Date().toISOString(), sendId, phoneNumberId: NUMBER, conversationId: conversation.id, to: waId,
      kind: 'template', text: P.template, content: { type: 'template', template: { name: 'order_update', language: { code: 'en' } } }, senderId: null, senderName: 'API',
    });

    const ctx = await browser.newContext({ viewport: { width: 1366, height: 820 } });
    const page: Page = await ctx.newPage();
    page.setDefaultTimeout(20_000);
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    try {
      await page.goto(stack.base + '/');
      await page.getByLabel('Email').fill(MARA.email);
      await page.getByLabel('Password').fill(MARA.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('status', { name: 'Live updates: live' }).waitFor();
      await page.goto(`${stack.base}/c/${conversation.id}`);
      // each payload is on the page as text
      await page.locator('.timeline').getByText('hello', { exact: false }).first().waitFor();
      for (const text of [P.message, P.note, P.template]) await page.getByText(text, { exact: true }).first().waitFor();
      await page.getByText(P.name, { exact: false }).first().waitFor();
      await page.locator('.timeline').getByText('click', { exact: false }).first().click().catch(() => undefined);
      await page.waitForTimeout(300);
      const found = await page.evaluate(() => ({
        xss: (window as unknown as { __xss?: string }).__xss ?? null,
        elements: document.querySelectorAll('img[src^="x-"], svg[onload], [onerror], [onload], a[href^="javascript:"]').length,
        scripts: [...document.scripts].filter((s) => (s.textContent ?? '').includes('__xss')).length,
      }));
      expect(found).toEqual({ xss: null, elements: 0, scripts: 0 });
      expect(dialogs).toEqual([]);

      // the CSP on its own: the stored payloads, put into the page as raw HTML past React, and an inline script
      const csp = await page.evaluate(async (payloads) => {
        const violations: string[] = [];
        document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
        const host = document.createElement('div');
        host.innerHTML = payloads.join(' ');
        document.body.append(host);
        const script = document.createElement('script');
        script.textContent = "window.__xss = 'inline script'";
        document.body.append(script);
        await new Promise((r) => setTimeout(r, 500));
        host.remove();
        script.remove();
        return { xss: (window as unknown as { __xss?: string }).__xss ?? null, refusedByCsp: violations.some((d) => d.startsWith('script-src')) };
      }, [P.message, P.name, P.note, P.template]);
      expect(csp).toEqual({ xss: null, refusedByCsp: true });
      expect(dialogs).toEqual([]);
    } finally {
      await ctx.close();
    }
  }, 120_000);
});
