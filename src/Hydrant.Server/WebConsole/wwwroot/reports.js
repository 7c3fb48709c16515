// Reports: the stored daily reports, newest first; one shown with its figures (events per type
// and hour, top and new sources, alerts per rule and level, partition heat); a day built on demand.

import { $, json, showError, element, row } from "./api.js";

function top(entries, count = 20) {
  return Object.entries(entries).sort(([, a], [, b]) => b - a).slice(0, count);
}

function show(report) {
  $("#report").hidden = false;
  $("#report-title").textContent = `Daily report ${report.date} (UTC)`;
  $("#report-summary").textContent = `${report.totalEvents} events, ${report.alerts.total} alerts, `
    + `${report.newSources.length} new sources; partition heat (busiest shard / mean) ${report.partitionHeat.maxOverMean}`;
  $("#report-types").replaceChildren(...top(report.byType).map(([type, n]) => row([type, n])));
  const busiest = Math.max(1, ...report.byHour);
  $("#report-hours").replaceChildren(...report.byHour.map((n, hour) => {
    const li = element("li", null, null, "report-hour");
    const bar = element("span", null, "bar");
    bar.style.width = `${(n / busiest) * 100}%`; // CSSOM: the policy allows no inline styles
    li.append(element("span", `${String(hour).padStart(2, "0")}:00`, "hint"), bar, element("span", n));
    return li;
  }));
  $("#report-sources").replaceChildren(...report.topSources.map((s) => row([s.sourceIP, s.count])));
  const titles = report.alerts.ruleTitles ?? {};
  $("#report-rules").replaceChildren(...top(report.alerts.byRule).map(([id, n]) => row([titles[id] ? `${titles[id]} (${id})` : id, n], "report-rule")));
  $("#report-levels").replaceChildren(...top(report.alerts.byLevel).map(([level, n]) => row([level, n])));
  $("#report-new").textContent = report.newSources.length > 0 ? report.newSources.join(", ") : "none";
  const enrichment = report.enrichment ?? { topCountries: [], topNetworks: [], intelMatches: [] };
  $("#report-enrichment").hidden = enrichment.topCountries.length + enrichment.topNetworks.length + enrichment.intelMatches.length === 0;
  $("#report-countries").replaceChildren(...enrichment.topCountries.map((c) => row([`${c.countryName ?? c.countryIsoCode} (${c.countryIsoCode})`, c.events])));
  $("#report-networks").replaceChildren(...enrichment.topNetworks.map((n) => row([`AS${n.number} ${n.organization ?? ""}`.trim(), n.events])));
  $("#report-intel").replaceChildren(...enrichment.intelMatches.map((m) => row([m.list, m.events, m.sources], "report-intel-match")));
}

async function open(date) {
  showError(null);
  try {
    show(await json(`/v1/reports/daily/${encodeURIComponent(date)}`));
  } catch (error) {
    showError(error);
  }
}

export async function loadReports() {
  try {
    const listed = await json("/v1/reports/daily?limit=60");
    $("#reports-note").textContent = listed.reports.length === 0 ? "No report is stored yet: one is built each day for the day before, or build one here." : "";
    $("#report-rows").replaceChildren(...listed.reports.map((r) => {
      const tr = row([r.date, r.builtAt, r.totalEvents, r.alerts], "report-row");
      tr.addEventListener("click", () => open(r.date));
      return tr;
    }));
  } catch (error) {
    showError(error);
  }
}

async function build(event) {
  event.preventDefault();
  showError(null);
  const date = String(new FormData($("#build-report")).get("date") ?? "").trim();
  try {
    show(await json(`/v1/reports/daily/${encodeURIComponent(date)}`, { method: "POST" }));
    await loadReports();
  } catch (error) {
    showError(error);
  }
}

export function wireReports() {
  $("#build-report").addEventListener("submit", build);
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  $("#build-report").elements.date.value = yesterday;
}
