import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import request from 'supertest';
import { buildService, type Service } from '../../../src/bootstrap.js';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import { createTestKey, ES_ISSUER, signToken, type TestKey } from '../../helpers/security/tokens.js';

const BASE = 'https://cds.example.org';
const PASSWORD = 'correct horse battery staple';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

let key: TestKey;
let dir: string;
let service: Service;
let app: Express;

beforeAll(async () => {
  key = await createTestKey('ES384', 'analytics-access-key');
  dir = mkdtempSync(join(tmpdir(), 'cds-analytics-access-'));
  const trustFile = join(dir, 'trust.json');
  writeFileSync(trustFile, JSON.stringify({ clients: [{ iss: ES_ISSUER, jwks: { keys: [key.publicJwk] }, fhirServers: ['https://ehr.example.org/fhir'] }] }));
  const config = loadConfig({
    NODE_ENV: 'test',
    CDS_PUBLIC_BASE_URL: BASE,
    CDS_TRUST_FILE: trustFile,
    DATA_DIR: dir,
    ANALYTICS_PASSWORD: PASSWORD,
    LOG_LEVEL: 'silent',
  });
  service = await buildService(config, createLogger('silent'));
  app = service.app;
});

afterAll(async () => {
  await service.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('analytics pages for people in a browser', () => {
  it('asks a browser for the analytics password', async () => {
    const response = await request(app).get('/analytics');
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Basic realm=/);
  });

  it('refuses a wrong password', async () => {
    const response = await request(app).get('/analytics').set('Authorization', basic('nurse', 'wrong password here'));
    expect(response.status).toBe(401);
  });

  it('shows the page with the right password', async () => {
    const response = await request(app).get('/analytics').set('Authorization', basic('analyst', PASSWORD));
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/text\/html/);
  });

  it('still accepts a CDS client JWT for the JSON report', async () => {
    const token = await signToken(key, { aud: `${BASE}/analytics/cards`, iat: Math.floor(Date.now() / 1000) });
    const response = await request(app).get('/analytics/cards?from=2026-11-01&to=2026-11-30').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ from: '2026-11-01', to: '2026-11-30' });
  });

  it('does not open the CDS services to the analytics password', async () => {
    const response = await request(app).get('/cds-services').set('Authorization', basic('analyst', PASSWORD));
    expect(response.status).toBe(401);
  });
});
