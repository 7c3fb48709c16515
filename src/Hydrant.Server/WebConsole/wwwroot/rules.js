// Rules: what is loaded (and from where), what was refused and why, and a MITRE ATT&CK coverage
// matrix from the rules' tags: each tactic a column, under it the techniques that the rules
// tagged with that tactic name, with how many rules cover each. Sigma tags name tactics and
// techniques separately, so a technique appears under every tactic its rules are tagged with.

import { $, json, showError, element, row, headRow } from "./api.js";

// Enterprise ATT&CK's tactics, in the order its matrix shows them.
const tactics = ["reconnaissance", "resource-development", "initial-access", "execution", "persistence", "privilege-escalation",
  "defense-evasion", "credential-access", "discovery", "lateral-movement", "collection", "command-and-control", "exfiltration", "impact"];
const untagged = "(no tactic tag)";

let loaded = [];
let technique = null; // the matrix cell the rule list is narrowed to

function coverage(rules) {
  const columns = new Map();
  for (const rule of rules) {
    const { techniques, tactics: ruleTactics } = rule.attack;
    for (const tactic of ruleTactics.length > 0 ? ruleTactics : techniques.length > 0 ? [untagged] : []) {
      const cells = columns.get(tactic) ?? new Map();
      for (const id of techniques) cells.set(id, (cells.get(id) ?? 0) + 1);
      columns.set(tactic, cells);
    }
  }
  const order = [...tactics, ...[...columns.keys()].filter((t) => !tactics.includes(t)).sort()];
  return order.filter((t) => columns.has(t)).map((t) => ({ tactic: t, techniques: [...columns.get(t)].sort(([a], [b]) => (a < b ? -1 : 1)) }));
}

function renderMatrix() {
  const columns = coverage(loaded);
  const techniques = new Set(columns.flatMap((c) => c.techniques.map(([id]) => id)));
  $("#attack-summary").textContent = `${loaded.filter((r) => r.attack.techniques.length > 0).length} of ${loaded.length} rules name ATT&CK techniques: `
    + `${techniques.size} techniques under ${columns.filter((c) => c.tactic !== untagged).length} of ${tactics.length} tactics`;
  $("#attack-head").replaceChildren(headRow(columns.map((c) => c.tactic)));
  const tr = document.createElement("tr");
  tr.append(...columns.map((column) => {
    const td = element("td", null, null, "attack-tactic");
    td.dataset.tactic = column.tactic;
    td.append(...column.techniques.map(([id, count]) => {
      const button = element("button", `${id} (${count})`, id === technique ? "technique chosen" : "technique", "attack-technique");
      button.type = "button";
      button.addEventListener("click", () => {
        technique = technique === id ? null : id;
        renderMatrix();
        renderRules();
      });
      return button;
    }));
    return td;
  }));
  $("#attack-body").replaceChildren(tr);
}

function renderRules() {
  const shown = technique ? loaded.filter((r) => r.attack.techniques.includes(technique)) : loaded;
  $("#rules-note").textContent = technique ? `(${shown.length} covering ${technique}; choose it again to see all)` : `(${loaded.length})`;
  $("#rule-rows").replaceChildren(...shown.map((rule) => {
    const tr = row([rule.title, rule.kind, rule.level ?? "", rule.status ?? "", rule.attack.techniques.join(" "), rule.source], "rule-row");
    tr.dataset.id = rule.id;
    tr.addEventListener("click", () => show(rule.id));
    return tr;
  }));
}

async function show(id) {
  try {
    const rule = await json(`/v1/rules/${encodeURIComponent(id)}`);
    $("#rule-detail").hidden = false;
    $("#rule-detail-title").textContent = `${rule.title} (${rule.id})`;
    $("#rule-detail-about").textContent = [rule.description, rule.author && `by ${rule.author}`, rule.date,
      rule.falsepositives.length > 0 && `false positives: ${rule.falsepositives.join("; ")}`].filter(Boolean).join(" · ");
    $("#rule-detail-references").replaceChildren(...rule.references.map((r) => element("li", r)));
    $("#rule-yaml").textContent = rule.yaml ?? "";
  } catch (error) {
    showError(error);
  }
}

export async function loadRules() {
  try {
    const listed = await json("/v1/rules");
    loaded = listed.rules;
    const kinds = Object.entries(Object.groupBy(loaded, (r) => r.kind)).map(([kind, rules]) => `${rules.length} ${kind}`).join(", ");
    $("#rules-summary").textContent = `${loaded.length} loaded (${kinds}); ${listed.refused.length} refused`;
    $("#refused-rows").replaceChildren(...listed.refused.map((r) => row([r.source, r.reason], "refused-row")));
    $("#refused").hidden = listed.refused.length === 0;
    renderMatrix();
    renderRules();
  } catch (error) {
    showError(error);
  }
}
