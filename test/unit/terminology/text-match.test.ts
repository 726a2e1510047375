import { describe, expect, it } from '@jest/globals';
import { loadKnowledge } from '../../../src/knowledge/load-knowledge.js';
import { splitClauses, tokenize } from '../../../src/terminology/text-match.js';

const { text } = loadKnowledge();
const classes = (value: string) => [...text.match(value).classes].sort();

describe('text matching of record entries (clinical policy §1)', () => {
  it.each([
    ['Spinal cord compression', ['CORD']],
    ['Cervical myelopathy', ['CORD']],
    ['Cauda equina syndrome', ['CORD']],
    ['Cervical spinal stenosis', ['STENOSIS']],
    ['Canal stenosis C5-C6', ['STENOSIS']],
    ['Stenosis of the neck', ['STENOSIS']],
    ['Cervical radiculopathy', ['RADICULOPATHY']],
    ['Urinary retention', ['RED_FLAG']],
    ['Saddle anaesthesia', ['RED_FLAG']],
    ['saddle anesthesia', ['RED_FLAG']],
    ['Unsteady gait', ['RED_FLAG']],
    ['Metastatic breast cancer', ['MALIGNANT']],
  ])('reads "%s" as %j', (value, expected) => {
    expect(classes(value)).toEqual(expected);
  });

  it('matches whole words only, with a plural "s" allowed', () => {
    expect(classes('Myelopathys')).toEqual(['CORD']);
    expect(classes('Myelopathic changes')).toEqual([]);
    expect(classes('Cord compressions')).toEqual(['CORD']);
  });

  it('needs the cervical qualifier in the same clause for stenosis', () => {
    expect(classes('Lumbar stenosis')).toEqual([]);
    expect(classes('Spinal stenosis, cervical region')).toEqual(['STENOSIS']);
    expect(classes('Spinal stenosis, lumbar region')).toEqual([]);
    expect(classes('Stenosis, C5-C6 level')).toEqual(['STENOSIS']);
    expect(classes('Spinal stenosis, at multiple sites of the cervical spine')).toEqual(['STENOSIS']);
    expect(classes('Spinal stenosis, neck pain')).toEqual([]);
    expect(classes('Spinal stenosis. Cervical region')).toEqual(['STENOSIS']);
    expect(classes('Cervical stenosis (uterine)')).toEqual([]);
    expect(classes('Stenosis of the cervix uteri, cervical')).toEqual([]);
    expect(classes('Spinal stenosis; neck pain')).toEqual([]);
    expect(classes('Stenosis at C4')).toEqual(['STENOSIS']);
    expect(classes('Stenosis at C8')).toEqual([]);
  });

  it.each([
    'No cord compression',
    'Not myelopathy',
    'Without myelopathy',
    'Negative for cord compression',
    'Denies urinary retention',
    'Ruled out: myelopathy',
    'Excluded cord compression',
    'Cord compression ruled out',
    'Myelopathy excluded',
    'Cord compression negative',
    'Family history of cord compression',
    'Family history of cervical stenosis, C5-C6 level',
  ])('does not match a negated phrase: "%s"', (value) => {
    expect(classes(value)).toEqual([]);
  });

  it('keeps negation inside its clause', () => {
    expect(classes('No radiculopathy; cord compression')).toEqual(['CORD']);
    expect(classes('Family history of myelopathy; cervical stenosis')).toEqual(['STENOSIS']);
    expect(classes('Cervical radiculopathy without cord compression')).toEqual(['RADICULOPATHY']);
  });

  it.each(['Rule out cord compression', 'r/o myelopathy', 'Possible myelopathy', 'Suspected cord compression', 'Query cauda equina', '? cord compression', 'Cord compression?'])(
    'marks "%s" as suspected',
    (value) => {
      const match = text.match(value);
      expect([...match.classes]).toEqual(['CORD']);
      expect(match.suspected).toBe(true);
    },
  );

  it('does not mark a plain mention as suspected', () => {
    expect(text.match('Cord compression').suspected).toBe(false);
  });

  it('reads a negated negation ("not ruled out") as suspected, not absent', () => {
    const match = text.match('Cord compression not ruled out');
    expect([...match.classes]).toEqual(['CORD']);
    expect(match.suspected).toBe(true);
  });

  it('reads cues as far from the phrase as a long clause runs, on both sides', () => {
    const filler = 'mild '.repeat(3000);
    expect(classes(`No ${filler}cord compression`)).toEqual([]);
    expect(classes(`Cord compression ${filler}ruled out`)).toEqual([]);
    const notRuledOut = text.match(`Cord compression ${filler}not ruled out`);
    expect([...notRuledOut.classes]).toEqual(['CORD']);
    expect(notRuledOut.suspected).toBe(true);
    const possible = text.match(`${filler}possible cord compression`);
    expect([...possible.classes]).toEqual(['CORD']);
    expect(possible.suspected).toBe(true);
    expect(text.match(`${filler}cord compression`).suspected).toBe(false);
  });

  it('needs every word of a cue: a cue\'s first word alone negates nothing', () => {
    expect(classes('Family history myelopathy')).toEqual(['CORD']);
    expect(classes('Family history of myelopathy')).toEqual([]);
  });

  it('classifies orders by their text', () => {
    expect(classes('Soft tissue massage')).toEqual(['MASSAGE']);
    expect(classes('Myofascial release')).toEqual(['MANUAL']);
    expect(classes('Joint mobilisation')).toEqual(['MANUAL']);
    expect(classes('Cervical manipulation')).toEqual(['MANIPULATION']);
    expect(classes('Spinal manipulation')).toEqual(['MANIPULATION']);
    expect(classes('Chiropractic adjustment')).toEqual(['MANIPULATION']);
    expect(classes('HVLA thrust')).toEqual(['MANIPULATION']);
    expect(classes('Manipulation of the shoulder under anaesthesia')).toEqual(['MANIPULATION']);
    expect(classes('Therapeutic exercise')).toEqual([]);
  });

  it('recognises decompression surgery in text only with a cervical qualifier, except ACDF', () => {
    expect(classes('ACDF C5-C6')).toEqual(['DECOMPRESSED']);
    expect(classes('Anterior cervical discectomy and fusion')).toEqual(['DECOMPRESSED']);
    expect(classes('Cervical laminectomy')).toEqual(['DECOMPRESSED']);
    expect(classes('Lumbar laminectomy')).toEqual([]);
  });
});

describe('body-site text (clinical policy §3)', () => {
  it.each([
    ['Neck', 'cervical'],
    ['Cervical spine', 'cervical'],
    ['Cervico-thoracic junction', 'cervical'],
    ['C6', 'cervical'],
    ['Back of the neck and upper back', 'cervical'],
    ['Back', 'unspecified'],
    ['spine', 'unspecified'],
    ['Lumbar spine', 'remote'],
    ['Lower back', 'remote'],
    ['Upper back', 'remote'],
    ['Left shoulder', 'remote'],
    ['Both knees', 'remote'],
    ['Lumbo-sacral region', 'remote'],
  ])('reads "%s" as %s', (value, expected) => {
    expect(text.bodySite(value)).toBe(expected);
  });

  it('leaves unknown text unclassified (the order then counts as unspecified)', () => {
    expect(text.bodySite('Whole body')).toBeUndefined();
    expect(text.bodySite('')).toBeUndefined();
  });

  it('does not apply negation to body-site words', () => {
    expect(text.bodySite('not the neck')).toBe('cervical');
  });
});

describe('tokens and clauses', () => {
  it('splits clauses on periods, semicolons and commas but not decimal points', () => {
    expect(splitClauses('a, b; c. M48.02')).toEqual(['a', ' b', ' c', ' M48.02']);
  });
  it('keeps "?" as a token', () => {
    expect(tokenize('Cord compression?')).toEqual(['cord', 'compression', '?']);
  });
});

describe('plain-text forms of coded members (safer readings)', () => {
  it.each([
    ['Urinary incontinence', 'RED_FLAG'],
    ['Faecal incontinence', 'RED_FLAG'],
    ['Neurogenic bladder', 'RED_FLAG'],
    ['Abnormal gait', 'RED_FLAG'],
    ['Osteopathic manipulative treatment', 'MANIPULATION'],
    ['Cervical adjustment', 'MANIPULATION'],
  ])('reads "%s" as %s', (value, cls) => {
    expect(classes(value)).toEqual([cls]);
  });

  it('needs a spinal word for "manipulative" and "adjustment"', () => {
    expect(classes('Dose adjustment')).toEqual([]);
    expect(classes('Manipulative behaviour')).toEqual([]);
  });
});
