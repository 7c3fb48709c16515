// Pipeline: the node's own monitoring. Counters and health from /v1/stats and /readyz, the
// hottest store keys, and charts drawn by the server (ScottPlot SVG), redrawn every 5 s while shown.

import { $, api, json, showError, row, headRow } from "./api.js";

const chartUrls = new Map();

/** The busiest keys: DynamoDB's own write rates per partition key where it has them, else the embedded store's main shards by events written. */
function hottest(stats) {
  if (stats.storeKeys) {
    return {
      head: ["key", "units last second", "peak units/s"],
      rows: stats.storeKeys.hottest.map((k) => [k.key, k.unitsLastSecond, k.peakUnitsPerSecond]),
    };
  }
  const writes = stats.shards.writes;
  const mean = writes.reduce((a, b) => a + b, 0) / Math.max(1, writes.length);
  return {
    head: ["key", "events written", "× mean"],
    rows: writes.map((count, shard) => ({ count, shard })).filter((s) => s.count > 0).sort((a, b) => b.count - a.count).slice(0, 10)
      .map((s) => [`security-events#{yyyy-MM}#${s.shard}`, s.count, mean > 0 ? (s.count / mean).toFixed(2) : "0"]),
  };
}

export async function refresh() {
  if ($("#pipeline-view").hidden) return;
  try {
    const stats = await json("/v1/stats");
    const ready = await (await api("/readyz")).json();
    const history = await json("/v1/stats/history?seconds=60");
    const latest = history.samples.at(-1);
    const health = Object.entries(ready.backends ?? {}).map(([name, b]) => `${name} ${b.status}`).join(", ");
    const consumers = (latest?.consumers ?? []).map((c) => `${c.name} ${c.eventsPerSecond}/s (lag ${c.lagEvents})`).join(", ");
    const ingest = stats.ingest;
    $("#pipeline-summary").textContent = `accepted ${ingest.accepted}, rejected ${ingest.rejected}, duplicates ${ingest.duplicates}, throttled ${ingest.throttled}; `
      + `spool depth ${stats.spool.depth}; consumers: ${consumers || "none yet"}; `
      + `partition heat (busiest shard / mean) ${stats.shards.maxOverMean.toFixed(2)}; `
      + `rule cache hit ratio ${stats.ruleCache.hitRatio}; dead letters ${stats.deadLetters?.total ?? 0}; backends: ${health}`;
    const enrichment = stats.enrichment;
    const databases = [enrichment.city, enrichment.asn].filter(Boolean).map((d) => `${d.type} (${d.failedLookups} failed lookups)`);
    $("#enrichment-summary").textContent = databases.length || enrichment.lists.length
      ? `GeoIP: ${databases.join(", ") || "none"}; ${enrichment.lists.length} intel lists`
      : "No enrichment configured (Hydrant:Enrichment: GeoIP databases, intel lists).";
    $("#intel-lists").replaceChildren(...enrichment.lists.map((l) => row([l.name, l.source, l.level, l.networks, l.domains, l.hits], "intel-list")));
    const keys = hottest(stats);
    $("#hot-keys-head").replaceChildren(headRow(keys.head));
    $("#hot-keys").replaceChildren(...keys.rows.map((values) => row(values, "hot-key")));
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
