/**
 * clinical-policy §5 on the hard cases, through the real card builder and the shipped knowledge:
 * long names, a code sent without a display, two conditions, a red flag with radiculopathy,
 * malignant cord compression, an all-capitals order name, an appointment in place of an order.
 */
import { describe, expect, it } from '@jest/globals';
import { buildCard, sortByIndicator, type CardContext } from '../../../src/cards/build-card.js';
import type { CdsCard } from '../../../src/cards/types.js';
import type { ConflictClass, KnowledgeClass, Site } from '../../../src/knowledge/classes.js';
import { loadKnowledge } from '../../../src/knowledge/load-knowledge.js';
import { decide } from '../../../src/rules/decide.js';
import type { OrderEntry } from '../../../src/rules/order.js';
import { derivePatientState } from '../../../src/rules/patient-state.js';
import type { ConditionEntry } from '../../../src/rules/record.js';
import { conditionEntry } from '../../helpers/record-entries.js';

const knowledge = loadKnowledge();
const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';
const context: CardContext = { patientId: 'pt-1', encounterId: 'enc-1', userId: 'Practitioner/dr-1' };
const orderSign = knowledge.hooks.find((h) => h.hook === 'order-sign');
if (!orderSign) throw new Error('no order-sign hook');
const hook = orderSign;

function condition(classes: KnowledgeClass[], label: string | undefined, extra: Partial<ConditionEntry> = {}): ConditionEntry {
  return { ...conditionEntry(classes), label, id: `c-${classes.join('-').toLowerCase()}`, ...extra };
}

function order(label: string | undefined, classes: ConflictClass[] = ['MASSAGE'], site: Site = 'cervical', resourceType = 'ServiceRequest'): OrderEntry {
  return {
    resourceType,
    id: 'o-1',
    label,
    codings: [],
    classes: new Set(classes),
    matchedBy: 'text',
    site,
    siteBasis: 'text',
    siteLabel: 'neck',
    authoredOn: undefined,
    resource: { resourceType, id: 'o-1' },
  };
}

function cardFor(conditions: ConditionEntry[], therapy: OrderEntry): CdsCard {
  const decision = decide(derivePatientState(conditions, []), therapy);
  if (!decision) throw new Error('no decision');
  let n = 0;
  return buildCard(decision, therapy, hook, context, { knowledge, publicBaseUrl: 'https://cds.example.org', newId: () => `id-${(n += 1)}` });
}

function expectWellFormedSummary(card: CdsCard): void {
  expect(card.summary.length).toBeLessThan(140);
  expect(card.summary).not.toMatch(/…|\.\.\./);
}

describe('buildCard summaries on the hard cases (clinical-policy §5)', () => {
  it('shortens a long condition display and a long order name to the knowledge short names, whole words', () => {
    const card = cardFor(
      [condition(['STENOSIS'], 'Multilevel degenerative cervical spinal stenosis C3-C4 through C6-C7 with foraminal narrowing, worse on the left')],
      order('Therapeutic soft tissue massage of the posterior neck and upper trapezius, twice weekly for six weeks, home programme to follow'),
    );
    expectWellFormedSummary(card);
    expect(card.summary).toBe('Massage with cervical stenosis can precipitate myelopathy; offer supervised PT instead');
  });

  it('names a code sent without a display from the knowledge', () => {
    const card = cardFor([condition(['STENOSIS'], undefined, { codings: [{ system: ICD, code: 'M4802', display: undefined }] })], order('Neck massage'));
    expectWellFormedSummary(card);
    expect(card.summary).toBe('Neck massage with spinal stenosis, cervical region can precipitate myelopathy; offer supervised PT instead');
    expect(card.detail).toContain('- Spinal stenosis, cervical region: active');
  });

  it('names both conditions of a red flag with cervical stenosis', () => {
    const card = cardFor([condition(['RED_FLAG'], 'Urinary retention'), condition(['STENOSIS'], 'Cervical spinal stenosis')], order('Neck massage'));
    expectWellFormedSummary(card);
    expect(card.summary).toBe('Stop neck massage: urinary retention with cervical spinal stenosis can mean myelopathy; urgent MRI and spine surgery opinion');
  });

  it('words a red flag with radiculopathy as possible myelopathy, never as a cord compression on the record', () => {
    const card = cardFor([condition(['RED_FLAG'], 'Gait disturbance'), condition(['RADICULOPATHY'], 'Radiculopathy, cervical region')], order('Neck massage'));
    expectWellFormedSummary(card);
    expect(card.summary).toBe('Stop neck massage: gait disturbance with radiculopathy, cervical region can mean myelopathy; urgent MRI and spine surgery opinion');
    const text = [card.summary, card.detail, ...(card.suggestions ?? []).flatMap((s) => [s.label, ...s.actions.map((a) => a.description)])].join('\n');
    expect(text).not.toMatch(/cord compression/i);
    expect(card.detail).toMatch(/possible myelopathy/);
  });

  it('puts corticosteroids first and images the whole spine for malignant cord compression', () => {
    const card = cardFor(
      [condition(['CORD'], 'Metastatic spinal cord compression at T4 from breast carcinoma, under oncology review'), condition(['MALIGNANT'], 'Breast carcinoma')],
      order('Neck massage'),
    );
    expectWellFormedSummary(card);
    expect(card.summary).toBe('Stop neck massage: cord compression and cancer: dexamethasone first, MRI of the whole spine');
    const detail = card.detail;
    expect(detail.indexOf('dexamethasone')).toBeLessThan(detail.indexOf('MRI of the whole spine'));
    expect(detail).toMatch(/NSAIDs \(with gastric protection\)/);
    const [recommended] = card.suggestions ?? [];
    const cpt = (recommended?.actions ?? []).flatMap((a) => (a.type === 'create' ? JSON.stringify(a.resource).match(/"code":"721\d\d"/g) ?? [] : []));
    expect(cpt).toEqual(['"code":"72141"', '"code":"72146"', '"code":"72148"']);
  });

  it('takes an all-capitals order name into the sentence in lower case, keeping its acronyms', () => {
    const card = cardFor([condition(['STENOSIS'], 'Cervical spinal stenosis')], order('NECK MASSAGE'));
    expect(card.summary).toBe('Neck massage with cervical spinal stenosis can precipitate myelopathy; offer supervised PT instead');
    expect(card.suggestions?.[0]?.label).toBe('Remove the neck massage order');
    const hvla = cardFor([condition(['STENOSIS'], 'Cervical spinal stenosis')], order('HVLA MANIPULATION', ['MANIPULATION']));
    expect(hvla.suggestions?.[0]?.label).toBe('Remove the HVLA manipulation order');
    expect(hvla.summary.startsWith('HVLA manipulation with cervical spinal stenosis')).toBe(true);
  });
});

describe('buildCard with record names that look like replacement patterns', () => {
  it('names the order and the condition as the record wrote them', () => {
    const card = cardFor([condition(['STENOSIS'], 'Stenosis $& C5')], order('Neck massage $$ $1'));
    expect(card.summary).toBe('Neck massage $$ $1 with stenosis $& C5 can precipitate myelopathy; offer supervised PT instead');
    expect(card.suggestions?.[0]?.label).toBe('Remove the neck massage $$ $1 order');
  });
});

describe('buildCard summaries at their longest', () => {
  it('fits a suspected red flag with a history of radiculopathy, a malignant context and a manipulation order, names whole', () => {
    const card = cardFor(
      [
        condition(['RED_FLAG'], 'Progressive weakness of both hands and unsteady gait noted by physiotherapy', { status: 'suspected' }),
        condition(['RADICULOPATHY'], 'Cervical disc disorder at C5-C6 level with radiculopathy, right-sided', { status: 'historical' }),
        condition(['MALIGNANT'], 'Multiple myeloma'),
      ],
      order('High-velocity low-amplitude spinal manipulation of the cervical and upper thoracic spine', ['MANIPULATION']),
    );
    expectWellFormedSummary(card);
    expect(card.summary).toBe('Stop spinal manipulation: new neurological signs with cervical radiculopathy and cancer: dexamethasone first, MRI of the whole spine');
  });
});

describe('buildCard for an appointment (appointment-book cards are order-sign cards)', () => {
  it('calls it an appointment and deletes it by its own type and id', () => {
    const card = cardFor([condition(['STENOSIS'], 'Cervical spinal stenosis')], order('Neck massage', ['MASSAGE'], 'cervical', 'Appointment'));
    const [remove] = card.suggestions ?? [];
    expect(remove?.label).toBe('Remove the neck massage appointment');
    expect(remove?.actions).toEqual([{ type: 'delete', description: 'Remove the neck massage appointment', resourceId: 'Appointment/o-1' }]);
    expect(card.detail).toContain('Neck massage (appointment)');
  });
});

describe('buildCard details (clinical-policy §5: at most 120 words, the record giving way first)', () => {
  const words = (text: string): number => text.split(/\s+/).filter((token) => /[\p{L}\p{N}]/u.test(token)).length;
  const recordLines = (detail: string): string[] => {
    const lines = detail.split('\n');
    const start = lines.indexOf('**Record:**') + 1;
    const end = lines.indexOf('', start);
    return lines.slice(start, end === -1 ? undefined : end);
  };
  const stenosis = (n: number, label: string) =>
    condition(['STENOSIS'], label, { id: `c-${n}`, codings: [{ system: ICD, code: 'M48.02', display: 'Spinal stenosis, cervical region' }] });

  it('lists the record with its codes when the detail fits', () => {
    const card = cardFor([stenosis(1, 'Cervical spinal stenosis')], order('Neck massage'));
    expect(recordLines(card.detail)).toEqual(['- Neck massage (order): neck', '- Cervical spinal stenosis: active, since 2024-03-10 (ICD-10-CM M48.02)']);
  });

  it('drops the codes, then entries from the end with their count, keeping what to do, the red flags, the order and the named condition', () => {
    const long = 'Multilevel degenerative cervical spinal stenosis with foraminal narrowing at level';
    const conditions = Array.from({ length: 8 }, (_, i) => stenosis(i + 1, `${long} ${i + 1}`));
    const card = cardFor(conditions, order('Neck massage'));
    expect(words(card.detail)).toBeLessThanOrEqual(120);
    expect(card.detail.startsWith('**Do now:**\n- Remove the order')).toBe(true);
    expect(card.detail).toContain('**Check for:**');
    expect(card.detail).not.toContain('ICD-10-CM');
    const lines = recordLines(card.detail);
    const more = /^- (\d+) more on the record$/.exec(lines.at(-1) ?? '');
    expect(more).not.toBeNull();
    const listed = lines.slice(0, -1);
    expect(listed.length + Number(more?.[1])).toBe(1 + conditions.length);
    expect(listed[0]).toBe('- Neck massage (order): neck');
    expect(listed[1]).toBe(`- ${long} 1: active, since 2024-03-10`);
  });
});

describe('buildCard and what callers do with a card', () => {
  /** Changes every member and item it can; what is shared between cards must refuse (frozen). */
  function vandalise(value: unknown): void {
    if (typeof value !== 'object' || value === null) return;
    for (const child of Object.values(value)) vandalise(child);
    try {
      if (Array.isArray(value)) value.push('vandal');
      else for (const key of Object.keys(value)) (value as Record<string, unknown>)[key] = 'vandal';
    } catch {
      // Frozen: shared with other cards, and so unchangeable.
    }
  }

  it('builds each card afresh: changing one card changes no later card', () => {
    const build = () => cardFor([condition(['STENOSIS'], 'Cervical spinal stenosis')], order('Neck massage'));
    const expected = JSON.stringify(build());
    vandalise(build());
    expect(JSON.stringify(build())).toBe(expected);
  });
});

describe('sortByIndicator (clinical-policy §5 card order)', () => {
  it('puts critical before warning before info and keeps the order of the orders within one indicator', () => {
    const items = (['info', 'warning', 'critical', 'warning', 'critical'] as const).map((indicator, index) => ({ n: index + 1, card: cardStub(indicator) }));
    const sorted = sortByIndicator(items);
    expect(sorted.map((i) => [i.card.indicator, i.n])).toEqual([
      ['critical', 3],
      ['critical', 5],
      ['warning', 2],
      ['warning', 4],
      ['info', 1],
    ]);
  });
});

function cardStub(indicator: CdsCard['indicator']): CdsCard {
  return { uuid: 'u', summary: 's', detail: 'd', indicator, source: { label: 'l', topic: { system: 's', code: 'c' } }, links: [] };
}
