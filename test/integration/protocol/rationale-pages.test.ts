import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { loadKnowledge } from '../../../src/knowledge/load-knowledge.js';
import { buildTestApp } from '../../helpers/requests.js';

describe('rationale pages', () => {
  const app = buildTestApp();

  it('redirects /rationale to /rationale/ so the index links resolve', async () => {
    const response = await request(app).get('/rationale');
    expect(response.status).toBe(301);
    expect(response.headers['location']).toBe('/rationale/');
  });

  it('lists every card id on the index, linked relative to it', async () => {
    const response = await request(app).get('/rationale/');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/text\/html/);
    for (const id of loadKnowledge().cards.keys()) {
      expect(response.text).toContain(`href="${id}"`);
    }
  });

  it('answers 405 to other methods', async () => {
    const response = await request(app).post('/rationale/cervical-stenosis-massage');
    expect(response.status).toBe(405);
    expect(response.headers['allow']).toBe('GET');
  });
});
