// Hydrant's console: one page, five views (alerts, events, pipeline, rules, reports) chosen by
// the address's #fragment. It speaks only to the API of the node that serves it.

import { $ } from "./api.js";
import { load, live, wireAlerts } from "./alerts.js";
import { wireEvents } from "./events.js";
import { refresh as refreshPipeline } from "./pipeline.js";
import { loadRules } from "./rules.js";
import { loadReports, wireReports } from "./reports.js";

const views = ["alerts", "events", "pipeline", "rules", "reports"];

function view() {
  const wanted = location.hash.slice(1);
  const shown = views.includes(wanted) ? wanted : "alerts";
  for (const name of views) $(`#${name}-view`).hidden = name !== shown;
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.view === shown) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (shown === "pipeline") refreshPipeline();
  if (shown === "rules") loadRules();
  if (shown === "reports") loadReports();
}

$("#key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("hydrant.key", $("#key").value);
  $("#key-form").hidden = true;
  load();
  view();
});

wireAlerts();
wireEvents();
wireReports();
setInterval(refreshPipeline, 5000);
window.addEventListener("hashchange", view);

view();
load();
live();
