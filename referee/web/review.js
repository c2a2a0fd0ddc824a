// The review page: lease an item, show it, take the answer from the keyboard, go to the next.
//
// The token comes from the address fragment (#token=...&dataset=...) or the form, lives only in
// this tab's sessionStorage, and travels only as "Authorization: Bearer". The fragment is wiped
// from the address bar at once. Model output is rendered by markdown.js (text nodes only).
//
// Timing (User Timing API, read by bench/review_page.py): a key that asks for another item sets
// the mark "referee:key"; showing the next item measures "referee:key-to-item" (DOM updated) and,
// one animation frame later, "referee:key-to-paint".

import { renderDiffSide, wordDiff } from "./diff.js";
import { renderMarkdown } from "./markdown.js";

const $ = (id) => document.getElementById(id);
const STORE_TOKEN = "referee.token";
const STORE_DATASET = "referee.dataset";
const LABEL_NAMES = { A: "A is better", B: "B is better", tie: "tie", both_bad: "both bad" };

const state = {
  token: null,
  dataset: null,
  item: null, // the item on screen (null: a notice or the form is shown)
  shownAt: 0,
  expiresAt: 0, // lease end, in this browser's clock
  expired: false,
  choice: null,
  last: null, // {pairId, label, expiresAt}: the label U can take back
  busy: false,
  diff: false,
  skewMs: 0, // server clock minus this browser's clock
};

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

// -- server ------------------------------------------------------------------------------------

async function api(method, path, body) {
  const init = {
    method,
    headers: { Authorization: `Bearer ${state.token}` },
    cache: "no-store",
    credentials: "omit",
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch {
    throw new ApiError(0, "Cannot reach the Referee server. Check the connection, then press Enter.");
  }
  const serverDate = Date.parse(resp.headers.get("Date") ?? "");
  if (Number.isFinite(serverDate)) {
    const skew = serverDate - Date.now();
    state.skewMs = Math.abs(skew) > 2000 ? skew : 0; // the header has 1 s resolution
  }
  if (resp.status === 204) return null;
  let data = null;
  try {
    data = await resp.json();
  } catch {
    data = null;
  }
  if (!resp.ok) throw new ApiError(resp.status, data?.detail ?? `HTTP ${resp.status}`);
  return data;
}

const itemPath = (pairId, action) => `/v1/items/${encodeURIComponent(pairId)}/${action}`;

// -- views -------------------------------------------------------------------------------------

function show(section) {
  for (const id of ["login", "notice", "item"]) $(id).hidden = id !== section;
  if (section !== "item") $("pair-id").textContent = "";
}

function showLogin(error) {
  stopCountdown();
  state.item = null;
  show("login");
  $("login-error").hidden = !error;
  $("login-error").textContent = error ?? "";
  $("login-dataset").value = state.dataset ?? "";
  $("dataset-name").textContent = "";
  $("progress").textContent = "";
  $(state.dataset ? "login-token" : "login-dataset").focus();
}

function showNotice(text, hint) {
  stopCountdown();
  state.item = null;
  show("notice");
  $("notice-text").textContent = text;
  $("notice-hint").textContent = hint ?? "";
}

function flash(text, isError = false) {
  const box = $("flash");
  box.textContent = text;
  box.classList.toggle("error", isError && Boolean(text));
}

function renderResponses() {
  const { item } = state;
  const a = $("response-a");
  const b = $("response-b");
  a.replaceChildren();
  b.replaceChildren();
  a.classList.remove("diff");
  b.classList.remove("diff");
  if (state.diff) {
    const diff = wordDiff(item.response_a, item.response_b);
    if (diff !== null) {
      a.classList.add("diff");
      b.classList.add("diff");
      renderDiffSide(diff.a, a);
      renderDiffSide(diff.b, b);
      return;
    }
    const note = document.createElement("p");
    note.className = "diff-note";
    note.textContent = "These responses are too long for a word diff; shown as they are.";
    a.appendChild(note);
  }
  a.appendChild(renderMarkdown(item.response_a));
  b.appendChild(renderMarkdown(item.response_b));
}

function showItem(item, note) {
  state.item = item;
  state.choice = null;
  state.expired = false;
  state.shownAt = performance.now();
  state.expiresAt = Date.parse(item.lease_expires_at) - state.skewMs;
  $("reason").value = "";
  $("rationale").value = "";
  $("reason-box").hidden = true;
  $("reason-box").classList.remove("invalid");
  $("rationale-box").hidden = true;
  $("prompt").replaceChildren(renderMarkdown(item.prompt));
  renderResponses();
  for (const id of ["prompt", "response-a", "response-b"]) $(id).scrollTop = 0;
  updateChoice();
  show("item");
  $("pair-id").textContent = item.pair_id;
  flash(note ?? "");
  if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
  startCountdown();
  if (performance.getEntriesByName("referee:key", "mark").length) {
    performance.measure("referee:key-to-item", "referee:key");
    requestAnimationFrame(() => {
      performance.measure("referee:key-to-paint", "referee:key");
      performance.clearMarks("referee:key");
    });
  }
}

function updateChoice() {
  for (const button of document.querySelectorAll("[data-label]")) {
    button.setAttribute("aria-pressed", String(button.dataset.label === state.choice));
  }
  $("panel-a").classList.toggle("chosen", state.choice === "A" || state.choice === "tie");
  $("panel-b").classList.toggle("chosen", state.choice === "B" || state.choice === "tie");
  for (const id of ["panel-a", "panel-b"]) {
    $(id).classList.toggle("both-bad", state.choice === "both_bad");
  }
}

// -- lease countdown ---------------------------------------------------------------------------

let countdown = null;

function stopCountdown() {
  if (countdown !== null) clearInterval(countdown);
  countdown = null;
  $("lease").textContent = "";
}

function startCountdown() {
  stopCountdown();
  tick();
  countdown = setInterval(tick, 1000);
}

function tick() {
  const left = Math.max(0, Math.round((state.expiresAt - Date.now()) / 1000));
  const lease = $("lease");
  lease.textContent = `Lease ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  lease.classList.toggle("low", left < 60);
  if (left === 0 && state.item && !state.expired) expire();
}

function expire() {
  state.expired = true;
  showNotice(
    "Your lease on this item has expired: it went back to the queue and no answer was saved.",
    "Press Enter for the next item.",
  );
}

// -- actions -----------------------------------------------------------------------------------

function handleError(error) {
  const status = error instanceof ApiError ? error.status : 0;
  if (status === 401) {
    sessionStorage.removeItem(STORE_TOKEN);
    state.token = null;
    showLogin(`The server refused this token (wrong or deactivated). ${error.message}`);
  } else if (status === 404 && !state.item) {
    showLogin(error.message);
  } else if (status === 403 && error.message.startsWith("paused:")) {
    showNotice(`You are ${error.message}`, "Press Enter to try again once you are unpaused.");
  } else if (status === 409 || status === 403) {
    showNotice(error.message, "Press Enter for the next item.");
  } else {
    flash(error.message || String(error), true);
    if (!state.item) showNotice(error.message || String(error), "Press Enter to try again.");
  }
}

async function loadNext(note) {
  if (!state.token || !state.dataset) return showLogin();
  state.item = null; // nothing on screen can be answered while the next item loads
  state.busy = true;
  try {
    const item = await api("GET", `/v1/next?dataset=${encodeURIComponent(state.dataset)}`);
    if (item === null) {
      showNotice(
        `Nothing left for you to review in “${state.dataset}”. Thank you!`,
        "New items appear after the next routing. Press Enter to look again.",
      );
    } else {
      showItem(item, note);
    }
  } catch (error) {
    handleError(error);
  } finally {
    state.busy = false;
  }
  refreshProgress();
}

async function refreshProgress() {
  if (!state.token || !state.dataset) return;
  $("dataset-name").textContent = state.dataset;
  try {
    const p = await api("GET", `/v1/progress?dataset=${encodeURIComponent(state.dataset)}`);
    $("progress").textContent = `${p.done_today} done today · ${p.done} in all · ${p.remaining} left`;
  } catch {
    $("progress").textContent = "";
  }
}

function choose(label) {
  if (!state.item || state.expired) return;
  state.choice = label;
  updateChoice();
  const bothBad = label === "both_bad";
  $("reason-box").hidden = !bothBad;
  if (bothBad) $("reason").focus();
  flash("");
}

async function submit() {
  if (!state.item || state.expired) return loadNext();
  if (!state.choice) {
    flash("Choose first: A, B, T (tie) or X (both bad).", true);
    return undefined;
  }
  const reason = $("reason").value.trim();
  const rationale = $("rationale").value.trim();
  if (state.choice === "both_bad" && !reason) {
    $("reason-box").hidden = false;
    $("reason-box").classList.add("invalid");
    $("reason").focus();
    flash("A reason is required when both responses are bad.", true);
    return undefined;
  }
  const body = {
    label: state.choice,
    duration_s: Math.max(0, (performance.now() - state.shownAt) / 1000),
  };
  if (state.choice === "both_bad") body.reason = reason;
  if (rationale) body.rationale = rationale;
  const { item } = state;
  state.busy = true;
  try {
    await api("POST", itemPath(item.pair_id, "label"), body);
  } catch (error) {
    state.busy = false;
    return handleError(error);
  }
  state.last = { pairId: item.pair_id, label: state.choice, expiresAt: state.expiresAt };
  return loadNext(`Saved: ${LABEL_NAMES[state.choice]}. Press U to undo.`);
}

async function skip() {
  if (!state.item || state.expired) return loadNext();
  state.busy = true;
  try {
    await api("POST", itemPath(state.item.pair_id, "release"));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 409)) {
      state.busy = false;
      return handleError(error);
    }
  }
  return loadNext("Skipped.");
}

async function undo() {
  const { last } = state;
  if (!last) {
    flash("Nothing to undo.", true);
    return;
  }
  if (Date.now() >= last.expiresAt) {
    state.last = null;
    flash("Too late to undo: the lease on your last label has expired.", true);
    return;
  }
  state.busy = true;
  try {
    const item = await api("POST", itemPath(last.pairId, "undo"));
    state.last = null;
    showItem(item, `Your answer “${LABEL_NAMES[last.label]}” was taken back: answer again.`);
    refreshProgress();
  } catch (error) {
    state.last = null;
    if (error instanceof ApiError && error.status === 409) flash(error.message, true);
    else handleError(error);
  } finally {
    state.busy = false;
  }
}

function toggleDiff() {
  state.diff = !state.diff;
  $("btn-diff").setAttribute("aria-pressed", String(state.diff));
  if (state.item) renderResponses();
}

function toggleRationale() {
  if (!state.item) return;
  const box = $("rationale-box");
  box.hidden = !box.hidden;
  if (!box.hidden) $("rationale").focus();
}

function toggleHelp(open) {
  const help = $("help");
  help.hidden = open === undefined ? !help.hidden : !open;
}

// -- keyboard ----------------------------------------------------------------------------------

const NEEDS_NEXT = new Set(["Enter", "s", "u"]);
const KEYS = {
  a: () => choose("A"),
  b: () => choose("B"),
  t: () => choose("tie"),
  x: () => choose("both_bad"),
  Enter: submit,
  s: skip,
  u: undo,
  d: toggleDiff,
  r: toggleRationale,
  "?": () => toggleHelp(true),
  n: () => (!state.item || state.expired ? loadNext() : undefined),
};

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  if (!$("help").hidden) {
    if (event.key === "Escape" || event.key === "?") {
      event.preventDefault();
      toggleHelp(false);
    }
    return;
  }
  const target = event.target;
  const typing = target instanceof HTMLTextAreaElement || target instanceof HTMLInputElement;
  if (!$("login").hidden) return; // the form handles its own keys
  if (typing) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      if (!state.busy) performance.mark("referee:key");
      if (!state.busy) submit();
    } else if (event.key === "Escape") {
      target.blur();
    }
    return;
  }
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const action = KEYS[key === "/" && event.shiftKey ? "?" : key];
  if (!action) return;
  event.preventDefault();
  if (state.busy) return;
  if (NEEDS_NEXT.has(key)) {
    performance.clearMarks("referee:key");
    performance.mark("referee:key");
  }
  action();
}

// -- start -------------------------------------------------------------------------------------

function readFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  const dataset = params.get("dataset");
  if (token) sessionStorage.setItem(STORE_TOKEN, token);
  if (dataset) sessionStorage.setItem(STORE_DATASET, dataset);
  state.token = sessionStorage.getItem(STORE_TOKEN);
  state.dataset = sessionStorage.getItem(STORE_DATASET);
  if (token) {
    // take the token out of the address bar (and so out of history and bookmarks)
    const keep = state.dataset ? `#dataset=${encodeURIComponent(state.dataset)}` : "";
    history.replaceState(null, "", `${location.pathname}${keep}`);
  }
}

function bind() {
  document.addEventListener("keydown", onKey);
  for (const button of document.querySelectorAll("[data-label]")) {
    button.addEventListener("click", () => choose(button.dataset.label));
  }
  const click = (id, fn) => $(id).addEventListener("click", () => !state.busy && fn());
  click("btn-submit", submit);
  click("btn-skip", skip);
  click("btn-undo", undo);
  click("btn-diff", toggleDiff);
  click("btn-rationale", toggleRationale);
  $("btn-help").addEventListener("click", () => toggleHelp());
  $("help").addEventListener("click", (event) => {
    if (event.target === $("help")) toggleHelp(false);
  });
  $("btn-signout").addEventListener("click", () => {
    sessionStorage.removeItem(STORE_TOKEN);
    state.token = null;
    state.last = null;
    showLogin();
  });
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = $("login-token").value.trim();
    state.dataset = $("login-dataset").value.trim();
    $("login-token").value = "";
    sessionStorage.setItem(STORE_TOKEN, state.token);
    sessionStorage.setItem(STORE_DATASET, state.dataset);
    history.replaceState(null, "", `${location.pathname}#dataset=${encodeURIComponent(state.dataset)}`);
    loadNext();
  });
}

bind();
readFragment();
if (state.token && state.dataset) loadNext();
else showLogin();
