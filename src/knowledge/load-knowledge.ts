import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { z } from 'zod';
import { projectRoot } from '../paths.js';
import { CodeIndex, REGION_UNKNOWN_EXTENSION } from '../terminology/code-index.js';
import { compileTextRules, type CompiledTextRules } from '../terminology/text-match.js';
import {
  CardCatalogueFile,
  CardTemplateFile,
  CodeSystemsFile,
  HookDefinitionFile,
  KNOWLEDGE_CLASS,
  TextRulesFile,
  ValueSetFile,
} from './schemas.js';

/** Everything the service knows, loaded and checked once at start-up, then frozen. */
export interface Knowledge {
  /** Version of the knowledge as a whole (recorded with every issued card). */
  readonly version: string;
  readonly codes: CodeIndex;
  readonly text: CompiledTextRules;
  readonly hooks: readonly HookDefinitionFile[];
  readonly cards: ReadonlyMap<string, CardTemplateFile>;
  readonly catalogue: CardCatalogueFile;
  /** Value sets as loaded (the FHIR resource itself, served under /fhir) with their provenance for the rationale pages. */
  readonly valueSets: ReadonlyArray<LoadedValueSet>;
}

export interface LoadedValueSet {
  readonly id: string;
  readonly title: string;
  readonly version: string;
  readonly sources: string[];
  readonly resource: ValueSetFile;
}

export class KnowledgeError extends Error {
  override readonly name = 'KnowledgeError';
}

const POLICY_CARD_IDS = [
  'cord-compression-manual-therapy',
  'cervical-stenosis-manipulation',
  'cervical-stenosis-massage',
  'cervical-stenosis-remote-site',
  'post-decompression-clearance',
] as const;

function readJson(file: string, root: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new KnowledgeError(`${relative(root, file)}: cannot be read (${error instanceof Error ? error.message : 'unknown error'})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new KnowledgeError(`${relative(root, file)}: not valid JSON (${error instanceof Error ? error.message : 'parse error'})`);
  }
}

function parseFile<S extends z.ZodType>(schema: S, file: string, root: string): z.output<S> {
  const result = schema.safeParse(readJson(file, root));
  if (!result.success) {
    const first = result.error.issues[0];
    const field = first && first.path.length > 0 ? first.path.join('.') : '(root)';
    throw new KnowledgeError(`${relative(root, file)}: ${field}: ${first?.message ?? 'invalid'}`);
  }
  return result.data;
}

function jsonFiles(dir: string, root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new KnowledgeError(`${relative(root, dir)}: folder is missing`);
  }
  return names.filter((name) => name.endsWith('.json')).sort().map((name) => join(dir, name));
}

/** Alias → URI; an alias that is itself a URI, or names two systems, is a knowledge error. */
function readSystemAliases(root: string): Map<string, string> {
  const file = join(root, 'knowledge', 'code-systems.json');
  const systems = parseFile(CodeSystemsFile, file, root).systems;
  const uris = new Set(systems.map((system) => system.uri));
  const aliases = new Map<string, string>();
  for (const system of systems) {
    for (const alias of system.aliases) {
      if (uris.has(alias) || aliases.has(alias)) throw new KnowledgeError(`${relative(root, file)}: systems: alias ${alias} is ambiguous`);
      aliases.set(alias, system.uri);
    }
  }
  return aliases;
}

/**
 * Loads value sets, text rules, hook definitions and card templates. A broken file stops the
 * service with a message naming the file and the field.
 */
export function loadKnowledge(root: string = projectRoot()): Knowledge {
  const codes = new CodeIndex(readSystemAliases(root));
  const valueSets: LoadedValueSet[] = [];
  for (const file of jsonFiles(join(root, 'knowledge', 'valuesets'), root)) {
    const vs = parseFile(ValueSetFile, file, root);
    const clsExt = vs.extension.find((ext) => ext.url === 'urn:spine-safety-cds:extension:policy-class');
    const cls = KNOWLEDGE_CLASS.safeParse(clsExt?.valueCode);
    if (!cls.success) throw new KnowledgeError(`${relative(root, file)}: extension.policy-class: missing or unknown class`);
    const sources = vs.extension.filter((ext) => ext.url === 'urn:spine-safety-cds:extension:source').map((ext) => ext.valueString ?? '');
    if (sources.length === 0 || sources.some((s) => s === '')) {
      throw new KnowledgeError(`${relative(root, file)}: extension.source: every value set names its source`);
    }
    for (const include of vs.compose.include) {
      for (const concept of include.concept ?? []) {
        const regionUnknown = (concept.extension ?? []).some((ext) => ext.url === REGION_UNKNOWN_EXTENSION && ext.valueBoolean === true);
        codes.addConcept(include.system, concept.code, cls.data, regionUnknown);
      }
      for (const filter of include.filter ?? []) codes.addFilter(include.system, filter.value, cls.data);
    }
    valueSets.push({ id: vs.id, title: vs.title, version: vs.version, sources, resource: vs });
  }
  if (valueSets.length === 0) throw new KnowledgeError('knowledge/valuesets: no value sets found');

  const textRules = parseFile(TextRulesFile, join(root, 'knowledge', 'text-rules.json'), root);
  const catalogue = parseFile(CardCatalogueFile, join(root, 'cards', 'catalogue.json'), root);

  const cards = new Map<string, CardTemplateFile>();
  for (const file of jsonFiles(join(root, 'cards', 'templates'), root)) {
    const card = parseFile(CardTemplateFile, file, root);
    const where = relative(root, file);
    if (cards.has(card.id)) throw new KnowledgeError(`${where}: id: duplicate card id ${card.id}`);
    for (const code of card.overrideReasons) {
      if (!(code in catalogue.overrideReasons)) throw new KnowledgeError(`${where}: overrideReasons: unknown reason ${code}`);
    }
    for (const id of card.valueSets) {
      if (!valueSets.some((vs) => vs.id === id)) throw new KnowledgeError(`${where}: valueSets: unknown value set ${id}`);
    }
    for (const ref of card.rationale.references) {
      if (!(ref in catalogue.references)) throw new KnowledgeError(`${where}: rationale.references: unknown reference ${ref}`);
    }
    card.suggestions.forEach((suggestion, index) => {
      for (const action of suggestion.actions) {
        if (action.type === 'create-order' && !(action.order in catalogue.orders)) {
          throw new KnowledgeError(`${where}: suggestions.${index}.actions: unknown order template ${action.order}`);
        }
      }
    });
    if (card.suggestions.length > 0 && !card.selectionBehavior) {
      throw new KnowledgeError(`${where}: selectionBehavior: required when the card has suggestions`);
    }
    cards.set(card.id, card);
  }
  for (const id of POLICY_CARD_IDS) {
    if (!cards.has(id)) throw new KnowledgeError(`cards/templates: missing card template ${id}`);
  }

  const hooks = jsonFiles(join(root, 'hooks'), root).map((file) => {
    const hook = parseFile(HookDefinitionFile, file, root);
    const needed = hook.evaluates === 'patient-orders' ? ['conditions', 'procedures', 'serviceRequests'] : ['conditions', 'procedures'];
    for (const key of needed) {
      if (!(key in hook.prefetch)) throw new KnowledgeError(`${relative(root, file)}: prefetch.${key}: template required`);
    }
    return hook;
  });
  const ids = new Set(hooks.map((hook) => hook.id));
  if (hooks.length === 0 || ids.size !== hooks.length) throw new KnowledgeError('hooks: definitions missing or service ids repeated');

  const version = [textRules.version, catalogue.version, ...valueSets.map((vs) => vs.version)].sort().at(-1) ?? textRules.version;
  return Object.freeze({
    version,
    codes,
    text: compileTextRules(textRules),
    hooks: Object.freeze(hooks),
    cards,
    catalogue,
    valueSets: Object.freeze(valueSets),
  });
}
