// What every view shares: the API of the node that serves the console, called with this tab's
// key (sessionStorage, sent as a Bearer header: no cookies, so no cross-site request acts for the
// analyst), and small helpers to build the page's elements as text, never as HTML.

export const $ = (selector) => document.querySelector(selector);

export async function api(path, options = {}) {
  const headers = { ...(options.headers ?? {}) };
  const key = sessionStorage.getItem("hydrant.key");
  if (key) headers.Authorization = `Bearer ${key}`;
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    $("#key-form").hidden = false;
    throw new Error("this node needs an API key");
  }
  return response;
}

export async function json(path, options) {
  const response = await api(path, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail ?? body.error ?? `HTTP ${response.status}`);
  return body;
}

export function showError(error) {
  $("#error").textContent = error ? String(error.message ?? error) : "";
  $("#error").hidden = !error;
}

/** An element with text content (never parsed as HTML), optional class and test id. */
export function element(tag, text, className, testId) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  if (testId) node.dataset.testid = testId;
  return node;
}

export const cell = (text, className) => element("td", text ?? "", className);

/** A table row of cells from plain values. */
export function row(values, testId) {
  const tr = element("tr", null, null, testId);
  tr.append(...values.map((value) => cell(value)));
  return tr;
}

/** A header row of column names. */
export function headRow(names) {
  const tr = document.createElement("tr");
  tr.append(...names.map((name) => element("th", name)));
  return tr;
}

/** Flattens an event to dotted names and their values, as field conditions and rules name them. */
export function flatten(value, prefix = "", into = []) {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [name, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${name}` : name, into);
  } else {
    into.push([prefix, Array.isArray(value) ? JSON.stringify(value) : String(value)]);
  }
  return into;
}

/** What enrichment at ingest knew of an event's source, in a line: place, network, the lists holding it (null when nothing). */
export function enrichmentLine(event) {
  const known = event?.enrichment;
  if (!known) return null;
  const describe = (facts) => {
    const parts = [];
    if (facts.geo) parts.push([facts.geo.country_iso_code, facts.geo.city_name ?? facts.geo.country_name].filter(Boolean).join(" "));
    if (facts.as) parts.push(`AS${facts.as.number}${facts.as.organization ? ` ${facts.as.organization}` : ""}`);
    if (facts.intel?.length) parts.push(`on ${facts.intel.join(", ")}`);
    return parts.join(" · ");
  };
  const lines = [];
  const source = describe(known);
  if (source) lines.push(`${event.sourceIP}: ${source}`);
  for (const [field, facts] of Object.entries(known.fields ?? {})) lines.push(`${field}: ${describe(facts)}`);
  if (known.intel_level) lines.push(`intel level ${known.intel_level}`);
  return lines.join("; ");
}
