/** clinical-policy §3 "Site, from bodySite" (codes from terminology.md §5, or text). */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Site } from '../../../src/knowledge/classes.js';
import { loadKnowledge, type Knowledge } from '../../../src/knowledge/load-knowledge.js';
import { readSite } from '../../../src/rules/order.js';

const SCT = 'http://snomed.info/sct';
let knowledge: Knowledge;
beforeAll(() => {
  knowledge = loadKnowledge();
});

const coded = (code: string, display?: string) => ({ coding: [{ system: SCT, code, ...(display ? { display } : {}) }] });
const text = (value: string) => ({ text: value });
const siteOf = (bodySite: unknown[] | undefined): Site =>
  readSite({ resourceType: 'ServiceRequest', ...(bodySite ? { bodySite } : {}) }, knowledge).site;

describe('readSite', () => {
  it.each([
    ['122494005', 'cervical'],
    ['1217257000', 'cervical'],
    ['45048000', 'cervical'],
    ['774007', 'cervical'],
    ['421060004', 'unspecified'],
    ['737561001', 'unspecified'],
    ['2748008', 'unspecified'],
    ['77568009', 'unspecified'],
    ['122495006', 'remote'],
    ['1217256009', 'remote'],
    ['122496007', 'remote'],
    ['1217253001', 'remote'],
    ['54735007', 'remote'],
    ['64688005', 'remote'],
    ['1217254007', 'remote'],
    ['52612000', 'remote'],
  ] as const)('reads SNOMED %s as %s', (code, site) => {
    expect(siteOf([coded(code)])).toBe(site);
  });

  it.each([
    ['Neck', 'cervical'],
    ['posterior NECK', 'cervical'],
    ['Cervical spine', 'cervical'],
    ['Cervicothoracic junction', 'cervical'],
    ['cervico-thoracic', 'cervical'],
    ['C5-C6', 'cervical'],
    ['Levels C3 to C7', 'cervical'],
    ['Neck and shoulders', 'cervical'],
    ['Lower back, avoid the neck', 'cervical'],
    ['Back', 'unspecified'],
    ['spine', 'unspecified'],
    ['Lower back', 'remote'],
    ['Low back', 'remote'],
    ['Upper back', 'remote'],
    ['Left shoulder', 'remote'],
    ['Right forearm', 'remote'],
    ['Hips', 'remote'],
    ['Thoracic spine', 'remote'],
    ['Lumbosacral region', 'remote'],
    ['Thoraco-lumbar', 'remote'],
    ['Right calf', 'remote'],
    ['Abdomen', 'unspecified'],
    ['Necklace line', 'unspecified'],
  ] as const)('reads body-site text "%s" as %s', (value, site) => {
    expect(siteOf([text(value)])).toBe(site);
  });

  it('reads no bodySite as unspecified', () => {
    expect(siteOf(undefined)).toBe('unspecified');
    expect(siteOf([])).toBe('unspecified');
  });

  it('reads a bodySite with an unknown coding by its display', () => {
    expect(siteOf([{ coding: [{ system: 'urn:oid:1.2.3.4', code: 'X1', display: 'Left shoulder' }] }])).toBe('remote');
    expect(siteOf([{ coding: [{ system: 'urn:oid:1.2.3.4', code: 'X2', display: 'Nape of neck' }] }])).toBe('cervical');
  });

  it('prefers a recognised coding over the text', () => {
    expect(siteOf([{ coding: [{ system: SCT, code: '122496007' }], text: 'neck' }])).toBe('remote');
  });

  it('reads a bodySite it cannot place as unspecified', () => {
    expect(siteOf([{ coding: [{ system: 'urn:oid:1.2.3.4', code: 'X3' }] }])).toBe('unspecified');
  });

  it.each([
    ['lumbar code and neck code', [coded('122496007'), coded('45048000')], 'cervical'],
    ['shoulder text and lumbar code', [text('Left shoulder'), coded('122496007')], 'remote'],
    ['shoulder text and unrecognised text', [text('Left shoulder'), text('Abdomen')], 'unspecified'],
    ['back code and neck text', [coded('77568009'), text('neck')], 'cervical'],
    ['lumbar code and spine code', [coded('122496007'), coded('421060004')], 'unspecified'],
  ] as const)('lets the most cervical of several bodySites win: %s → %s', (_name, bodySite, site) => {
    expect(siteOf([...bodySite])).toBe(site);
  });
});
