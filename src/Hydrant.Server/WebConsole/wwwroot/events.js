// Events: the search of GET /v1/events, by source, type, time and any field, newest first, in
// pages, with the plan of what was read to answer; one event's stored JSON on a click.

import { $, json, showError, row, enrichmentLine } from "./api.js";

let cursor = null;

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
    if (more && cursor) query.set("cursor", cursor);
    const page = await json(`/v1/events?${query}`);
    const body = $("#event-rows");
    if (!more) body.replaceChildren();
    for (const event of page.events) {
      const tr = row([event.timestamp, event.eventType, event.sourceIP, event.id], "event-row");
      tr.addEventListener("click", async () => {
        try {
          const stored = await json(`/v1/events/${encodeURIComponent(event.id)}`);
          const known = enrichmentLine(stored);
          $("#event-enrichment").textContent = known ?? "";
          $("#event-enrichment").hidden = !known;
          $("#event-json").textContent = JSON.stringify(stored, null, 2);
          $("#event-json").hidden = false;
        } catch (error) {
          showError(error);
        }
      });
      body.append(tr);
    }
    cursor = page.next;
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

export function wireEvents() {
  $("#search").addEventListener("submit", (event) => { event.preventDefault(); search(false); });
  $("#more").addEventListener("click", () => search(true));
}
