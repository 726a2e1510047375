/**
 * The landing page and the /try order-entry page in a real browser, driven only by what a person
 * (or a screen reader) finds: labels, roles and button text. The service runs in development mode
 * with its real knowledge and an SQLite analytics store, so feedback reaches /analytics/cards.
 * Screenshots go to test-output/screenshots/ (or SCREENSHOT_DIR) for people to look at.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildService, type Service } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { projectRoot } from '../../src/paths.js';
import { closeServer, listenOnLoopback } from '../helpers/loopback.js';
import { CHROMIUM, CHROMIUM_ARGS, describeWithChromium } from '../helpers/chromium.js';

const SCREENSHOTS = process.env['SCREENSHOT_DIR'] ?? join(projectRoot(), 'test-output', 'screenshots');
const XSS = '<img src=x onerror=alert(1)>';

interface CardCounts {
  readonly issued: number;
  readonly accepted: number;
  readonly overridden: number;
}

/** A record pasted by the user: cervical stenosis whose text carries markup. */
function hostileRecord(): Record<string, unknown> {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { resource: { resourceType: 'Patient', id: 'pasted-1' } },
      {
        resource: {
          resourceType: 'Condition',
          id: 'cond-hostile',
          subject: { reference: 'Patient/pasted-1' },
          clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
          code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'M48.02' }], text: `${XSS} cervical stenosis` },
          onsetDateTime: '2025-01-01',
        },
      },
    ],
  };
}

describeWithChromium('landing and try pages in a browser', () => {
  let dir = '';
  let server: Server | undefined;
  let service: Service | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let base = '';
  const dialogs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cds-try-'));
    mkdirSync(SCREENSHOTS, { recursive: true });
    const listening = createServer();
    const port = await listenOnLoopback(listening);
    base = `http://127.0.0.1:${port}`;
    const config = loadConfig({
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      CDS_PUBLIC_BASE_URL: base,
      DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'silent',
    });
    service = await buildService(config, createLogger('silent'));
    listening.on('request', service.app);
    server = listening;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await closeServer(server);
    await service?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function thePage(): Page {
    if (!page) throw new Error('browser not started');
    return page;
  }

  async function countsFor(cardId: string): Promise<CardCounts> {
    const response = await fetch(`${base}/analytics/cards`);
    const body: unknown = await response.json();
    const listed: unknown = typeof body === 'object' && body !== null ? Reflect.get(body, 'cards') : undefined;
    const cards: unknown[] = Array.isArray(listed) ? listed : [];
    const row = cards.find((card) => typeof card === 'object' && card !== null && Reflect.get(card, 'cardId') === cardId);
    const read = (name: string): number => {
      const value: unknown = row && typeof row === 'object' ? Reflect.get(row, name) : 0;
      return typeof value === 'number' ? value : 0;
    };
    return { issued: read('issued'), accepted: read('accepted'), overridden: read('overridden') };
  }

  /** Analytics are written behind the response; wait (until jest's timeout at most) for the counts to show what the page did. */
  async function waitForCounts(cardId: string, wanted: (counts: CardCounts) => boolean): Promise<CardCounts> {
    let counts = await countsFor(cardId);
    while (!wanted(counts)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      counts = await countsFor(cardId);
    }
    return counts;
  }

  async function openTryPage(): Promise<Page> {
    const p = thePage();
    await p.goto(`${base}/try`);
    await p.locator('body[data-ready="true"]').waitFor();
    return p;
  }

  async function addOrder(p: Page, order: string, site: string): Promise<void> {
    await p.getByLabel('Order', { exact: true }).selectOption({ label: order });
    await p.getByLabel('Body site', { exact: true }).selectOption({ label: site });
    await p.getByRole('button', { name: 'Add order' }).click();
  }

  it('shows the services from discovery on the landing page, and every link on it resolves', async () => {
    const p = thePage();
    await p.goto(`${base}/`);
    const discovery: unknown = await (await fetch(`${base}/cds-services`)).json();
    const services = typeof discovery === 'object' && discovery !== null ? Reflect.get(discovery, 'services') : undefined;
    expect(Array.isArray(services)).toBe(true);
    for (const entry of Array.isArray(services) ? services : []) {
      await expect(p.getByRole('cell', { name: String(Reflect.get(entry, 'id')), exact: true }).count()).resolves.toBe(1);
    }
    const hrefs: string[] = [];
    for (const link of await p.getByRole('link').all()) hrefs.push(new URL((await link.getAttribute('href')) ?? '', `${base}/`).href);
    expect(hrefs).toEqual(expect.arrayContaining([`${base}/try`, `${base}/rationale/`, `${base}/analytics`, `${base}/cds-services`, `${base}/fhir/metadata`]));
    for (const href of hrefs) {
      const response = await fetch(href);
      expect(`${href} ${response.status}`).toBe(`${href} 200`);
    }
    await p.screenshot({ path: join(SCREENSHOTS, 'landing.png'), fullPage: true });
  });

  it('order-sign: a neck massage for the cervical stenosis patient gives a warning; its recommended suggestion removes the order and is counted as accepted', async () => {
    const p = await openTryPage();
    await p.getByLabel('Patient', { exact: true }).selectOption({ label: 'Cervical stenosis, untreated' });
    await p.getByLabel('Hook', { exact: true }).selectOption({ label: 'order-sign' });
    await addOrder(p, 'Massage', 'Neck');
    const drafts = p.getByRole('list', { name: 'Draft orders' });
    await expect(drafts.getByRole('listitem').filter({ hasText: 'Massage' }).count()).resolves.toBe(1);

    await p.getByRole('button', { name: 'Send' }).click();
    const card = p.getByRole('article').first();
    await card.waitFor();
    await expect(p.getByRole('article').count()).resolves.toBe(1);
    await expect(card.getAttribute('data-indicator')).resolves.toBe('warning');
    const heading = await card.getByRole('heading').first().textContent();
    expect(heading?.length ?? 0).toBeGreaterThan(10);
    await expect(p.getByRole('article', { name: heading ?? '' }).count()).resolves.toBe(1);

    await card.getByRole('button', { name: /recommended/ }).click();
    await p.getByRole('log').getByRole('listitem').first().waitFor();
    await expect(p.getByRole('log').getByRole('listitem').first().textContent()).resolves.toMatch(/^accepted .*: 200 /);
    await expect(drafts.getByRole('listitem').filter({ hasText: 'Massage' }).count()).resolves.toBe(0);
    const counts = await waitForCounts('cervical-stenosis-massage', (c) => c.accepted === 1);
    expect(counts).toEqual({ issued: 1, accepted: 1, overridden: 0 });
  });

  it('order-sign: spinal manipulation at the neck gives a critical card; Dismiss with an override reason is counted as overridden', async () => {
    const p = thePage();
    await addOrder(p, 'Spinal manipulation', 'Neck');
    await p.getByRole('button', { name: 'Send' }).click();
    const card = p.getByRole('article').first();
    await card.waitFor();
    await expect(card.getAttribute('data-indicator')).resolves.toBe('critical');
    await p.screenshot({ path: join(SCREENSHOTS, 'try-with-card.png'), fullPage: true });

    const reasons = card.getByLabel('Override reason', { exact: true });
    const second = await reasons.locator('option').nth(1).textContent();
    await reasons.selectOption({ label: second ?? '' });
    await card.getByRole('button', { name: 'Dismiss' }).click();
    await p.getByRole('log').getByRole('listitem').nth(1).waitFor();
    await expect(p.getByRole('log').getByRole('listitem').nth(1).textContent()).resolves.toMatch(/^overridden .*: 200 /);
    const counts = await waitForCounts('cervical-stenosis-manipulation', (c) => c.overridden === 1);
    expect(counts).toEqual({ issued: 1, accepted: 0, overridden: 1 });
  });

  it('patient-view: the cord compression patient, whose chart holds a massage order, gets a critical card', async () => {
    const p = await openTryPage();
    await p.getByLabel('Patient', { exact: true }).selectOption({ label: 'Cord compression, untreated' });
    await p.getByLabel('Hook', { exact: true }).selectOption({ label: 'patient-view' });
    await p.getByRole('button', { name: 'Send' }).click();
    const card = p.getByRole('article').first();
    await card.waitFor();
    await expect(card.getAttribute('data-indicator')).resolves.toBe('critical');
  });

  it('order-select: only the ticked draft orders are sent as selections', async () => {
    const p = await openTryPage();
    await p.getByLabel('Patient', { exact: true }).selectOption({ label: 'Cervical stenosis, untreated' });
    await p.getByLabel('Hook', { exact: true }).selectOption({ label: 'order-select' });
    await addOrder(p, 'Massage', 'Neck');
    await addOrder(p, 'Manual therapy', 'Neck');
    await p.getByLabel('Selected: Massage (neck)', { exact: true }).uncheck();
    await p.getByRole('button', { name: 'Send' }).click();
    await p.getByRole('article').first().waitFor();
    await expect(p.getByRole('article').count()).resolves.toBe(1);
    await p.getByText('Request sent').click();
    const sent: unknown = JSON.parse((await p.getByRole('group').filter({ hasText: 'Request sent' }).locator('pre').textContent()) ?? '{}');
    expect(sent).toMatchObject({ hook: 'order-select', context: { selections: [expect.stringMatching(/^ServiceRequest\//)] } });
  });

  it('appointment-book: a neck massage drafted as a proposed appointment gives a warning; its recommended suggestion removes the draft', async () => {
    const p = await openTryPage();
    await p.getByLabel('Patient', { exact: true }).selectOption({ label: 'Cervical stenosis, untreated' });
    await p.getByLabel('Hook', { exact: true }).selectOption({ label: 'appointment-book' });
    await addOrder(p, 'Massage', 'Neck');
    await p.getByRole('button', { name: 'Send' }).click();
    const card = p.getByRole('article').first();
    await card.waitFor();
    await expect(card.getAttribute('data-indicator')).resolves.toBe('warning');
    await card.getByRole('button', { name: /recommended/ }).click();
    // The page applies the suggestion after its click handler's own work: wait for the draft to go, then count.
    const massageDrafts = p.getByRole('list', { name: 'Draft orders' }).getByRole('listitem').filter({ hasText: 'Massage' });
    await massageDrafts.first().waitFor({ state: 'detached' });
    await expect(massageDrafts.count()).resolves.toBe(0);
  });

  it('renders markup in a pasted record as text: no element is created and no script runs', async () => {
    const p = await openTryPage();
    await p.getByLabel('Patient record (FHIR Bundle)', { exact: true }).fill(JSON.stringify(hostileRecord()));
    await p.getByLabel('Hook', { exact: true }).selectOption({ label: 'order-sign' });
    await addOrder(p, 'Massage', 'Neck');
    await p.getByRole('button', { name: 'Send' }).click();
    const card = p.getByRole('article').first();
    await card.waitFor();
    await expect(card.getAttribute('data-indicator')).resolves.toBe('warning');
    await expect(card.textContent()).resolves.toContain(XSS);
    await expect(p.locator('img').count()).resolves.toBe(0);
    expect(dialogs).toEqual([]);
  });
});
