import type { Response } from 'express';

/** What the request log reports about one call; filled in by the routes as they learn it. */
export interface RequestFacts {
  requestId: string;
  /** discovery, service, feedback, rationale, healthz, readyz, metrics, or other. */
  route: string;
  serviceId: string | undefined;
  hook: string | undefined;
  hookInstance: string | undefined;
  /** Cards returned: ids, indicators and uuids only. */
  cards: ReadonlyArray<{ readonly cardId: string; readonly indicator: string; readonly uuid: string }> | undefined;
  /** Cards held back as repeats (clinical-policy.md §6). */
  suppressed: number | undefined;
}

const FACTS = 'requestFacts';

/** Starts the facts of a request (the request log does this first). */
export function startFacts(res: Response, requestId: string): RequestFacts {
  const facts: RequestFacts = { requestId, route: 'other', serviceId: undefined, hook: undefined, hookInstance: undefined, cards: undefined, suppressed: undefined };
  res.locals[FACTS] = facts;
  return facts;
}

/** The facts of this request; a fresh record when the request log did not run (routers tested alone). */
export function factsOf(res: Response): RequestFacts {
  const facts: unknown = res.locals[FACTS];
  return isFacts(facts) ? facts : startFacts(res, '');
}

function isFacts(value: unknown): value is RequestFacts {
  return typeof value === 'object' && value !== null && 'route' in value && 'requestId' in value;
}
