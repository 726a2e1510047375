import { describe, expect, it } from '@jest/globals';
import { errorKind } from '../../src/logger.js';

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
