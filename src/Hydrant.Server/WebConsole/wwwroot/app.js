// Hydrant's console: the alerts queue, live, with triage in place. It speaks only to the
// API of the node that serves it, with the API key of this tab (sessionStorage, sent as a
// Bearer header: no cookies, so no cross-site requests can act for the analyst).

const $ = (selector) => document.querySelector(selector);
const rows = new Map(); // alert id -> alert, as shown
let selected = null; // the alert in the detail panel: it stays there when a change takes it out of the queue
let loads = 0; // the latest load wins; an older answer arriving late is dropped
let arrivedDuringLoad = null; // alerts the stream brought while a load was under way: kept over its older answer

function filters() {
  const form = new FormData($("#filters"));
  return Object.fromEntries([...form.entries()].filter(([, value]) => value !== ""));
}

async function api(path, options = {}) {
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

async function json(path, options) {
  const response = await api(path, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail ?? body.error ?? `HTTP ${response.status}`);
  return body;
}

function showError(error) {
  $("#error").textContent = error ? String(error.message ?? error) : "";
  $("#error").hidden = !error;
}

// Whether an alert belongs in the queue as filtered now (the live stream sends every alert).
function matches(alert, wanted) {
  return (!wanted.status || alert.status === wanted.status)
    && (!wanted.level || alert.level === wanted.level)
    && (!wanted.rule || alert.ruleId === wanted.rule || alert.title === wanted.rule)
    && (!wanted.assignee || alert.assignee === wanted.assignee)
    && (!wanted.sourceIP || alert.events.some((e) => e.sourceIP === wanted.sourceIP));
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (className) td.className = className;
  return td;
}

function render() {
  const body = $("#rows");
  const sorted = [...rows.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
  body.replaceChildren(...sorted.map((alert) => {
    const tr = document.createElement("tr");
    tr.dataset.id = alert.id;
    tr.dataset.testid = "alert-row";
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
    const li = document.createElement("li");
    const what = Object.entries(change.changes).map(([name, value]) => `${name} ${value}`);
    if (change.note) what.push(`note: ${change.note}`);
    li.textContent = `${change.at} ${change.by}: ${what.join(", ")}`;
    return li;
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

// Flattens an event to dotted names and their values, as field conditions and rules name them.
function flatten(value, prefix = "", into = []) {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [name, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${name}` : name, into);
  } else {
    into.push([prefix, Array.isArray(value) ? JSON.stringify(value) : String(value)]);
  }
  return into;
}

// The alert's rule, its events with the fields that made each match highlighted, and other alerts from its source.
async function explain(id) {
  try {
    const explained = await json(`/v1/alerts/${encodeURIComponent(id)}`);
    if (selected?.id !== id) return;
    const rule = explained.rule;
    $("#rule").textContent = rule ? `${rule.title}: ${rule.description ?? ""} ${rule.attack.techniques.join(" ")}`.trim() : "(the rule is no longer loaded)";
    $("#events-note").textContent = explained.eventsNotShown > 0 ? `(${explained.eventsNotShown} more not kept with the alert)` : "";
    $("#events").replaceChildren(...explained.events.map((item) => {
      const li = document.createElement("li");
      li.dataset.testid = "event";
      if (!item.event) {
        li.textContent = `${item.id} (no longer stored)`;
        return li;
      }
      const matchedFields = new Set(item.matched.flatMap((m) => m.selections.filter((s) => s.matched).flatMap((s) => Object.keys(s.fields))));
      const list = document.createElement("dl");
      for (const [name, value] of flatten(item.event)) {
        const dt = document.createElement("dt");
        const dd = document.createElement("dd");
        dt.textContent = name;
        dd.textContent = value;
        if (matchedFields.has(name)) {
          dt.className = dd.className = "matched";
        }
        list.append(dt, dd);
      }
      const why = document.createElement("div");
      why.textContent = item.matched.map((m) => `matched ${m.title}: ${m.selections.filter((s) => s.matched).map((s) => s.name).join(", ")}`).join("; ");
      li.append(why, list);
      return li;
    }));
    const source = explained.alert.events[0]?.sourceIP;
    const related = source ? (await json(`/v1/alerts?sourceIP=${encodeURIComponent(source)}&limit=20`)).alerts.filter((a) => a.id !== id) : [];
    $("#related").replaceChildren(...related.map((a) => {
      const li = document.createElement("li");
      li.textContent = `${a.lastSeen} ${a.title} (${a.status}, ${a.count} events)`;
      return li;
    }));
  } catch (error) {
    showError(error);
  }
}

async function load() {
  showError(null);
  const load = ++loads;
  const arrived = arrivedDuringLoad = new Map();
  try {
    const query = new URLSearchParams({ ...filters(), limit: "200" });
    const page = await json(`/v1/alerts?${query}`);
    if (load !== loads) return;
    rows.clear();
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
async function live() {
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

$("#filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });
$("#filters").addEventListener("change", () => load());
$("#triage").addEventListener("click", (event) => {
  const action = event.target.dataset?.action;
  if (action) triage(action);
});
$("#key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("hydrant.key", $("#key").value);
  $("#key-form").hidden = true;
  load();
});

// Events: the search of GET /v1/events, by source, type, time and any field, newest first, in pages.
let searchCursor = null;

function searchQuery() {
  const form = new FormData($("#search"));
  const query = new URLSearchParams({ limit: "100", explain: "true" });
  for (const name of ["sourceIP", "eventType", "from", "to"]) {
    const value = String(form.get(name) ?? "").trim();
    if (value) query.set(name, value);
  }
  for (const line of String(form.get("fields") ?? "").split("\n").map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf("=");
    if (at <= 0) throw new Error(`"${line}" is not NAME=VALUE`);
    query.append(`field.${line.slice(0, at).trim()}`, line.slice(at + 1).trim());
  }
  return query;
}

async function search(more) {
  showError(null);
  try {
    const query = searchQuery();
    if (more && searchCursor) query.set("cursor", searchCursor);
    const page = await json(`/v1/events?${query}`);
    const body = $("#event-rows");
    if (!more) body.replaceChildren();
    for (const event of page.events) {
      const tr = document.createElement("tr");
      tr.dataset.testid = "event-row";
      tr.append(cell(event.timestamp), cell(event.eventType), cell(event.sourceIP), cell(event.id));
      tr.addEventListener("click", async () => {
        const stored = await json(`/v1/events/${encodeURIComponent(event.id)}`);
        $("#event-json").textContent = JSON.stringify(stored, null, 2);
        $("#event-json").hidden = false;
      });
      body.append(tr);
    }
    searchCursor = page.next;
    $("#more").hidden = !page.next;
    const plan = page.plan;
    $("#search-plan").textContent = plan
      ? `${body.children.length} events shown; read ${plan.itemsRead} items from ${plan.partitions} of ${plan.partitionsPlanned} partitions (${plan.index})`
        + (plan.eventsExamined !== undefined ? `, examined ${plan.eventsExamined}` : "") + (plan.reachesPastRetention ? `; kept from ${plan.keptFrom}` : "")
      : "";
  } catch (error) {
    showError(error);
  }
}

// Pipeline: the last quarter hour as charts drawn by the server (ScottPlot SVG), redrawn every 5 s while shown.
const chartUrls = new Map();

async function pipeline() {
  if ($("#pipeline-view").hidden) return;
  try {
    const stats = await json("/v1/stats");
    const ready = await (await api("/readyz")).json();
    const health = Object.entries(ready.backends ?? {}).map(([name, b]) => `${name} ${b.status}`).join(", ");
    $("#pipeline-summary").textContent = `spool depth ${stats.spool.depth}; partition heat (busiest shard / mean) ${stats.shards.maxOverMean.toFixed(2)}; `
      + `rule cache hit ratio ${stats.ruleCache.hitRatio}; dead letters ${stats.deadLetters?.total ?? 0}; backends: ${health}`;
    for (const image of document.querySelectorAll(".charts img")) {
      const response = await api(`/v1/stats/history/chart?series=${image.dataset.series}&seconds=900`);
      if (!response.ok) throw new Error(`chart ${image.dataset.series}: HTTP ${response.status}`);
      const url = URL.createObjectURL(await response.blob());
      image.src = url;
      if (chartUrls.has(image)) URL.revokeObjectURL(chartUrls.get(image));
      chartUrls.set(image, url);
    }
  } catch (error) {
    showError(error);
  }
}

function view() {
  const shown = ["#events", "#pipeline"].includes(location.hash) ? location.hash.slice(1) : "alerts";
  $("#alerts-view").hidden = shown !== "alerts";
  $("#events-view").hidden = shown !== "events";
  $("#pipeline-view").hidden = shown !== "pipeline";
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.view === shown) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  pipeline();
}

setInterval(pipeline, 5000);

$("#search").addEventListener("submit", (event) => { event.preventDefault(); search(false); });
$("#more").addEventListener("click", () => search(true));
window.addEventListener("hashchange", view);

view();
load();
live();
