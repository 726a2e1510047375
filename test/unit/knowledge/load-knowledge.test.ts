import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { KnowledgeError, loadKnowledge } from '../../../src/knowledge/load-knowledge.js';
import { projectRoot } from '../../../src/paths.js';

const root = projectRoot();
let copies: string[] = [];

/** A copy of the knowledge folders that a test may break. */
function copyKnowledge(): string {
  const dir = mkdtempSync(join(tmpdir(), 'knowledge-'));
  for (const folder of ['knowledge', 'cards', 'hooks']) cpSync(join(root, folder), join(dir, folder), { recursive: true });
  copies.push(dir);
  return dir;
}

function edit(dir: string, file: string, change: (json: Record<string, unknown>) => void): void {
  const path = join(dir, file);
  if (!copies.includes(dir) || path.startsWith(`${root}/`)) throw new Error(`refusing to edit ${path}: not a temporary copy`);
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  change(json);
  writeFileSync(path, JSON.stringify(json));
}

afterEach(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  copies = [];
});

describe('knowledge checked at start-up', () => {
  it('loads the shipped knowledge', () => {
    const knowledge = loadKnowledge(root);
    expect(knowledge.hooks.map((h) => h.hook).sort()).toEqual(['appointment-book', 'order-select', 'order-sign', 'patient-view']);
    expect(knowledge.cards.size).toBe(5);
    expect(knowledge.version).toMatch(/^\d{4}\.\d{2}\.\d+$/);
  });

  it('names the file and the field of a broken value set', () => {
    const dir = copyKnowledge();
    edit(dir, 'knowledge/valuesets/massage.json', (vs) => {
      vs['compose'] = { include: [{ system: 'not a url', concept: [{ code: '97124', display: 'Massage' }] }] };
    });
    expect(() => loadKnowledge(dir)).toThrow(KnowledgeError);
    expect(() => loadKnowledge(dir)).toThrow(/knowledge\/valuesets\/massage\.json: compose\.include\.0\.system/);
  });

  it('names the file and the field of a broken code-systems file, and refuses an ambiguous alias', () => {
    const dir = copyKnowledge();
    edit(dir, 'knowledge/code-systems.json', (file) => {
      file['systems'] = [{ uri: 'not a url', aliases: ['urn:oid:1.2'] }];
    });
    expect(() => loadKnowledge(dir)).toThrow(/knowledge\/code-systems\.json: systems\.0\.uri/);
    const again = copyKnowledge();
    edit(again, 'knowledge/code-systems.json', (file) => {
      file['systems'] = [
        { uri: 'http://snomed.info/sct', aliases: ['urn:oid:1.2'] },
        { uri: 'http://loinc.org', aliases: ['urn:oid:1.2'] },
      ];
    });
    expect(() => loadKnowledge(again)).toThrow(/code-systems\.json: systems: alias urn:oid:1\.2 is ambiguous/);
  });

  it('rejects a text phrase whose unless list does not exist', () => {
    const dir = copyKnowledge();
    edit(dir, 'knowledge/text-rules.json', (rules) => {
      rules['classes'] = { STENOSIS: [{ phrase: 'stenosis', unless: 'no-such-list' }] };
    });
    expect(() => loadKnowledge(dir)).toThrow(/text-rules\.json: classes\.STENOSIS\.0\.unless: unknown qualifier list/);
  });

  it('names the file of invalid JSON', () => {
    const dir = copyKnowledge();
    edit(dir, 'hooks/order-sign.json', () => undefined);
    writeFileSync(join(dir, 'hooks', 'order-sign.json'), '{ not json');
    expect(() => loadKnowledge(dir)).toThrow(/hooks\/order-sign\.json: not valid JSON/);
  });

  it('rejects a card template whose summary does not name the order and condition', () => {
    const dir = copyKnowledge();
    edit(dir, 'cards/templates/cervical-stenosis-massage.json', (card) => {
      card['summary'] = 'Careful';
    });
    expect(() => loadKnowledge(dir)).toThrow(/cervical-stenosis-massage\.json: summary: summary must name/);
  });

  it('rejects a card that refers to an unknown override reason', () => {
    const dir = copyKnowledge();
    edit(dir, 'cards/templates/cervical-stenosis-massage.json', (card) => {
      card['overrideReasons'] = ['made-up-reason'];
    });
    expect(() => loadKnowledge(dir)).toThrow(/overrideReasons: unknown reason made-up-reason/);
  });

  it('rejects prefetch templates with tokens a CDS Hooks 2.0 client cannot fill', () => {
    const dir = copyKnowledge();
    edit(dir, 'hooks/order-sign.json', (hook) => {
      hook['prefetch'] = { conditions: 'Condition?patient={{context.draftOrders.id}}', procedures: 'Procedure?patient={{context.patientId}}' };
    });
    expect(() => loadKnowledge(dir)).toThrow(/hooks\/order-sign\.json: prefetch\.conditions/);
  });

  it('requires a prefetch template for every key a hook reads', () => {
    const dir = copyKnowledge();
    edit(dir, 'hooks/patient-view.json', (hook) => {
      hook['prefetch'] = { conditions: 'Condition?patient={{context.patientId}}', procedures: 'Procedure?patient={{context.patientId}}' };
    });
    expect(() => loadKnowledge(dir)).toThrow(/prefetch\.serviceRequests: template required/);
  });

  it('stops when a policy card is missing', () => {
    const dir = copyKnowledge();
    rmSync(join(dir, 'cards', 'templates', 'post-decompression-clearance.json'));
    expect(() => loadKnowledge(dir)).toThrow(/missing card template post-decompression-clearance/);
  });
});
