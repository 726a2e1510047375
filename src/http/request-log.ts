import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import type { Metrics } from '../ops/types.js';
import { startFacts } from './request-facts.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * One structured line per request: request id, route, service id, hook, hookInstance, status,
 * latency, card ids and indicators, caller `iss`. Never bodies, headers, tokens or patient ids.
 */
export function createRequestLog(logger: Logger, metrics: Metrics | undefined): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const incoming = req.get('x-request-id');
    const requestId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals['requestId'] = requestId;
    const facts = startFacts(res, requestId);
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const locals = res.locals;
      const serviceId = facts.serviceId;
      if (serviceId) metrics?.observeRequest({ service: serviceId, status: res.statusCode }, seconds);
      const caller = locals['caller'];
      logger.info(
        {
          requestId,
          method: req.method,
          route: facts.route,
          serviceId,
          hook: facts.hook,
          hookInstance: facts.hookInstance,
          status: res.statusCode,
          errorCode: locals['errorCode'],
          latencyMs: Math.round(seconds * 1e5) / 100,
          cards: facts.cards,
          suppressed: facts.suppressed,
          iss: typeof caller === 'object' && caller !== null && 'iss' in caller ? caller.iss : undefined,
        },
        'request',
      );
    });
    next();
  };
}
