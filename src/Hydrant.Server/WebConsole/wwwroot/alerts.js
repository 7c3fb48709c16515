// The alerts queue, live (the SSE stream read with fetch), filtered as the API filters, with the
// selected alert explained beside it (rule, timeline, events with what matched, related alerts)
// and triaged in place.

import { $, api, json, showError, element, cell, flatten, enrichmentLine } from "./api.js";

const rows = new Map(); // alert id -> alert, as shown
let selected = null; // the alert in the detail panel: it stays there when a change takes it out of the queue
let loads = 0; // the latest load wins; an older answer arriving late is dropped
let arrivedDuringLoad = null; // alerts the stream brought while a load was under way: kept over its older answer
let next = null; // the cursor of the queue's next (older) page

/** The queue's filters as API parameters: "since" becomes a from time; an explicit from wins over it. */
function filters() {
  const form = new FormData($("#filters"));
  const wanted = Object.fromEntries([...form.entries()].map(([name, value]) => [name, String(value).trim()]).filter(([, value]) => value !== ""));
  if (wanted.since && !wanted.from) wanted.from = new Date(Date.now() - Number(wanted.since) * 1000).toISOString();
  delete wanted.since;
  return wanted;
}

// Whether an alert belongs in the queue as filtered now (the live stream sends every alert).
function matches(alert, wanted) {
  return (!wanted.status || alert.status === wanted.status)
    && (!wanted.level || alert.level === wanted.level)
    && (!wanted.rule || alert.ruleId === wanted.rule || alert.title === wanted.rule)
    && (!wanted.assignee || alert.assignee === wanted.assignee)
    && (!wanted.sourceIP || alert.events.some((e) => e.sourceIP === wanted.sourceIP))
    // As the API has it: an alert is in [from, to) when its span of events overlaps the range.
    && (!wanted.from || Date.parse(alert.lastSeen) >= Date.parse(wanted.from))
    && (!wanted.to || Date.parse(alert.firstSeen) < Date.parse(wanted.to));
}

function render() {
  const sorted = [...rows.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
  $("#rows").replaceChildren(...sorted.map((alert) => {
    const tr = element("tr", null, null, "alert-row");
    tr.dataset.id = alert.id;
    tr.setAttribute("aria-selected", String(alert.id === selected?.id));
    tr.append(cell(alert.lastSeen), cell(alert.level, `level-${alert.level}`), cell(alert.title, "title"),
      cell([...new Set(alert.events.map((e) => e.sourceIP))].join(", ")), cell(String(alert.count)),
      cell(alert.status, "status"), cell(alert.assignee, "assignee"));
    tr.addEventListener("click", () => select(alert.id));
    return tr;
  }));
  renderDetail();
}

function renderDetail() {
  const alert = selected;
  $("#detail").hidden = !alert;
  if (!alert) return;
  $("#detail-title").textContent = alert.title;
  $("#detail-summary").textContent = `${alert.level}, ${alert.count} events ${alert.firstSeen} – ${alert.lastSeen}, ${alert.status}${alert.resolution ? ` (${alert.resolution})` : ""}, version ${alert.version}`;
  $("#history").replaceChildren(...alert.history.map((change) => {
    const what = Object.entries(change.changes).map(([name, value]) => `${name} ${value}`);
    if (change.note) what.push(`note: ${change.note}`);
    return element("li", `${change.at} ${change.by}: ${what.join(", ")}`);
  }));
}

function select(id) {
  const alert = rows.get(id);
  selected = alert ?? null;
  $("#triage").elements.assignee.value = alert?.assignee ?? "";
  $("#triage").elements.note.value = "";
  render();
  if (alert) explain(alert.id);
}

const envelope = new Set(["id", "timestamp", "eventType", "sourceIP", "logsource.product", "logsource.service", "logsource.category", "format"]);

/** The group's events in time order: where each falls in the alert's span, and what it was. */
function renderTimeline(explained) {
  const stored = new Map(explained.events.map((item) => [item.id, item]));
  const events = [...explained.alert.events].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
  const first = Date.parse(events[0]?.timestamp ?? explained.alert.firstSeen);
  const span = Math.max(1, Date.parse(events.at(-1)?.timestamp ?? explained.alert.lastSeen) - first);
  const strip = $("#timeline-strip");
  strip.replaceChildren(...events.map((event) => {
    const tick = element("span", null, "tick");
    // CSSOM, not a style attribute: the content security policy allows no inline styles.
    tick.style.left = `${((Date.parse(event.timestamp) - first) / span) * 100}%`;
    tick.title = `${event.timestamp} ${event.eventType}`;
    return tick;
  }));
  $("#timeline-summary").textContent = `${events.length} events over ${(span / 1000).toFixed(1)} s`
    + (explained.alert.count > events.length ? ` (${explained.alert.count - events.length} more counted, not kept)` : "");
  $("#timeline").replaceChildren(...events.map((event) => {
    const item = stored.get(event.id);
    const matched = new Set((item?.matched ?? []).flatMap((m) => m.selections.filter((s) => s.matched).flatMap((s) => Object.keys(s.fields))));
    const fields = item?.event ? flatten(item.event).filter(([name]) => !envelope.has(name)) : [];
    const shown = [...fields.filter(([name]) => matched.has(name)), ...fields.filter(([name]) => !matched.has(name))].slice(0, 3);
    const li = element("li", null, null, "timeline-event");
    li.title = event.timestamp;
    li.append(element("span", `+${((Date.parse(event.timestamp) - first) / 1000).toFixed(1)} s`, "offset"),
      element("span", event.eventType), element("span", event.sourceIP),
      element("span", shown.map(([name, value]) => `${name}=${value}`).join(" "), "fields"));
    return li;
  }));
}

// The alert's rule, its timeline, its events with the fields that made each match highlighted, and other alerts from its source.
async function explain(id) {
  try {
    const explained = await json(`/v1/alerts/${encodeURIComponent(id)}`);
    if (selected?.id !== id) return;
    const rule = explained.rule;
    $("#rule").textContent = rule ? `${rule.title}: ${rule.description ?? ""} ${rule.attack.techniques.join(" ")}`.trim() : "(the rule is no longer loaded)";
    renderTimeline(explained);
    $("#events-note").textContent = explained.eventsNotShown > 0 ? `(${explained.eventsNotShown} more not kept with the alert)` : "";
    $("#events").replaceChildren(...explained.events.map((item) => {
      const li = element("li", null, null, "event");
      if (!item.event) {
        li.textContent = `${item.id} (no longer stored)`;
        return li;
      }
      const matchedFields = new Set(item.matched.flatMap((m) => m.selections.filter((s) => s.matched).flatMap((s) => Object.keys(s.fields))));
      const list = document.createElement("dl");
      for (const [name, value] of flatten(item.event)) {
        const dt = element("dt", name);
        const dd = element("dd", value);
        if (matchedFields.has(name)) dt.className = dd.className = "matched";
        list.append(dt, dd);
      }
      li.append(element("div", item.matched.map((m) => `matched ${m.title}: ${m.selections.filter((s) => s.matched).map((s) => s.name).join(", ")}`).join("; ")));
      const known = enrichmentLine(item.event);
      if (known) li.append(element("div", known, "enrichment", "alert-event-enrichment"));
      li.append(list);
      return li;
    }));
    const source = explained.alert.events[0]?.sourceIP;
    const related = source ? (await json(`/v1/alerts?sourceIP=${encodeURIComponent(source)}&limit=20`)).alerts.filter((a) => a.id !== id) : [];
    $("#related").replaceChildren(...related.map((a) => element("li", `${a.lastSeen} ${a.title} (${a.status}, ${a.count} events)`)));
  } catch (error) {
    showError(error);
  }
}

/** The queue's first page, or (older) the page after the last one shown: the queue never loads everything. */
export async function load(older = false) {
  showError(null);
  const load = ++loads;
  const arrived = arrivedDuringLoad = new Map();
  try {
    const query = new URLSearchParams({ ...filters(), limit: "200" });
    if (older && next) query.set("cursor", next);
    const page = await json(`/v1/alerts?${query}`);
    if (load !== loads) return;
    if (!older) rows.clear();
    next = page.next;
    $("#alerts-more").hidden = !next;
    for (const alert of page.alerts) rows.set(alert.id, alert);
    for (const alert of arrived.values()) {
      const listed = rows.get(alert.id);
      if (!listed || listed.count < alert.count || listed.version < alert.version) rows.set(alert.id, alert);
    }
    render();
  } catch (error) {
    showError(error);
  } finally {
    if (load === loads) arrivedDuringLoad = null;
  }
}

async function triage(action) {
  const alert = selected;
  if (!alert) return;
  const form = $("#triage").elements;
  const change = { version: alert.version };
  if (action === "acknowledge") change.status = "acknowledged";
  if (action === "close") {
    change.status = "closed";
    change.resolution = form.resolution.value;
  }
  if (form.assignee.value !== (alert.assignee ?? "")) change.assignee = form.assignee.value;
  if (form.note.value.trim()) change.note = form.note.value.trim();
  showError(null);
  try {
    const changed = await json(`/v1/alerts/${encodeURIComponent(alert.id)}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(change),
    });
    form.note.value = "";
    upsert(changed);
  } catch (error) {
    showError(error);
    await load();
  }
}

function upsert(alert) {
  const known = rows.get(alert.id);
  // The stream may deliver an older version after the answer of a change: keep the newest triage.
  const newest = [known, selected?.id === alert.id ? selected : null].filter(Boolean).sort((a, b) => b.version - a.version)[0];
  if (newest && newest.version > alert.version) alert = { ...alert, status: newest.status, resolution: newest.resolution, assignee: newest.assignee, version: newest.version, history: newest.history };
  if (selected?.id === alert.id) selected = alert;
  if (arrivedDuringLoad && matches(alert, filters())) arrivedDuringLoad.set(alert.id, alert);
  if (matches(alert, filters())) rows.set(alert.id, alert);
  else rows.delete(alert.id);
  render();
}

// Server-Sent Events read with fetch, so the key goes in a header as for every other request.
export async function live() {
  for (;;) {
    try {
      const response = await api("/v1/alerts/stream");
      $("#live").textContent = "live";
      $("#live").classList.add("on");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const line of message.split("\n")) {
            if (line.startsWith("data: ")) upsert(JSON.parse(line.slice(6)));
            // ": dropped N alerts": the queue is reloaded, which has them.
            else if (line.startsWith(": dropped")) await load();
          }
        }
      }
    } catch {
      // The node restarted or the key is missing: try again shortly.
    }
    $("#live").textContent = "reconnecting…";
    $("#live").classList.remove("on");
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

export function wireAlerts() {
  $("#filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  $("#filters").addEventListener("change", () => load());
  $("#alerts-more").addEventListener("click", () => load(true));
  $("#triage").addEventListener("click", (event) => {
    const action = event.target.dataset?.action;
    if (action) triage(action);
  });
}
