import { afterEach, describe, expect, it } from '@jest/globals';
import { setTimeout as delay } from 'node:timers/promises';
import { createBreakerGateway, isServerFailure, type BreakerGateway } from '../../../src/fhir/breaker-gateway.js';
import { FhirCallError, type FhirGateway, type FhirSearch, type FhirSearchResult } from '../../../src/fhir/gateway.js';
import type { BreakerState, Metrics } from '../../../src/ops/types.js';

const SERVER_A = 'https://ehr-a.example.org/fhir';
const SERVER_B = 'https://ehr-b.example.org/fhir';
const RESET_MS = 40;

type Behaviour = 'ok' | 'hang' | 'timeout' | 'network' | 'http-500' | 'http-502' | 'http-503' | 'http-429' | 'http-404' | 'http-401' | 'invalid';

/** A gateway whose answer per server is set by the test; it counts the calls it receives. */
function fakeGateway() {
  const behaviour = new Map<string, Behaviour>();
  const calls: FhirSearch[] = [];
  const gateway: FhirGateway = {
    async search(request: FhirSearch): Promise<FhirSearchResult> {
      calls.push(request);
      const mode = behaviour.get(request.baseUrl) ?? 'ok';
      if (mode === 'ok') return { resources: [{ resourceType: 'Condition', id: 'c1' }], truncated: false };
      if (mode === 'hang') return new Promise<never>(() => undefined);
      if (mode === 'timeout' || mode === 'network' || mode === 'invalid') throw new FhirCallError(mode);
      throw new FhirCallError('http', Number(mode.slice(5)));
    },
  };
  return { gateway, calls, behaviour };
}

function search(baseUrl: string, signal: AbortSignal = new AbortController().signal): FhirSearch {
  return { baseUrl, token: undefined, query: 'Condition?patient=p1', signal };
}

async function failTimes(breaker: BreakerGateway, baseUrl: string, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) await expect(breaker.search(search(baseUrl))).rejects.toBeInstanceOf(FhirCallError);
}

function recordingMetrics() {
  const fhirCalls: Array<{ resourceType: string; outcome: string; seconds: number }> = [];
  const states: Array<{ origin: string; state: BreakerState }> = [];
  const metrics: Metrics & { setBreakerState: (l: { origin: string }, s: BreakerState) => void; forgetBreaker: () => void } = {
    observeRequest: () => undefined,
    countCard: () => undefined,
    countPrefetch: () => undefined,
    countPrefetchParse: () => undefined,
    observeFhirCall: ({ resourceType, outcome }, seconds) => fhirCalls.push({ resourceType, outcome, seconds }),
    countUnrecordedCards: () => undefined,
    countFeedback: () => undefined,
    countSuppressed: () => undefined,
    countHistoryMiss: () => undefined,
    setBreakerState: ({ origin }, state) => states.push({ origin, state }),
    forgetBreaker: () => undefined,
  };
  return { metrics, fhirCalls, states };
}

let open: BreakerGateway[] = [];
function track(breaker: BreakerGateway): BreakerGateway {
  open.push(breaker);
  return breaker;
}

afterEach(() => {
  for (const breaker of open) breaker.close();
  open = [];
});

describe('breaker gateway', () => {
  it('passes results through while the server answers', async () => {
    const { gateway, calls } = fakeGateway();
    const breaker = track(createBreakerGateway(gateway, { failureThreshold: 3, resetMs: RESET_MS }));
    await expect(breaker.search(search(SERVER_A))).resolves.toEqual({ resources: [{ resourceType: 'Condition', id: 'c1' }], truncated: false });
    expect(calls).toHaveLength(1);
    expect(breaker.stateOf(SERVER_A)).toBe('closed');
  });

  it('opens after the threshold of consecutive server failures and then rejects without calling the server', async () => {
    const { gateway, calls, behaviour } = fakeGateway();
    behaviour.set(SERVER_A, 'http-503');
    const breaker = track(createBreakerGateway(gateway, { failureThreshold: 3, resetMs: 60_000 }));
    await failTimes(breaker, SERVER_A, 2);
    expect(breaker.stateOf(SERVER_A)).toBe('closed');
    await failTimes(breaker, SERVER_A, 1);
    expect(breaker.stateOf(SERVER_A)).toBe('open');
    expect(calls).toHaveLength(3);

    // The server would now never answer: only a refusal without a call can settle the search.
    behaviour.set(SERVER_A, 'hang');
    const rejected = await breaker.search(search(SERVER_A)).catch((error: unknown) => error);
    expect(rejected).toBeInstanceOf(FhirCallError);
    expect(rejected).toMatchObject({ kind: 'rejected' });
    expect(calls).toHaveLength(3);
  });

  it('counts timeouts, network errors and 429 as server failures', async () => {
    for (const mode of ['timeout', 'network', 'http-429', 'http-500'] as const) {
      const { gateway, behaviour } = fakeGateway();
      behaviour.set(SERVER_A, mode);
      const breaker = track(createBreakerGateway(gateway, { failureThreshold: 2, resetMs: 60_000 }));
      await failTimes(breaker, SERVER_A, 2);
      expect(breaker.stateOf(SERVER_A)).toBe('open');
    }
  });

  it('never opens on 4xx answers or non-Bundle bodies, which are problems of the request', async () => {
    const { gateway, calls, behaviour } = fakeGateway();
    const breaker = track(createBreakerGateway(gateway, { failureThreshold: 2, resetMs: 60_000 }));
    for (const mode of ['http-404', 'http-401', 'invalid'] as const) {
      behaviour.set(SERVER_A, mode);
      await failTimes(breaker, SERVER_A, 3);
    }
    expect(breaker.stateOf(SERVER_A)).toBe('closed');
    expect(calls).toHaveLength(9);
  });

  it('restarts the count when the server answers between failures', async () => {
    const { gateway, behaviour } = fakeGateway();
    const breaker = track(createBreakerGateway(gateway, { failureThreshold: 3, resetMs: 60_000 }));
    behaviour.set(SERVER_A, 'http-500');
    await failTimes(breaker, SERVER_A, 2);
    behaviour.set(SERVER_A, 'http-404');
    await failTimes(breaker, SERVER_A, 1);
    behaviour.set(SERVER_A, 'http-500');
    await failTimes(breaker, SERVER_A, 2);
    expect(breaker.stateOf(SERVER_A)).toBe('closed');
    behaviour.set(SERVER_A, 'ok');
    await breaker.search(search(SERVER_A));
    behaviour.set(SERVER_A, 'http-500');
    await failTimes(breaker, SERVER_A, 2);
    expect(breaker.stateOf(SERVER_A)).toBe('closed');
  });

  it('does not hold failures after the caller aborted against the server', async () => {
    const { gateway, behaviour } = fakeGateway();
    behaviour.set(SERVER_A, 'timeout');
    const breaker = track(createBreakerGateway(gateway, { failureThreshold: 2, resetMs: 60_000 }));
    const controller = new AbortController();
    controller.abort();
    for (let i = 0; i < 5; i += 1) await expect(breaker.search(search(SERVER_A, controller.signal))).rejects.toMatchObject({ kind: 'timeout' });
    expect(breaker.stateOf(SERVER_A)).toBe('closed');
  });

  it('lets one trial call through after resetMs and closes again when it succeeds', async () => {
    const { gateway, calls, behaviour } = fakeGateway();
    behaviour.set(SERVER_A, 'network');
    const breaker = track(createBreakerGateway(gateway, { failureThreshold: 2, resetMs: RESET_MS }));
    await failTimes(breaker, SERVER_A, 2);
    expect(breaker.stateOf(SERVER_A)).toBe('open');

    await delay(RESET_MS + 30);
    expect(breaker.stateOf(SERVER_A)).toBe('half-open');
    behaviour.set(SERVER_A, 'ok');
    await expect(breaker.search(search(SERVER_A))).resolves.toMatchObject({ truncated: false });
    expect(breaker.stateOf(SERVER_A)).toBe('closed');
    await breaker.search(search(SERVER_A));
    expect(calls).toHaveLength(4);
  });

  it('opens again when the trial call fails', async () => {
    const { gateway, calls, behaviour } = fakeGateway();
    behaviour.set(SERVER_A, 'http-502');
    const breaker = track(createBreakerGateway(gateway, { failureThreshold: 2, resetMs: RESET_MS }));
    await failTimes(breaker, SERVER_A, 2);
    await delay(RESET_MS + 30);
    expect(breaker.stateOf(SERVER_A)).toBe('half-open');
    await expect(breaker.search(search(SERVER_A))).rejects.toMatchObject({ kind: 'http', status: 502 });
    expect(breaker.stateOf(SERVER_A)).toBe('open');
    await expect(breaker.search(search(SERVER_A))).rejects.toMatchObject({ kind: 'rejected' });
    expect(calls).toHaveLength(3);
  });

  it('keeps one breaker per server, so a dead server does not block another', async () => {
    const { gateway, calls, behaviour } = fakeGateway();
    behaviour.set(SERVER_A, 'timeout');
    const breaker = track(createBreakerGateway(gateway, { failureThreshold: 2, resetMs: 60_000 }));
    await failTimes(breaker, SERVER_A, 2);
    expect(breaker.stateOf(SERVER_A)).toBe('open');
    await expect(breaker.search(search(SERVER_B))).resolves.toMatchObject({ truncated: false });
    expect(breaker.stateOf(SERVER_B)).toBe('closed');
    expect(calls.map((c) => c.baseUrl)).toEqual([SERVER_A, SERVER_A, SERVER_B]);
  });

  it('tells base paths on one origin apart, and a trailing slash does not', async () => {
    const { gateway, behaviour } = fakeGateway();
    behaviour.set(`${SERVER_A}/`, 'timeout');
    behaviour.set(SERVER_A, 'timeout');
    const breaker = track(createBreakerGateway(gateway, { failureThreshold: 2, resetMs: 60_000 }));
    await failTimes(breaker, SERVER_A, 1);
    await failTimes(breaker, `${SERVER_A}/`, 1);
    expect(breaker.stateOf(SERVER_A)).toBe('open');
    await expect(breaker.search(search('https://ehr-a.example.org/other-fhir'))).resolves.toMatchObject({ truncated: false });
  });

  it('keeps at most maxServers breakers, dropping the least recently used', async () => {
    const { gateway, behaviour } = fakeGateway();
    behaviour.set(SERVER_A, 'timeout');
    const breaker = track(createBreakerGateway(gateway, { failureThreshold: 1, resetMs: 60_000, maxServers: 2 }));
    await failTimes(breaker, SERVER_A, 1);
    expect(breaker.stateOf(SERVER_A)).toBe('open');
    await breaker.search(search(SERVER_B));
    await breaker.search(search('https://ehr-c.example.org/fhir'));
    expect(breaker.stateOf(SERVER_A)).toBe('closed');
  });

  it('times every call with its resource type and outcome, and publishes the state per origin', async () => {
    const { gateway, behaviour } = fakeGateway();
    const { metrics, fhirCalls, states } = recordingMetrics();
    let clock = 1000;
    const breaker = track(createBreakerGateway(gateway, { failureThreshold: 2, resetMs: 60_000, metrics, now: () => (clock += 5) }));
    await breaker.search(search(SERVER_A));
    behaviour.set(SERVER_A, 'timeout');
    await failTimes(breaker, SERVER_A, 1);
    behaviour.set(SERVER_A, 'http-500');
    await failTimes(breaker, SERVER_A, 1);
    await failTimes(breaker, SERVER_A, 1);
    expect(fhirCalls).toEqual([
      { resourceType: 'Condition', outcome: 'ok', seconds: 0.005 },
      { resourceType: 'Condition', outcome: 'timeout', seconds: 0.005 },
      { resourceType: 'Condition', outcome: 'error', seconds: 0.005 },
      { resourceType: 'Condition', outcome: 'rejected', seconds: 0.005 },
    ]);
    expect(states.at(0)).toEqual({ origin: 'https://ehr-a.example.org', state: 'closed' });
    expect(states.at(-1)).toEqual({ origin: 'https://ehr-a.example.org', state: 'open' });
  });
});

describe('isServerFailure', () => {
  it('classifies by kind and status', () => {
    expect(isServerFailure(new FhirCallError('timeout'))).toBe(true);
    expect(isServerFailure(new FhirCallError('network'))).toBe(true);
    expect(isServerFailure(new FhirCallError('http', 500))).toBe(true);
    expect(isServerFailure(new FhirCallError('http', 429))).toBe(true);
    expect(isServerFailure(new FhirCallError('http', 404))).toBe(false);
    expect(isServerFailure(new FhirCallError('http', 403))).toBe(false);
    expect(isServerFailure(new FhirCallError('invalid'))).toBe(false);
    expect(isServerFailure(new Error('unexpected'))).toBe(true);
  });
});
