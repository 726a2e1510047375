import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { expectValidDiscoveryResponse, type DiscoveryResponse } from '../../helpers/cds-response-schema.js';
import { ALL_HOOKS, buildTestApp, SERVICE_IDS } from '../../helpers/requests.js';

async function discover(): Promise<DiscoveryResponse> {
  const response = await request(buildTestApp()).get('/cds-services').set('Accept', 'application/json');
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  return expectValidDiscoveryResponse(response.body);
}

describe('discovery (GET /cds-services)', () => {
  it('lists exactly four services, one per hook, with the agreed ids', async () => {
    const { services } = await discover();
    expect(services).toHaveLength(4);
    expect(services.map((s) => s.hook).sort()).toEqual([...ALL_HOOKS].sort());
    const idsByHook: Record<string, string> = SERVICE_IDS;
    for (const service of services) {
      expect(service.id).toBe(idsByHook[service.hook]);
    }
  });

  it('gives every service a unique id', async () => {
    const { services } = await discover();
    expect(new Set(services.map((s) => s.id)).size).toBe(services.length);
  });

  it('gives every service its required fields and a title', async () => {
    const { services } = await discover();
    for (const service of services) {
      expect(service).toEqual(
        expect.objectContaining({
          hook: expect.any(String),
          id: expect.any(String),
          description: expect.any(String),
          title: expect.any(String),
        }),
      );
      expect(service.description.length).toBeGreaterThan(20);
    }
  });

  it('uses only {{context.patientId}}, {{context.userId}} and {{context.encounterId}} tokens in prefetch templates', async () => {
    const { services } = await discover();
    const tokens = services.flatMap((service) => Object.values(service.prefetch ?? {}).flatMap((template) => template.match(/\{\{[^}]*\}\}/g) ?? []));
    expect(tokens.length).toBeGreaterThan(0);
    for (const token of tokens) {
      expect(['{{context.patientId}}', '{{context.userId}}', '{{context.encounterId}}']).toContain(token);
    }
  });

  it('asks every service for the patient, conditions and procedures, and patient-view also for service requests', async () => {
    const { services } = await discover();
    for (const service of services) {
      expect(service.prefetch).toEqual(
        expect.objectContaining({
          patient: 'Patient/{{context.patientId}}',
          conditions: expect.stringMatching(/^Condition\?patient=\{\{context\.patientId\}\}/),
          procedures: expect.stringMatching(/^Procedure\?patient=\{\{context\.patientId\}\}/),
        }),
      );
    }
    const patientView = services.find((s) => s.hook === 'patient-view');
    expect(patientView?.prefetch?.['serviceRequests']).toMatch(/^ServiceRequest\?patient=\{\{context\.patientId\}\}/);
    const orderHooks = services.filter((s) => s.hook !== 'patient-view');
    for (const service of orderHooks) expect(service.prefetch).not.toHaveProperty('serviceRequests');
  });

  it('does not emit 3.0-draft discovery fields', async () => {
    const { services } = await discover();
    for (const service of services) {
      expect(service).not.toHaveProperty('version');
      expect(service).not.toHaveProperty('hookVersion');
    }
  });
});
