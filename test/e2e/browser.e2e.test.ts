/**
 * A real browser as the CDS client: a page on one origin calls the service on another with
 * `Authorization: Bearer <JWT>`, so the CORS preflights and the JWT check run exactly as for a
 * browser-based client such as the CDS Hooks sandbox. No request interception (`page.route()`
 * answers preflights itself and would hide CORS bugs).
 * @see https://cds-hooks.hl7.org/2.0/#cross-origin-resource-sharing
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildService } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { closeServer, listenOnLoopback } from '../helpers/loopback.js';
import { CHROMIUM, CHROMIUM_ARGS, describeWithChromium } from '../helpers/chromium.js';
import { hookRequest, searchset, servicePath, stenosisCondition } from '../helpers/requests.js';
import { createTestKey, signToken, type TestKey } from '../helpers/security/tokens.js';

const ISSUER = 'https://browser-client.example.org';

/** The CDS client page: it signs nothing; the test hands it a pre-signed JWT per call. */
const CLIENT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Test CDS client</title></head>
<body>
<p id="state">idle</p>
<p id="summary"></p>
<script>
  window.runCdsClient = async function (call) {
    document.getElementById('state').textContent = 'discovering';
    const discovery = await fetch(call.serviceBase + '/cds-services', {
      headers: { Accept: 'application/json', Authorization: 'Bearer ' + call.discoveryToken },
    });
    if (!discovery.ok) throw new Error('discovery answered ' + discovery.status);
    const services = (await discovery.json()).services;
    const service = services.find(function (s) { return s.hook === 'order-sign'; });
    document.getElementById('state').textContent = 'calling ' + service.id;
    const response = await fetch(call.serviceBase + '/cds-services/' + service.id, {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', Authorization: 'Bearer ' + call.serviceToken },
      body: JSON.stringify(call.hookRequest),
    });
    if (!response.ok) throw new Error('service answered ' + response.status);
    const body = await response.json();
    document.getElementById('summary').textContent = body.cards[0].summary;
    document.getElementById('state').textContent = 'done';
    return body.cards.length;
  };
</script>
</body>
</html>`;

function staticPageServer(): Server {
  return createServer((req, res) => {
    if (req.url === '/' || req.url?.startsWith('/?')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(CLIENT_PAGE);
      return;
    }
    res.writeHead(404).end();
  });
}

describeWithChromium('browser client against the real service', () => {
  let key: TestKey;
  let dir: string;
  let serviceServer: Server | undefined;
  let pageServer: Server | undefined;
  let refusedPageServer: Server | undefined;
  let context: BrowserContext | undefined;
  let serviceBase = '';
  let pageOrigin = '';
  let refusedOrigin = '';
  const seenByService: string[] = [];

  beforeAll(async () => {
    key = await createTestKey('ES384', 'browser-key-1');
    dir = mkdtempSync(join(tmpdir(), 'cds-browser-'));
    const trustFile = join(dir, 'trust.json');
    writeFileSync(trustFile, JSON.stringify({ clients: [{ iss: ISSUER, jwks: { keys: [key.publicJwk] }, fhirServers: [] }] }));

    pageServer = staticPageServer();
    pageOrigin = `http://127.0.0.1:${await listenOnLoopback(pageServer)}`;
    refusedPageServer = staticPageServer();
    refusedOrigin = `http://127.0.0.1:${await listenOnLoopback(refusedPageServer)}`;

    // The port must be known before the configuration: the JWT aud is the service's public URL.
    const listening = createServer();
    const servicePort = await listenOnLoopback(listening);
    serviceBase = `http://127.0.0.1:${servicePort}`;
    const config = loadConfig({
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(servicePort),
      CDS_PUBLIC_BASE_URL: serviceBase,
      CDS_TRUST_FILE: trustFile,
      CORS_ORIGINS: pageOrigin,
      LOG_LEVEL: 'silent',
    });
    const { app } = await buildService(config, createLogger('silent'));
    listening.on('request', (req) => seenByService.push(`${req.method ?? ''} ${req.url ?? ''} ${req.headers.origin ?? '-'}`));
    listening.on('request', app);
    serviceServer = listening;

    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await closeServer(serviceServer);
    await closeServer(pageServer);
    await closeServer(refusedPageServer);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function openPage(origin: string): Promise<Page> {
    if (!context) throw new Error('browser not started');
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    return page;
  }

  async function clientCall(): Promise<Record<string, unknown>> {
    const iat = Math.floor(Date.now() / 1000);
    const serviceUrl = `${serviceBase}${servicePath('order-sign')}`;
    return {
      serviceBase,
      discoveryToken: await signToken(key, { iss: ISSUER, aud: `${serviceBase}/cds-services`, iat }),
      serviceToken: await signToken(key, { iss: ISSUER, aud: serviceUrl, iat }),
      hookRequest: hookRequest('order-sign', {
        fhirServer: undefined,
        prefetch: { conditions: searchset([stenosisCondition()]), procedures: searchset([]) },
      }),
    };
  }

  it('discovers the services and shows the first card of a massage + cervical stenosis order-sign call', async () => {
    const page = await openPage(pageOrigin);
    try {
      const count: unknown = await page.evaluate(`window.runCdsClient(${JSON.stringify(await clientCall())})`);
      expect(count).toBe(1);
      const summary = (await page.locator('#summary').textContent()) ?? '';
      expect(summary).toMatch(/massage/i);
      expect(summary).toMatch(/stenosis/i);
      expect(await page.locator('#state').textContent()).toBe('done');
      // The browser sent real preflights, answered by the service itself.
      expect(seenByService).toEqual(expect.arrayContaining([`OPTIONS /cds-services ${pageOrigin}`, `OPTIONS ${servicePath('order-sign')} ${pageOrigin}`]));
    } finally {
      await page.close();
    }
  });

  it('keeps a page from an origin not in CORS_ORIGINS from reading the response', async () => {
    const page = await openPage(refusedOrigin);
    try {
      await expect(page.evaluate(`window.runCdsClient(${JSON.stringify(await clientCall())})`)).rejects.toThrow(/Failed to fetch/);
      expect(await page.locator('#summary').textContent()).toBe('');
      expect(seenByService).toContain(`OPTIONS /cds-services ${refusedOrigin}`);
      expect(seenByService).not.toContain(`GET /cds-services ${refusedOrigin}`);
    } finally {
      await page.close();
    }
  });
});
