// The order-entry page: it builds CDS Hooks requests as an EHR would and renders the cards.
// Record text is only ever placed with textContent, never parsed as HTML.

const CLINICIAN = 'Practitioner/try-clinician';
const ENCOUNTER = 'try-encounter';
const SERVICE_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/service-type';

const state = {
  services: [],
  samples: [],
  options: { orders: [], bodySites: [] },
  /** Working copies of the sample records (a revoke on patient-view changes them). */
  records: new Map(),
  drafts: [],
  nextDraft: 1,
};

const $ = (id) => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`missing #${id}`);
  return element;
};

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'className') node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return response.json();
}

// ---- reading a record ----

const resourcesOf = (bundle) =>
  Array.isArray(bundle?.entry) ? bundle.entry.map((entry) => entry?.resource).filter((r) => r && typeof r === 'object') : [];

function textOf(concept) {
  if (!concept || typeof concept !== 'object') return '';
  if (typeof concept.text === 'string' && concept.text) return concept.text;
  const coding = Array.isArray(concept.coding) ? concept.coding.find((c) => c && c.display) : undefined;
  return coding ? String(coding.display) : '';
}

function codeOf(concept) {
  const coding = Array.isArray(concept?.coding) ? concept.coding.find((c) => c && c.code) : undefined;
  return coding ? ` (${String(coding.code)})` : '';
}

const statusOf = (field) => (typeof field === 'string' ? field : Array.isArray(field?.coding) ? String(field.coding[0]?.code ?? '') : '');

function describe(resource) {
  const what = textOf(resource.code) || '(no text)';
  if (resource.resourceType === 'Condition') {
    const status = [statusOf(resource.clinicalStatus), statusOf(resource.verificationStatus)].filter(Boolean).join(', ');
    const since = resource.onsetDateTime ? `, since ${String(resource.onsetDateTime).slice(0, 10)}` : '';
    return `${what}${codeOf(resource.code)}${status ? `: ${status}` : ''}${since}`;
  }
  if (resource.resourceType === 'Procedure') {
    const when = resource.performedDateTime ? `, ${String(resource.performedDateTime).slice(0, 10)}` : '';
    return `${what}${codeOf(resource.code)}: ${String(resource.status ?? '')}${when}`;
  }
  const site = Array.isArray(resource.bodySite) ? resource.bodySite.map(textOf).filter(Boolean).join(', ') : '';
  const authored = resource.authoredOn ? `, ordered ${String(resource.authoredOn).slice(0, 10)}` : '';
  return `${what}${codeOf(resource.code)}${site ? ` at ${site}` : ''}: ${String(resource.status ?? '')}${authored}`;
}

function patientOf(record) {
  const patient = resourcesOf(record).find((r) => r.resourceType === 'Patient' && typeof r.id === 'string');
  if (!patient) throw new Error('The record has no Patient resource with an id');
  return patient;
}

/** The record the next Send uses: the pasted Bundle when there is one, else the chosen sample. */
function currentRecord() {
  const pasted = $('record').value.trim();
  if (pasted) {
    let parsed;
    try {
      parsed = JSON.parse(pasted);
    } catch {
      throw new Error('Patient record (FHIR Bundle): not valid JSON');
    }
    if (parsed?.resourceType !== 'Bundle') throw new Error('Patient record (FHIR Bundle): not a FHIR Bundle');
    return parsed;
  }
  const record = state.records.get($('patient').value);
  if (!record) throw new Error('Choose a patient');
  return record;
}

function showChart(record, about) {
  const chart = $('patient-chart');
  chart.replaceChildren();
  if (about) chart.append(el('p', { className: 'about' }, about));
  const groups = [
    ['Conditions', 'Condition'],
    ['Procedures', 'Procedure'],
    ['Orders on the chart', 'ServiceRequest'],
  ];
  for (const [title, type] of groups) {
    const items = resourcesOf(record).filter((r) => r.resourceType === type);
    const list = el('ul');
    for (const item of items) list.append(el('li', {}, describe(item)));
    if (items.length === 0) list.append(el('li', { className: 'none' }, 'none'));
    chart.append(el('div', {}, el('h3', {}, title), list));
  }
}

// ---- building the request as an EHR would ----

function belongsTo(resource, patientId) {
  const reference = resource.subject?.reference ?? resource.patient?.reference;
  return reference === undefined || reference === `Patient/${patientId}` || String(reference).endsWith(`/Patient/${patientId}`);
}

/** Resolves one prefetch template against the record: a read (`Type/id`) or a search by patient (`Type?patient=id`). */
function resolveTemplate(template, context, record) {
  const query = template.replace(/\{\{context\.(patientId|userId|encounterId)\}\}/g, (_m, name) => String(context[name] ?? ''));
  const resources = resourcesOf(record);
  const search = /^([A-Za-z]+)\?(.*)$/.exec(query);
  if (search) {
    const params = new URLSearchParams(search[2]);
    const patientId = (params.get('patient') ?? params.get('subject') ?? '').replace(/^Patient\//, '');
    const matches = resources.filter((r) => r.resourceType === search[1] && (!patientId || belongsTo(r, patientId)));
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      total: matches.length,
      entry: matches.map((resource) => ({ fullUrl: `urn:try:${resource.resourceType}/${resource.id}`, resource, search: { mode: 'match' } })),
    };
  }
  const read = /^([A-Za-z]+)\/([^/?]+)$/.exec(query);
  if (read) return resources.find((r) => r.resourceType === read[1] && r.id === read[2]) ?? null;
  return null;
}

function appointmentOf(draft, patientId) {
  const serviceType = draft.serviceType ? [{ coding: [draft.serviceType], text: draft.label }] : [{ text: draft.label }];
  return {
    resourceType: 'Appointment',
    // The draft's id, so that a card's delete of Appointment/{id} removes the same draft.
    id: draft.resource.id,
    status: 'proposed',
    serviceType,
    description: draft.label,
    ...(draft.siteText ? { comment: draft.siteText } : {}),
    participant: [
      { actor: { reference: `Patient/${patientId}` }, status: 'needs-action' },
      { actor: { reference: CLINICIAN }, status: 'accepted' },
    ],
  };
}

function buildContext(hook, patientId) {
  const context = { userId: CLINICIAN, patientId, encounterId: ENCOUNTER };
  const orders = state.drafts.map((draft) => ({ ...draft.resource, subject: { reference: `Patient/${patientId}` } }));
  if (hook === 'order-select' || hook === 'order-sign') {
    context.draftOrders = { resourceType: 'Bundle', type: 'collection', entry: orders.map((resource) => ({ resource })) };
  }
  if (hook === 'order-select') {
    context.selections = state.drafts.filter((draft) => draft.selected).map((draft) => `ServiceRequest/${draft.resource.id}`);
  }
  if (hook === 'appointment-book') {
    const appointments = state.drafts.map((draft) => appointmentOf(draft, patientId));
    context.appointments = { resourceType: 'Bundle', type: 'collection', entry: appointments.map((resource) => ({ resource })) };
  }
  return context;
}

function buildRequest(service, record) {
  const patient = patientOf(record);
  const context = buildContext(service.hook, patient.id);
  const prefetch = {};
  for (const [key, template] of Object.entries(service.prefetch ?? {})) prefetch[key] = resolveTemplate(template, context, record);
  return { hookInstance: crypto.randomUUID(), hook: service.hook, context, prefetch };
}

// ---- draft orders ----

function draftFromOptions(order, site) {
  const id = `draft-${state.nextDraft++}`;
  const code = order.coding ? { coding: [order.coding], text: order.label } : { text: order.text ?? order.label };
  const bodySite = site.coding ? [{ coding: [site.coding], text: site.label }] : site.text ? [{ text: site.text }] : undefined;
  const label = bodySite ? `${order.label} (${site.label.toLowerCase()})` : order.label;
  return {
    label,
    selected: true,
    serviceType: order.serviceType,
    siteText: site.coding || site.text ? site.label : undefined,
    resource: {
      resourceType: 'ServiceRequest',
      id,
      status: 'draft',
      intent: 'order',
      code,
      ...(bodySite ? { bodySite } : {}),
      authoredOn: new Date().toISOString().slice(0, 10),
      requester: { reference: CLINICIAN },
    },
  };
}

function draftFromResource(resource) {
  const id = `draft-${state.nextDraft++}`;
  return { label: textOf(resource.code) || 'New order', selected: true, serviceType: undefined, siteText: undefined, resource: { ...resource, id } };
}

function renderDrafts() {
  const list = $('drafts');
  list.replaceChildren();
  const service = selectedService();
  const hook = service?.hook;
  $('hook-about').textContent = service ? `${service.id}: ${service.title}` : '';
  for (const draft of state.drafts) {
    const item = el('li', {}, el('span', { className: 'draft-label' }, `${draft.label} `), el('code', {}, `ServiceRequest/${draft.resource.id}`));
    if (hook === 'order-select') {
      const box = el('input', { type: 'checkbox', id: `select-${draft.resource.id}` });
      box.checked = draft.selected;
      box.addEventListener('change', () => {
        draft.selected = box.checked;
      });
      item.append(' ', box, el('label', { for: box.id }, `Selected: ${draft.label}`));
    }
    const remove = el('button', { type: 'button' }, 'Remove ', el('span', { className: 'visually-hidden' }, draft.label));
    remove.addEventListener('click', () => {
      state.drafts = state.drafts.filter((d) => d !== draft);
      renderDrafts();
    });
    item.append(' ', remove);
    list.append(item);
  }
  if (state.drafts.length === 0) list.append(el('li', { className: 'none' }, 'No draft orders'));
  $('drafts-hint').textContent =
    hook === 'order-select'
      ? 'order-select sends only the ticked orders as selections; the others go along as draft orders.'
      : hook === 'appointment-book'
        ? 'appointment-book sends each draft as a proposed Appointment (service type, site in the comment).'
        : hook === 'patient-view'
          ? 'patient-view checks the orders already on the chart; draft orders are not sent.'
          : '';
}

// ---- cards ----

/** Inline markdown: **bold**, *em* / _em_, `code`, [text](url) and backslash escapes; everything else is text. */
function inline(text) {
  const out = [];
  let plain = '';
  const flush = () => {
    if (plain) out.push(document.createTextNode(plain));
    plain = '';
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length && /[!-/:-@[-`{-~]/.test(text[i + 1])) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    const rest = text.slice(i);
    const strong = /^\*\*(.+?)\*\*/.exec(rest);
    const em = /^([*_])(?!\s)(.+?)\1/.exec(rest);
    const code = /^`([^`]+)`/.exec(rest);
    const link = /^\[([^\]]+)\]\(([^)\s]+)\)/.exec(rest);
    const match = strong ?? code ?? link ?? em;
    if (!match) {
      plain += ch;
      i += 1;
      continue;
    }
    flush();
    if (match === strong) out.push(el('strong', {}, ...inline(strong[1])));
    else if (match === code) out.push(el('code', {}, code[1]));
    else if (match === link) out.push(safeLink(link[2], link[1]));
    else out.push(el('em', {}, ...inline(em[2])));
    i += match[0].length;
  }
  flush();
  return out;
}

function safeLink(url, label) {
  let parsed;
  try {
    parsed = new URL(url, document.baseURI);
  } catch {
    return document.createTextNode(label);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return document.createTextNode(label);
  return el('a', { href: parsed.href, target: '_blank', rel: 'noopener noreferrer' }, label);
}

/** Block markdown: paragraphs, `#` headings (shown as h4), `-` / `*` lists; the rest inline. */
function renderMarkdown(markdown) {
  const container = el('div', { className: 'detail' });
  let list;
  let paragraph = [];
  const endParagraph = () => {
    if (paragraph.length > 0) container.append(el('p', {}, ...inline(paragraph.join(' '))));
    paragraph = [];
  };
  for (const raw of String(markdown ?? '').split('\n')) {
    const line = raw.trim();
    const bullet = /^[-*]\s+(.*)$/.exec(line);
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (bullet) {
      endParagraph();
      list ??= el('ul');
      list.append(el('li', {}, ...inline(bullet[1])));
      container.append(list);
      continue;
    }
    list = undefined;
    if (heading) {
      endParagraph();
      container.append(el('h4', {}, ...inline(heading[1])));
    } else if (line === '') endParagraph();
    else paragraph.push(line);
  }
  endParagraph();
  return container;
}

function logFeedback(text, ok) {
  $('feedback').append(el('li', { className: ok ? 'ok' : 'failed' }, text));
}

async function sendFeedback(service, item) {
  const body = { feedback: [{ ...item, outcomeTimestamp: new Date().toISOString() }] };
  const response = await fetch(`cds-services/${encodeURIComponent(service.id)}/feedback`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.text();
  return { ok: response.ok, text: `${response.status} ${answer}` };
}

function applyActions(actions) {
  for (const action of actions ?? []) {
    if (action.type === 'delete' && typeof action.resourceId === 'string') {
      const id = action.resourceId.split('/').pop();
      state.drafts = state.drafts.filter((draft) => draft.resource.id !== id);
    } else if (action.type === 'create' && action.resource) {
      state.drafts.push(draftFromResource(action.resource));
    } else if (action.type === 'update' && action.resource?.id) {
      const record = state.records.get($('patient').value);
      const entry = record?.entry?.find((e) => e.resource?.resourceType === action.resource.resourceType && e.resource?.id === action.resource.id);
      if (entry) entry.resource = action.resource;
      if (record) showChart(record, state.samples.find((sample) => sample.id === $('patient').value)?.about);
    }
  }
  renderDrafts();
}

function renderCard(card, service, index) {
  const headingId = `card-${index}-summary`;
  const article = el('article', { className: `card ${card.indicator}`, 'aria-labelledby': headingId, 'data-indicator': String(card.indicator) });
  article.append(el('p', { className: 'indicator' }, String(card.indicator)));
  article.append(el('h3', { id: headingId }, String(card.summary ?? '')));
  if (card.detail) article.append(renderMarkdown(card.detail));
  if (card.source?.label) {
    const source = el('p', { className: 'source' }, 'Source: ');
    source.append(card.source.url ? safeLink(card.source.url, card.source.label) : document.createTextNode(card.source.label));
    if (card.source.topic?.code) source.append(` (${String(card.source.topic.code)})`);
    article.append(source);
  }
  const answered = (text) => {
    for (const button of article.querySelectorAll('button, select')) button.disabled = true;
    article.append(el('p', { className: 'answered' }, text));
  };
  if (Array.isArray(card.suggestions) && card.suggestions.length > 0) {
    const group = el('div', { className: 'suggestions', role: 'group', 'aria-label': 'Suggestions' });
    for (const suggestion of card.suggestions) {
      const button = el('button', { type: 'button', className: suggestion.isRecommended ? 'recommended' : '' }, String(suggestion.label));
      if (suggestion.isRecommended) button.append(el('span', { className: 'tag' }, ' (recommended)'));
      button.addEventListener('click', async () => {
        const result = await sendFeedback(service, { card: card.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: suggestion.uuid }] });
        logFeedback(`accepted "${suggestion.label}": ${result.text}`, result.ok);
        applyActions(suggestion.actions);
        answered(`Accepted: ${suggestion.label}`);
      });
      group.append(button);
    }
    article.append(group);
  }
  if (Array.isArray(card.links) && card.links.length > 0) {
    const links = el('ul', { className: 'links' });
    for (const link of card.links) links.append(el('li', {}, safeLink(link.url, String(link.label))));
    article.append(links);
  }
  if (Array.isArray(card.overrideReasons) && card.overrideReasons.length > 0) {
    const selectId = `override-${index}`;
    const select = el('select', { id: selectId });
    card.overrideReasons.forEach((reason, i) => select.append(el('option', { value: String(i) }, String(reason.display ?? reason.code))));
    const dismiss = el('button', { type: 'button' }, 'Dismiss');
    dismiss.addEventListener('click', async () => {
      const reason = card.overrideReasons[Number(select.value)];
      const result = await sendFeedback(service, { card: card.uuid, outcome: 'overridden', overrideReason: { reason } });
      logFeedback(`overridden (${String(reason.display ?? reason.code)}): ${result.text}`, result.ok);
      answered(`Dismissed: ${String(reason.display ?? reason.code)}`);
    });
    article.append(el('div', { className: 'override' }, el('label', { for: selectId }, 'Override reason'), select, dismiss));
  }
  return article;
}

// ---- wiring ----

function selectedService() {
  return state.services.find((service) => service.id === $('hook').value);
}

function option(value, label) {
  return el('option', { value }, label);
}

function showOrderCode() {
  const order = state.options.orders.find((o) => o.id === $('order').value);
  const site = state.options.bodySites.find((s) => s.id === $('body-site').value);
  const describeCoding = (c) => (c ? `${c.code} ${c.display}` : 'text only');
  $('order-code').textContent = order && site ? `Order code: ${describeCoding(order.coding)}; body site: ${site.id === 'none' ? 'none' : describeCoding(site.coding)}` : '';
}

async function send() {
  const status = $('status');
  const service = selectedService();
  if (!service) return;
  let request;
  try {
    request = buildRequest(service, currentRecord());
  } catch (error) {
    status.textContent = error instanceof Error ? error.message : String(error);
    return;
  }
  $('request-json').textContent = JSON.stringify(request, null, 2);
  status.textContent = `Sending ${service.hook} to ${service.id}…`;
  const response = await fetch(`cds-services/${encodeURIComponent(service.id)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(request),
  });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  $('response-json').textContent = body === undefined ? text : JSON.stringify(body, null, 2);
  const cards = $('cards');
  cards.replaceChildren();
  if (!response.ok || !Array.isArray(body?.cards)) {
    status.textContent = `${service.id} answered ${response.status}: see the response below`;
    return;
  }
  body.cards.forEach((card, index) => cards.append(renderCard(card, service, index)));
  if (body.cards.length === 0) cards.append(el('p', { className: 'none' }, 'No cards: nothing on this record conflicts.'));
  status.textContent = `${service.id} answered ${response.status} with ${body.cards.length} card${body.cards.length === 1 ? '' : 's'}`;
}

async function start() {
  const [discovery, samples, options] = await Promise.all([getJson('cds-services'), getJson('try/samples.json'), getJson('try/options.json')]);
  state.services = Array.isArray(discovery.services) ? discovery.services : [];
  state.samples = samples;
  state.options = options;
  for (const sample of samples) state.records.set(sample.id, structuredClone(sample.bundle));

  $('patient').replaceChildren(...samples.map((sample) => option(sample.id, sample.title)));
  $('hook').replaceChildren(...state.services.map((service) => option(service.id, service.hook)));
  const orderSign = state.services.find((service) => service.hook === 'order-sign');
  if (orderSign) $('hook').value = orderSign.id;
  $('order').replaceChildren(...options.orders.map((o) => option(o.id, o.label)));
  $('body-site').replaceChildren(...options.bodySites.map((s) => option(s.id, s.label)));

  const showPatient = () => {
    const record = state.records.get($('patient').value);
    const sample = state.samples.find((candidate) => candidate.id === $('patient').value);
    if (record) showChart(record, sample?.about);
  };
  $('patient').addEventListener('change', showPatient);
  $('hook').addEventListener('change', renderDrafts);
  $('order').addEventListener('change', showOrderCode);
  $('body-site').addEventListener('change', showOrderCode);
  $('add-order').addEventListener('click', () => {
    const order = state.options.orders.find((o) => o.id === $('order').value);
    const site = state.options.bodySites.find((s) => s.id === $('body-site').value);
    if (!order || !site) return;
    state.drafts.push(draftFromOptions(order, site));
    renderDrafts();
  });
  $('send').addEventListener('click', () => {
    send().catch((error) => {
      $('status').textContent = `Send failed: ${error instanceof Error ? error.message : String(error)}`;
    });
  });
  showPatient();
  showOrderCode();
  renderDrafts();
  document.body.dataset['ready'] = 'true';
}

start().catch((error) => {
  $('status').textContent = `The page could not start: ${error instanceof Error ? error.message : String(error)}`;
});
