// The lead's page: one dataset's queue progress, agreement, spot-check estimate and reviewers.
// Same token handling as the review page (session.js: fragment or form -> sessionStorage ->
// header only), under its own keys. Every value from the server goes in through textContent;
// charts are SVG built in the DOM.

import { callApi, tokenStore } from "./session.js";

const $ = (id) => document.getElementById(id);
const store = tokenStore("referee.lead");
const SVG = "http://www.w3.org/2000/svg";
const REFRESH_MS = 30_000;

const state = { token: null, dataset: null, timer: null };

// GET `path`, or POST `body` to it
const api = (path, body) =>
  callApi(state.token, body === undefined ? "GET" : "POST", path, body, "Cannot reach the Referee server.");

function show(section) {
  for (const id of ["login", "notice", "overview"]) $(id).hidden = id !== section;
}

function showLogin(error) {
  show("login");
  $("dataset-picker").hidden = true;
  $("login-error").hidden = !error;
  $("login-error").textContent = error ?? "";
  $("login-token").focus();
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

const pct = (x) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)}%`);
const num = (x, digits = 3) => (x === null || x === undefined ? "–" : x.toFixed(digits));

function bar(fraction, bad = false) {
  const track = document.createElement("div");
  track.className = "bar-track";
  const fill = document.createElement("div");
  fill.className = bad ? "bar-fill bad" : "bar-fill";
  fill.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  track.appendChild(fill);
  return track;
}

function sparkline(values, target = 0.8) {
  const width = 120;
  const height = 24;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `running gold accuracy over ${values.length} checks`);
  const y = (v) => (height - 2 - v * (height - 4)).toFixed(1);
  const guide = document.createElementNS(SVG, "line");
  guide.setAttribute("x1", "0");
  guide.setAttribute("x2", String(width));
  guide.setAttribute("y1", y(target));
  guide.setAttribute("y2", y(target));
  svg.appendChild(guide);
  if (values.length) {
    const step = values.length > 1 ? width / (values.length - 1) : 0;
    const points = values.map((v, i) => `${(i * step).toFixed(1)},${y(v)}`);
    if (values.length === 1) points.push(`${width},${y(values[0])}`);
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points.join(" "));
    svg.appendChild(line);
  }
  return svg;
}

function renderQueues(doc) {
  const body = $("queues").tBodies[0];
  body.replaceChildren();
  const bars = $("queue-bars");
  bars.replaceChildren();
  for (const [name, q] of Object.entries(doc.queues)) {
    const row = body.insertRow();
    const done = q.total ? q.done / q.total : 0;
    cell(row, name);
    cell(row, String(q.done), "num");
    cell(row, String(q.leased), "num");
    cell(row, String(q.pending), "num");
    const label = document.createElement("div");
    label.className = "muted small";
    label.textContent = `${name}: ${q.done} of ${q.total} done (${q.total ? pct(done) : "–"})`;
    bars.append(label, bar(done));
  }
  const g = doc.gold_checks;
  $("gold-served").textContent =
    `Hidden gold checks: ${g.served} served, ${g.answered} answered, ${g.leased} out now.`;
}

function renderAgreement(doc) {
  const a = doc.agreement;
  $("alpha").textContent = `α = ${num(a.krippendorff_alpha)}`;
  const ci = a.ci?.krippendorff_alpha;
  $("alpha-ci").textContent = ci
    ? `Krippendorff's alpha, 95% interval [${num(ci.low)}, ${num(ci.high)}], ` +
      `${a.comparable_items} items answered twice or more`
    : "Not measurable yet: no item has two answers.";
  const body = $("agreement").tBodies[0];
  body.replaceChildren();
  const rows = [
    ["percent agreement", pct(a.percent_agreement), a.ci?.percent_agreement, pct],
    ["Fleiss' kappa", num(a.fleiss_kappa), a.ci?.fleiss_kappa, num],
    ["Cohen's kappa", num(a.cohen_kappa), a.ci?.cohen_kappa, num],
    ["answers / reviewers", `${a.labels} / ${a.annotators}`, null, null],
  ];
  for (const [label, value, interval, fmt] of rows) {
    const row = body.insertRow();
    cell(row, label);
    cell(row, value, "num");
    cell(row, interval ? `[${fmt(interval.low)}, ${fmt(interval.high)}]` : "", "num");
  }
}

function renderSpot(doc) {
  const s = doc.spot_check;
  $("spot").textContent = pct(s.accuracy);
  $("spot-ci").textContent =
    s.accuracy === null
      ? "No spot check answered yet."
      : `${Math.round(s.confidence * 100)}% interval [${pct(s.lower)}, ${pct(s.upper)}] ` +
        `from ${s.n} spot checks (${s.correct} confirmed the AI label), ${s.method}`;
  const fill = $("spot-fill");
  const lower = s.lower ?? 0;
  const upper = s.upper ?? 0;
  fill.style.marginLeft = `${lower * 100}%`;
  fill.style.width = `${Math.max(0.5, (upper - lower) * 100)}%`;
  $("spot-bar").hidden = s.accuracy === null;
  const alarms = $("drift-alarms");
  alarms.replaceChildren();
  for (const text of doc.drift_alarms || []) {
    const item = document.createElement("li");
    item.textContent = `Drift: ${text}`;
    alarms.append(item);
  }
  alarms.hidden = !alarms.children.length;
}

function renderReviewers(doc) {
  const body = $("reviewers").tBodies[0];
  body.replaceChildren();
  for (const r of doc.reviewers) {
    const row = body.insertRow();
    cell(row, r.role === "lead" ? `${r.name} (lead)` : r.name);
    cell(row, `${r.labeled} (${r.labeled_today})`, "num");
    cell(row, String(r.gold_checks), "num");
    cell(row, pct(r.gold_accuracy), "num");
    const accuracy = row.insertCell();
    if (r.gold_accuracy !== null) accuracy.appendChild(bar(r.gold_accuracy, r.gold_accuracy < 0.7));
    row.insertCell().appendChild(sparkline(r.gold_trend));
    const b = r.bias;
    cell(
      row,
      b ? `${pct(b.override_rate_revealed)} / ${pct(b.override_rate_hidden)}` : "–",
      "num",
    ).title = b ? `${b.revealed_overrides}/${b.revealed} shown, ${b.hidden_overrides}/${b.hidden} hidden` : "";
    cell(row, b && b.traps ? `${b.traps_caught}/${b.traps}` : "–", "num");
    let status = "active";
    if (!r.active) status = "deactivated";
    else if (r.paused) status = "paused";
    const statusCell = cell(row, status, r.paused || !r.active ? "status-paused" : "");
    if (b && b.flagged) {
      const flag = document.createElement("span");
      flag.className = "flag";
      flag.textContent = "flagged";
      flag.title = b.reasons.join("; ");
      statusCell.append(" ", flag);
    }
    if (r.active) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "small";
      button.dataset.reviewer = r.name;
      button.textContent = r.paused ? "Unpause" : "Pause";
      button.addEventListener("click", () => setPaused(r.name, !r.paused, button));
      statusCell.append(" ", button);
    }
  }
  if (!doc.reviewers.length) {
    const row = body.insertRow();
    cell(row, "No reviewers yet: add one with 'referee reviewers add NAME'.").colSpan = 9;
  }
}

const money = (x) => `$${x.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

function renderCost(doc) {
  const c = doc.cost;
  $("cost-total").textContent = money(c.total);
  const body = $("cost").tBodies[0];
  body.replaceChildren();
  const rows = [
    ["LLM judges", money(c.judge_spend)],
    [`human labels: ${c.human_labels} × ${money(c.human_cost)}`, money(c.human_spend)],
  ];
  for (const [label, value] of rows) {
    const row = body.insertRow();
    cell(row, label);
    cell(row, value, "num");
  }
  const kinds = Object.entries(c.human_labels_by_kind)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${kind.replace("_", " ")}`);
  $("cost-note").textContent = kinds.length ? `Labels so far: ${kinds.join(", ")}.` : "No human label yet.";
}

async function setPaused(name, paused, button) {
  button.disabled = true;
  try {
    await api("/v1/lead/pause", { reviewer: name, paused });
  } catch (error) {
    button.disabled = false;
    button.textContent = `Failed: ${error.message}`;
    return;
  }
  await load();
}

async function load() {
  if (!state.token) return showLogin();
  try {
    if (!state.dataset) {
      const { datasets } = await api("/v1/lead/datasets");
      fillPicker(datasets);
      if (!datasets.length) {
        show("notice");
        $("notice-text").textContent = "No dataset yet: ingest one with 'referee ingest'.";
        return undefined;
      }
      state.dataset = datasets[0];
    }
    const doc = await api(`/v1/lead/overview?dataset=${encodeURIComponent(state.dataset)}`);
    store.saveDataset(state.dataset);
    renderQueues(doc);
    renderAgreement(doc);
    renderSpot(doc);
    renderReviewers(doc);
    renderCost(doc);
    show("overview");
    $("updated").textContent = `${doc.dataset} · updated ${new Date().toLocaleTimeString()}`;
    if ($("dataset").options.length === 0) fillPicker((await api("/v1/lead/datasets")).datasets);
  } catch (error) {
    if (error.status === 401 || error.status === 403) {
      store.forgetToken();
      state.token = null;
      return showLogin(`The server refused this token: ${error.message}`);
    }
    show("notice");
    $("notice-text").textContent = error.message;
  }
  return undefined;
}

function fillPicker(datasets) {
  const select = $("dataset");
  select.replaceChildren();
  for (const name of datasets) {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = name;
    option.selected = name === state.dataset;
    select.appendChild(option);
  }
  $("dataset-picker").hidden = datasets.length === 0;
}

function bind() {
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = $("login-token").value.trim();
    $("login-token").value = "";
    store.saveToken(state.token);
    load();
  });
  $("btn-refresh").addEventListener("click", load);
  $("btn-signout").addEventListener("click", () => {
    store.forgetToken();
    state.token = null;
    showLogin();
  });
  $("dataset").addEventListener("change", () => {
    state.dataset = $("dataset").value;
    load();
  });
  document.addEventListener("keydown", (event) => {
    const typing = event.target instanceof HTMLInputElement;
    if (!typing && event.key.toLowerCase() === "r" && !event.ctrlKey && !event.metaKey) load();
  });
  state.timer = setInterval(() => {
    if (state.token && !document.hidden) load();
  }, REFRESH_MS);
}

bind();
({ token: state.token, dataset: state.dataset } = store.fromFragment(false)); // address: path only
load();
