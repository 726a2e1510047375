import { escapeHtml } from '../cards/text.js';
import type { Knowledge } from '../knowledge/load-knowledge.js';

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}' +
  'h1{font-size:1.6rem}h2{font-size:1.15rem;margin-top:1.6rem}table{border-collapse:collapse;width:100%}' +
  'th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #dde}code{font-size:.9em}' +
  '.try{font-size:1.1rem;font-weight:600}.off{background:#fff4d6;padding:.5rem .8rem;border-radius:.3rem}footer{margin-top:2rem;font-size:.85rem;color:#555}';

export interface LandingPageInput {
  readonly knowledge: Knowledge;
  /** False when caller JWTs are required: the /try page cannot sign its calls, so it is not served. */
  readonly tryPageServed: boolean;
}

/** The service's home page: what it is, its services as discovery lists them, and where to go next. Links are relative, so a path prefix works. */
export function renderLandingPage({ knowledge, tryPageServed }: LandingPageInput): string {
  const services = knowledge.hooks
    .map((hook) => `<tr><td><code>${escapeHtml(hook.hook)}</code></td><td><code>${escapeHtml(hook.id)}</code></td><td>${escapeHtml(hook.title)}</td></tr>`)
    .join('');
  const tryIt = tryPageServed
    ? '<p class="try"><a href="try">Try it in a browser</a>: pick a sample patient, draft a massage or manipulation order, send a hook and answer the cards.</p>'
    : '<p class="off">The try page is off: a trust file is configured, so every call needs a signed caller JWT, which the page cannot give. Run the service without <code>CDS_TRUST_FILE</code> (development mode, loopback only) to use it.</p>';
  const links = [
    ...(tryPageServed ? [['try', 'Try it: the order-entry page']] : []),
    ['rationale/', 'Rationale pages: why each card fires, with references'],
    ['analytics', 'Alert analytics: cards issued, accepted and overridden'],
    ['cds-services', 'CDS Hooks discovery (JSON)'],
    ['fhir/metadata', 'The knowledge as FHIR R4: CapabilityStatement, then ValueSet and $expand'],
  ]
    .map(([href, label]) => `<li><a href="${escapeHtml(href ?? '')}">${escapeHtml(label ?? '')}</a></li>`)
    .join('');
  const body =
    '<h1>Spine Safety CDS</h1>' +
    '<p>A CDS Hooks 2.0 service that warns when a massage, manual-therapy or spinal-manipulation order or appointment conflicts with cervical spinal stenosis, spinal cord compression, myelopathy or neurological red flags, and offers to remove or replace it.</p>' +
    tryIt +
    `<h2>Services</h2><table><thead><tr><th>Hook</th><th>Service id</th><th>Title</th></tr></thead><tbody>${services}</tbody></table>` +
    `<h2>More</h2><ul>${links}</ul>` +
    `<footer>Knowledge version <strong>${escapeHtml(knowledge.version)}</strong>.</footer>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Spine Safety CDS</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}
