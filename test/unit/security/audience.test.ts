import { describe, expect, it } from '@jest/globals';
import { audienceFor } from '../../../src/http/authenticate.js';

describe('audienceFor', () => {
  it.each([
    ['/cds-services', 'https://cds.example.org/cds-services'],
    ['/cds-services/', 'https://cds.example.org/cds-services'],
    ['/cds-services/spine-safety-order-sign?x=1&y=2', 'https://cds.example.org/cds-services/spine-safety-order-sign'],
    ['/cds-services/spine-safety-order-sign/feedback/', 'https://cds.example.org/cds-services/spine-safety-order-sign/feedback'],
  ])('maps %s to %s', (originalUrl, audience) => {
    expect(audienceFor('https://cds.example.org', originalUrl)).toBe(audience);
  });

  it('keeps a path prefix of the public base URL', () => {
    expect(audienceFor('https://gw.example.org/cds', '/cds-services')).toBe('https://gw.example.org/cds/cds-services');
  });
});
