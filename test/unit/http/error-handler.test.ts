import { describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { createErrorHandler } from '../../../src/http/error-handler.js';
import { createLogger } from '../../../src/logger.js';

/** An app whose only route fails with the given error, answered by the service's error handler. */
function failingWith(error: unknown): express.Express {
  const app = express();
  app.get('/fail', () => {
    throw error;
  });
  app.use(createErrorHandler(createLogger('silent')));
  return app;
}

function codeOf(body: unknown): unknown {
  return (body as { issue?: Array<{ details?: { coding?: Array<{ code?: string }> } }> }).issue?.[0]?.details?.coding?.[0]?.code;
}

describe('which errors the error handler reads as the fault of the client', () => {
  it('answers 400 for a 400 the framework marks as safe to expose, without its message', async () => {
    const response = await request(failingWith(Object.assign(new Error('incorrect header check SECRET'), { status: 400, statusCode: 400, expose: true }))).get('/fail');
    expect(response.status).toBe(400);
    expect(codeOf(response.body)).toBe('INVALID_REQUEST');
    expect(response.text).not.toContain('SECRET');
  });

  it('answers 400 for the URIError the router throws for a path that does not decode', async () => {
    const response = await request(failingWith(Object.assign(new URIError("Failed to decode param 'SECRET%E0'"), { status: 400 }))).get('/fail');
    expect(response.status).toBe(400);
    expect(response.text).not.toContain('SECRET');
  });

  it('answers the generic 500 for any other error that carries status 400', async () => {
    const response = await request(failingWith(Object.assign(new Error('the EHR said 400 about SECRET'), { status: 400 }))).get('/fail');
    expect(response.status).toBe(500);
    expect(codeOf(response.body)).toBe('INTERNAL');
    expect(response.text).not.toContain('SECRET');
  });
});
