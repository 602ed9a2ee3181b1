// The managers' page in Debian's Chromium (playwright-core), against the real app and a real worker on the
// shared dev server: sign in, find an incident, read its timeline, edit its post-mortem (and meet a conflict),
// watch a live update arrive, open the dashboard, close the incident by finishing the review. Screenshots go to
// tests/artifacts/screenshots/.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { IncidentRecord } from '../../src/domain/incident';
import type { PostmortemView } from '../../src/services/postmortems';
import { API_RUNBOOKS, declareIncident, getIncident, startApiHarness, waitForOpenDecision, waitForStatus } from '../support/api';
import type { ApiHarness } from '../support/api';
import { DAY, HOUR, MINUTE, browserSuite, launchChromium, screenshot, seedIncident } from '../support/browser';
import { eventually } from '../support/temporal';

const REVIEW_RUNBOOK = `
id: review
title: Post-mortem with a review
owner: team-test
service: payments
severity: SEV2
phases:
  detect:
    - { id: opened, kind: notify, message: "Opened \${incident.id}" }
  report:
    - { id: announce, kind: notify, via: slack, to: "#incidents", message: "\${incident.id} is \${incident.severity}" }
  retrospective:
    - { id: pm, kind: postmortem, due: 5d }
`;

// Code passed to page.evaluate runs in the browser; the tests' tsconfig has no DOM library, so name what it uses.
declare const document: {
  activeElement: { id: string } | null;
  cookie: string;
  querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
};
declare const location: { hash: string };

browserSuite('the web page', () => {
  let api: ApiHarness;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let reviewed: IncidentRecord;
  let live: IncidentRecord;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    api = await startApiHarness({ name: 'browser', runbooks: { ...API_RUNBOOKS, 'review.yaml': REVIEW_RUNBOOK } });
    // Ten weeks of history for the list and the dashboard.
    const services = ['checkout', 'payments', 'orders-db', 'inventory', 'search'];
    for (let i = 0; i < 30; i++) {
      await seedIncident(api.store, {
        title: `${['Checkout errors', 'Payment retries', 'Order DB lag', 'Stock drift', 'Search timeouts'][i % 5]} ${i}`,
        declaredAt: new Date(Date.now() - (i * 2.3 + 1) * DAY),
        service: services[(i * 3) % 5],
        severity: (['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const)[i % 4],
        drill: i % 7 === 3,
        alertLeadMs: (2 + (i % 5)) * MINUTE,
        reportMs: 30_000,
        pageMs: 45_000,
        ackMs: (1 + (i % 9)) * MINUTE,
        clearMs: (20 + 3 * i) * MINUTE,
        resolveMs: (30 + 4 * i) * MINUTE,
        closeMs: (30 + 4 * i) * MINUTE + 3 * HOUR,
        notes: [{ atMs: 6 * MINUTE, text: 'Rolled back the last deploy' }],
        fillerSteps: 8,
      });
    }
    reviewed = await declareIncident(api, { title: 'Card payments declined at checkout', runbook: 'review' });
    await eventually(
      async () => ((await getIncident(api, reviewed.id)).live?.awaitingReview ? true : undefined),
      'the review incident waiting for its review',
    );
    live = await declareIncident(api, { title: 'Checkout 500s after the 14:00 deploy', runbook: 'hold' });
    await waitForOpenDecision(api, live.id, 'go-ahead');

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1366, height: 860 }, reducedMotion: 'reduce' });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await api?.stop();
  });

  afterEach(() => {
    expect(pageErrors).toEqual([]);
  });

  const rowsText = async (selector: string) => (await page.locator(selector).allInnerTexts()).join('\n');

  test('sign in with a token, by keyboard; a wrong token is refused', async () => {
    await page.goto(`${api.url}/`);
    const token = page.locator('#token');
    await token.waitFor();
    expect(await page.locator('#topbar').isVisible()).toBe(false);
    await screenshot(page, '00-sign-in');
    // The first Tab stop is the skip link; the token field has focus already.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('token');
    await page.keyboard.type('flt_wrong');
    await page.keyboard.press('Enter');
    await page.locator('.signin .notice.error', { hasText: 'That token is not valid.' }).waitFor();
    await token.fill(api.tokens.commander);
    await page.keyboard.press('Enter');
    await page.locator('#incident-table tbody tr').first().waitFor();
    expect(await page.locator('#who-name').innerText()).toBe('Grace Commander · commander');
    await page.locator('#live-status, .badge.live').first().waitFor();
    // The session cookie is httpOnly: the page's script cannot read it, only the CSRF value.
    expect(await page.evaluate(() => document.cookie)).toMatch(/^fireline_csrf=[^;]+$/);
    await screenshot(page, '01-incidents');
  });

  test('find an incident by search and filters, and open it', async () => {
    await page.locator('#q').fill('card payments');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('#incident-table tbody tr', { hasText: 'Card payments declined at checkout' }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('#incident-table tbody tr').length === 1);
    expect(page.url()).toContain('q=card+payments');

    await page.getByRole('button', { name: 'Clear' }).click();
    await page.waitForFunction(() => location.hash === '#/incidents');
    await page.locator('#incident-table tbody tr', { hasText: 'Payment retries' }).first().waitFor();
    await page.locator('#status').selectOption('open');
    await page.waitForFunction(() => location.hash.includes('status=open'));
    await page.locator('#incident-table tbody tr', { hasText: 'Checkout 500s after the 14:00 deploy' }).waitFor();
    for (const row of await page.locator('#incident-table tbody tr').allInnerTexts()) expect(row).toContain('open');
    await page.locator('#severity').selectOption('SEV2');
    await page.locator('#q').fill('checkout');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash.includes('severity=SEV2') && location.hash.includes('q=checkout'));
    await page.locator('#incident-table caption', { hasText: '1 incident matching' }).waitFor();
    await screenshot(page, '02-search');

    await page.getByRole('link', { name: live.id, exact: true }).click();
    await page.locator('#timeline-body tr').first().waitFor();
    expect(await page.locator('h1').innerText()).toBe(`${live.id} · Checkout 500s after the 14:00 deploy`);
  });

  test("read an incident's timeline, phases, decisions and who was told", async () => {
    // The link that pages, emails and Slack messages carry.
    await page.goto(`${api.url}/incidents/${reviewed.id}`);
    expect(new URL(page.url()).hash).toBe(`#/incidents/${reviewed.id}`);
    await page.locator('#timeline-body tr').first().waitFor();
    const timeline = await rowsText('#timeline-body tr');
    for (const text of [
      'incident.declared',
      'notification.sent',
      'incident.resolved',
      'postmortem.drafted',
      'Declared "Card payments declined at checkout"',
    ])
      expect(timeline).toContain(text);
    expect(await page.locator('.phasebar li').count()).toBe(6);
    expect((await page.locator('.phasebar li .name').allInnerTexts()).map((t) => t.toLowerCase())).toEqual([
      'detect',
      'report',
      'decide',
      'execute',
      'recover',
      'retrospective',
    ]);
    // No Slack is configured here, so the announcement went to the outbox.
    expect(await page.locator('#paged-title + div').innerText()).toContain('Notified #incidents via outbox');
    expect(await page.locator('#waiting-title').innerText()).toBe('Waiting for people');
    await page.locator('#timeline-filter').selectOption('paging');
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('#timeline-body tr')).every((r) =>
        /notification|page|acknowledged|escalated/.test(r.textContent ?? ''),
      ),
    );
    await page.locator('#timeline-filter').selectOption('all');
    await screenshot(page, '03-incident');
  });

  test('edit and save the post-mortem; a stale save shows a conflict and keeps the text', async () => {
    await page.getByRole('link', { name: 'Post-mortem (draft)' }).click();
    await page.locator('article .markdown').waitFor();
    expect(await page.locator('article').innerText()).toContain(`${reviewed.id}: Card payments declined at checkout`);
    await page.locator('#edit-postmortem').click();
    await page.locator('#section-rootCause').fill('The card processor rotated its TLS certificate; our pinned chain was stale.');
    await page.locator('#section-impact').fill('About 9% of card payments failed for 34 minutes.');
    await page.locator('#add-action-item').click();
    await page.locator('.ai-title').last().fill('Stop pinning the processor certificate chain');
    await page.locator('.ai-owner').last().fill('dana');
    await page.locator('.ai-due').last().fill('2026-12-15');
    await page.locator('#pm-status').selectOption('in-review');
    await page.locator('#save-postmortem').click();
    await page.locator('#pm-message .notice.ok', { hasText: 'Saved — version 2.' }).waitFor();
    const article = await page.locator('article').innerText();
    expect(article).toContain('The card processor rotated its TLS certificate');
    expect(article).toContain('Stop pinning the processor certificate chain');
    const saved = (await api.get<PostmortemView>(`/api/v1/incidents/${reviewed.id}/postmortem`, { as: 'viewer' })).body;
    expect(saved).toMatchObject({
      version: 2,
      status: 'in-review',
      actionItems: [expect.objectContaining({ title: 'Stop pinning the processor certificate chain', owner: 'dana', due: '2026-12-15' })],
    });
    const audit = (await api.store.listAudit({ incidentId: reviewed.id, limit: 20 })).find(
      (a) => a.action === 'postmortem.edit' && a.outcome === 'ok',
    );
    expect(audit).toMatchObject({ actor: { id: `token:${api.tokenIds.commander}` }, details: { fromVersion: 1, toVersion: 2 } });
    await screenshot(page, '04-postmortem-saved');

    // Someone else saves while this editor is open.
    await page.locator('#edit-postmortem').click();
    await page.locator('#section-summary').fill('Card payments failed after a certificate rotation (edited in the page).');
    const other = await api.request('PUT', `/api/v1/incidents/${reviewed.id}/postmortem`, {
      as: 'admin',
      body: { sections: { wentWell: 'Paging reached the payments on-call in under a minute.' } },
      headers: { 'if-match': '"2"' },
    });
    expect(other.status).toBe(200);
    await page.locator('#save-postmortem').click();
    const conflict = page.locator('#pm-message .notice.conflict');
    await conflict.waitFor();
    expect(await conflict.innerText()).toContain('Not saved: someone else changed this post-mortem.');
    expect(await conflict.innerText()).toContain('it is now at version 3');
    expect(await page.locator('#section-summary').inputValue()).toBe(
      'Card payments failed after a certificate rotation (edited in the page).',
    );
    await screenshot(page, '05-postmortem-conflict');
    await page.locator('#load-latest').click();
    await page.locator('#pm-message .notice.ok', { hasText: 'Loaded version 3.' }).waitFor();
    expect(await page.locator('#section-wentWell').inputValue()).toBe('Paging reached the payments on-call in under a minute.');
    await page.locator('#cancel-edit').click();
  });

  test('a note added through the API appears on the open incident page without a reload', async () => {
    await page.goto(`${api.url}/#/incidents/${live.id}`);
    await page.locator('#timeline-body tr').first().waitFor();
    await page.locator('#live-status', { hasText: 'live' }).waitFor();
    const before = await page.locator('#timeline-body tr').count();
    const marker = `Error rate back under 1% (${Date.now()})`;
    const note = await api.post(`/api/v1/incidents/${live.id}/notes`, { as: 'responder', body: { text: marker } });
    expect(note.status).toBe(201);
    await page.locator('#timeline-body tr', { hasText: marker }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#timeline-body tr').count()).toBe(before + 1);
    // Written by the page itself (cookie + CSRF header), then seen through the same stream.
    await page.locator('#note-text').fill('Holding the rollback until payments confirm');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.locator('#timeline-body tr', { hasText: 'Holding the rollback until payments confirm' }).waitFor({ timeout: 10_000 });
    await screenshot(page, '06-live-update');
  });

  test('the dashboard draws its charts', async () => {
    await page.getByRole('link', { name: 'Metrics' }).click();
    await page.locator('#chart-tta svg path').first().waitFor();
    expect(await page.locator('#chart-tta svg path').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#chart-ttr svg circle').count()).toBeGreaterThan(3);
    expect(await page.locator('#chart-severity svg rect').count()).toBe(4);
    expect(await page.locator('#chart-service svg rect').count()).toBe(5);
    expect(await page.locator('#chart-weekly svg rect').count()).toBeGreaterThanOrEqual(12);
    expect(Number(await page.locator('#tile-count .value').innerText())).toBeGreaterThanOrEqual(20);
    expect(await page.locator('#tile-drills .value').innerText()).not.toBe('0');
    await screenshot(page, '07-dashboard');
  });

  test('marking the review done in the page closes the incident; its action item stays open', async () => {
    await page.goto(`${api.url}/#/incidents/${reviewed.id}/postmortem`);
    await page.locator('#edit-postmortem').click();
    await page.locator('#pm-status').selectOption('done');
    await page.locator('#save-postmortem').click();
    await page.locator('#pm-message .notice.ok', { hasText: 'The review is done' }).waitFor();
    await waitForStatus(api, reviewed.id, 'closed');
    await page.getByRole('link', { name: 'Action items' }).click();
    await page.locator('tbody tr', { hasText: 'Stop pinning the processor certificate chain' }).waitFor();
    expect(await page.getByRole('button', { name: 'Load more' }).isVisible()).toBe(false);
    await screenshot(page, '08-action-items');
  });

  test('signing out ends the session', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#token').waitFor();
    const res = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
    expect(res).toBe(401);
  });
});
