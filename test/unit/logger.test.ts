import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { createLogger, errorKind, lazyChild } from '../../src/logger.js';

/** A logger writing into an array of parsed lines. */
function capturingLogger(level = 'info'): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger(level, stream), lines };
}

describe('lazyChild: a child logger made on first use', () => {
  it('writes its bindings on every line, with the redaction of its parent', async () => {
    const { logger, lines } = capturingLogger();
    const log = lazyChild(logger, { requestId: 'r-1', serviceId: 'spine-safety-order-sign' });
    log.info({ patientId: 'SECRET-PATIENT-ID', ignoredResources: 2 }, 'resources of another patient ignored');
    log.warn({ iss: 'https://ehr.example.org' }, 'not contacted');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ requestId: 'r-1', serviceId: 'spine-safety-order-sign', ignoredResources: 2, patientId: '[redacted]' });
    expect(lines[1]).toMatchObject({ requestId: 'r-1', level: 40, iss: 'https://ehr.example.org' });
    expect(JSON.stringify(lines)).not.toContain('SECRET-PATIENT-ID');
  });

  it('changes the level of the child only, never of the parent', async () => {
    const { logger, lines } = capturingLogger();
    const log = lazyChild(logger, { requestId: 'r-2' });
    log.level = 'error';
    log.info('dropped by the child');
    logger.info('kept by the parent');
    await new Promise((resolve) => setImmediate(resolve));
    expect(logger.level).toBe('info');
    expect(lines.map((line) => line['msg'])).toEqual(['kept by the parent']);
  });
});

describe('errorKind: what an unexpected error may tell the log', () => {
  it('keeps the class, the code and the frames, never the message', () => {
    const error = Object.assign(new Error('duplicate key for patient SECRET-PATIENT-NAME'), { code: 'SQLITE_CONSTRAINT' });
    const kind = errorKind(error);
    expect(kind).toMatchObject({ name: 'Error', code: 'SQLITE_CONSTRAINT' });
    expect(kind.frames).toMatch(/at /);
    expect(JSON.stringify(kind)).not.toContain('SECRET-PATIENT-NAME');
  });

  it('names the type of a thrown non-error', () => {
    expect(errorKind('SECRET-PATIENT-NAME')).toEqual({ name: 'string' });
  });
});
