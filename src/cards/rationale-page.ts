import type { Knowledge } from '../knowledge/load-knowledge.js';
import { escapeHtml } from './text.js';

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}' +
  'h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:1.6rem}.ind{display:inline-block;padding:.1rem .5rem;border-radius:.3rem;font-size:.85rem}' +
  '.critical{background:#fdd}.warning{background:#ffe9c2}.info{background:#dde9ff}footer{margin-top:2rem;font-size:.85rem;color:#555}';

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

/** A card's to-do list as the page shows it, outside any one order. */
function todoList(items: readonly string[]): string {
  return `<ul>${items.map((i) => `<li>${escapeHtml(i.replaceAll('{Remove}', 'Remove').replaceAll('{noun}', 'order'))}</li>`).join('')}</ul>`;
}

/**
 * The human-readable rationale behind one card id: the mechanism and the evidence the card leaves
 * out, what the card asks (and how its variants change it), the red flags and the references.
 * Undefined for an unknown id.
 */
export function renderRationalePage(cardId: string, knowledge: Knowledge): string | undefined {
  const card = knowledge.cards.get(cardId);
  if (!card) return undefined;
  const refs = card.rationale.references
    .map((id) => knowledge.catalogue.references[id])
    .filter((ref) => ref !== undefined)
    .map((ref) => `<li><cite>${escapeHtml(ref.citation)}</cite> ${escapeHtml(ref.note)}</li>`)
    .join('');
  const body =
    `<h1>${escapeHtml(card.title)}</h1>` +
    `<p><span class="ind ${card.indicator}">${escapeHtml(card.indicator)}</span> card id <code>${escapeHtml(card.id)}</code>, decision table row ${card.row}</p>` +
    card.rationale.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('') +
    `<h2>What the card asks</h2>${todoList(card.todo)}` +
    Object.values(card.variants)
      .filter((variant) => variant.todo !== undefined)
      .map((variant) => `<h3>${escapeHtml(variant.label)}</h3>${todoList(variant.todo ?? [])}`)
      .join('') +
    (card.showRedFlags
      ? `<h2>Red flags to check</h2><ul>${knowledge.catalogue.redFlags.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>`
      : '') +
    `<h2>References</h2><ol>${refs}</ol>` +
    `<h2>Value sets behind this card</h2><ul>${valueSetLinks(card.valueSets, knowledge)}</ul>` +
    `<footer>Knowledge version ${escapeHtml(knowledge.version)}. <a href="./">All rationale pages</a></footer>`;
  return page(card.title, body);
}

/** Links to the FHIR ValueSets served under /fhir (relative: rationale pages live one level below the base). */
function valueSetLinks(ids: readonly string[], knowledge: Knowledge): string {
  return ids
    .map((id) => knowledge.valueSets.find((vs) => vs.id === id))
    .filter((vs) => vs !== undefined)
    .map((vs) => `<li><a href="../fhir/ValueSet/${escapeHtml(vs.id)}">${escapeHtml(vs.title)}</a> (<a href="../fhir/ValueSet/${escapeHtml(vs.id)}/$expand">codes</a>)</li>`)
    .join('');
}

/** Index of the rationale pages. */
export function renderRationaleIndex(knowledge: Knowledge): string {
  const items = [...knowledge.cards.values()]
    .sort((a, b) => a.row - b.row)
    .map((card) => `<li><a href="${escapeHtml(card.id)}">${escapeHtml(card.title)}</a> <span class="ind ${card.indicator}">${card.indicator}</span></li>`)
    .join('');
  const sets = knowledge.valueSets
    .map((vs) => `<li><a href="../fhir/ValueSet/${escapeHtml(vs.id)}">${escapeHtml(vs.title)}</a> (version ${escapeHtml(vs.version)}): ${vs.sources.map(escapeHtml).join('; ')}</li>`)
    .join('');
  return page(
    'Spine Safety CDS: rationale',
    `<h1>Spine Safety CDS: why the alerts fire</h1><ol>${items}</ol><h2>Value sets and their sources</h2><ul>${sets}</ul>` +
      `<footer>Knowledge version ${escapeHtml(knowledge.version)}.</footer>`,
  );
}
