// The review page: lease an item, show it, take the answer from the keyboard, go to the next.
//
// The token is handled by session.js (fragment or form -> this tab's sessionStorage -> the
// Authorization header only). Model output is rendered by markdown.js (text nodes only).
//
// Timing (User Timing API, read by bench/review_page.py): a key that asks for another item sets
// the mark "referee:key"; showing the next item measures "referee:key-to-item" (DOM updated) and,
// one animation frame later, "referee:key-to-paint".

import { renderConversation } from "./conversation.js";
import { renderDiffSide, wordDiff } from "./diff.js";
import { breakLongRuns, clip, showAllButton } from "./longtext.js";
import { renderMarkdown } from "./markdown.js";
import { ApiError, callApi, tokenStore } from "./session.js";

const $ = (id) => document.getElementById(id);
const store = tokenStore("referee");
const LABEL_NAMES = { A: "A is better", B: "B is better", tie: "tie", both_bad: "both bad" };
// the 5-point scale in key order (referee/review/schema.py FIVE_POINT)
const FIVE_POINT = [
  ["A", "much"],
  ["A", "slight"],
  ["tie", null],
  ["B", "slight"],
  ["B", "much"],
];
const SCALE_NAMES = { "A much": "A ≫ B", "A slight": "A > B", "B slight": "B > A", "B much": "B ≫ A" };

const state = {
  token: null,
  dataset: null,
  item: null, // the item on screen (null: a notice or the form is shown)
  shownAt: 0,
  expiresAt: 0, // lease end, in this browser's clock
  expired: false,
  choice: null,
  strength: null, // "slight" | "much" on a 5-point dataset
  config: null, // the dataset's review schema (GET /v1/review-config); null: built-in 3-point
  configFor: null, // the dataset whose schema was asked for
  last: null, // {pairId, label, expiresAt}: the label U can take back
  busy: false,
  diff: false,
  full: { prompt: false, a: false, b: false }, // texts shown past SHOW_LIMIT (longtext.js)
  turns: { open: false, full: false }, // a conversation: earlier turns shown, long turns whole
  skewMs: 0, // server clock minus this browser's clock
};

// -- server ------------------------------------------------------------------------------------

const OFFLINE = "Cannot reach the Referee server. Check the connection, then press Enter.";

function readServerClock(resp) {
  const serverDate = Date.parse(resp.headers.get("Date") ?? "");
  if (Number.isFinite(serverDate)) {
    const skew = serverDate - Date.now();
    state.skewMs = Math.abs(skew) > 2000 ? skew : 0; // the header has 1 s resolution
  }
}

const api = (method, path, body) =>
  callApi(state.token, method, path, body, OFFLINE, readServerClock);

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

// After a 404 for the dataset: the datasets this token may open (GET /v1/datasets: only the
// caller's own), offered in the form and named under the message.
async function offerMyDatasets() {
  let datasets;
  try {
    ({ datasets } = await callApi(state.token, "GET", "/v1/datasets", undefined, ""));
  } catch {
    return; // the message shown stands alone
  }
  $("my-datasets").replaceChildren(
    ...datasets.map((name) => Object.assign(document.createElement("option"), { value: name })),
  );
  $("login-error").textContent += datasets.length
    ? ` Your datasets: ${datasets.join(", ")}.`
    : " No dataset is open to you yet: ask a lead to grant you one.";
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

// One text of the item into its panel: clipped past SHOW_LIMIT with a "Show all" button, long
// runs broken (longtext.js). ``render(text)`` fills the panel; ``key`` names it in state.full.
function fill(panel, key, text, render) {
  const { text: shown, cut } = clip(text, state.full[key]);
  render(shown);
  breakLongRuns(panel);
  if (cut) {
    panel.appendChild(
      showAllButton(String(text).length, () => {
        state.full[key] = true;
        key === "prompt" ? renderPrompt() : renderResponses();
      }),
    );
  }
}

// The prompt: one text, or (``item.messages``) the conversation before the replies as a chat.
function renderPrompt() {
  const panel = $("prompt");
  const { messages } = state.item;
  const chat = Array.isArray(messages) && messages.length > 0;
  $("prompt-title").textContent = chat ? `Conversation (${messages.length} turns)` : "Prompt";
  $("prompt-panel").classList.toggle("chat-panel", chat);
  if (chat) {
    renderConversation(panel, messages, state.turns, (view) => {
      state.turns = view;
      renderPrompt();
    });
    return;
  }
  panel.replaceChildren();
  fill(panel, "prompt", state.item.prompt, (t) => panel.appendChild(renderMarkdown(t)));
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
    const left = clip(item.response_a, state.full.a);
    const right = clip(item.response_b, state.full.b);
    const diff = wordDiff(left.text, right.text);
    if (diff !== null) {
      a.classList.add("diff");
      b.classList.add("diff");
      fill(a, "a", item.response_a, () => renderDiffSide(diff.a, a));
      fill(b, "b", item.response_b, () => renderDiffSide(diff.b, b));
      return;
    }
    const note = document.createElement("p");
    note.className = "diff-note";
    note.textContent = "These responses are too long for a word diff; shown as they are.";
    a.appendChild(note);
  }
  fill(a, "a", item.response_a, (t) => a.appendChild(renderMarkdown(t)));
  fill(b, "b", item.response_b, (t) => b.appendChild(renderMarkdown(t)));
}

function showItem(item, note) {
  state.item = item;
  state.choice = null;
  state.expired = false;
  state.shownAt = performance.now();
  state.expiresAt = Date.parse(item.lease_expires_at) - state.skewMs;
  $("reason").value = "";
  $("rationale").value = "";
  state.strength = null;
  $("reason-box").hidden = true;
  $("reason-box").classList.remove("invalid");
  $("rationale-box").hidden = state.config?.require_rationale !== "always";
  $("rationale-box").classList.remove("invalid");
  resetRatings();
  const ai = $("ai-label");
  ai.hidden = !item.ai_label;
  ai.replaceChildren();
  if (item.ai_label) {
    ai.append("AI pre-label: ");
    const b = document.createElement("b");
    b.textContent = LABEL_NAMES[item.ai_label] ?? String(item.ai_label);
    ai.append(b, " (check it: you decide)");
  }
  state.full = { prompt: false, a: false, b: false }; // "Show all" pressed, per text
  state.turns = { open: false, full: false };
  renderPrompt();
  renderResponses();
  for (const id of ["prompt", "response-a", "response-b"]) $(id).scrollTop = 0;
  if (item.messages?.length) $("prompt").scrollTop = $("prompt").scrollHeight; // last turn in view
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
  FIVE_POINT.forEach(([label, strength], i) => {
    const on = state.choice === label && state.strength === strength;
    $("scale").children[i].setAttribute("aria-pressed", String(on));
  });
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
    store.forgetToken();
    state.token = null;
    showLogin(`The server refused this token (wrong or deactivated). ${error.message}`);
  } else if (status === 404 && !state.item) {
    showLogin(error.message);
    offerMyDatasets();
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
    const config = state.configFor !== state.dataset ? loadConfig() : null; // in parallel
    const item = await api("GET", `/v1/next?dataset=${encodeURIComponent(state.dataset)}`);
    if (config) await config;
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

const fivePoint = () => state.config?.scale === 5;

function rationaleRequired(label) {
  const rule = state.config?.require_rationale ?? "never";
  return rule === "always" || (rule === "both_bad" && label === "both_bad");
}

function choose(label, strength = null) {
  if (!state.item || state.expired) return;
  state.choice = label;
  state.strength = label === "A" || label === "B" ? strength : null;
  updateChoice();
  const bothBad = label === "both_bad";
  $("reason-box").hidden = !bothBad;
  $("rationale-need").textContent = rationaleRequired(label) ? "required" : "optional";
  $("rationale-need").className = rationaleRequired(label) ? "required" : "muted";
  if (rationaleRequired(label)) $("rationale-box").hidden = false;
  if (bothBad) $("reason").focus();
  if (fivePoint() && state.strength === null && (label === "A" || label === "B")) {
    const [much, slight] = label === "A" ? ["1", "2"] : ["5", "4"];
    flash(`How much better is ${label}? Press ${much} (${label} ≫) or ${slight} (${label} >).`);
  } else {
    flash("");
  }
}

function chooseScale(key) {
  if (!fivePoint()) return;
  const [label, strength] = FIVE_POINT[key - 1];
  choose(label, strength);
}

// -- review schema: scale, rating dimensions, rationale rule, guidelines ---------------------

function ratingInputs() {
  return [...$("ratings").querySelectorAll("input")];
}

function resetRatings() {
  $("ratings").classList.remove("invalid");
  for (const input of ratingInputs()) {
    input.value = "";
    input.classList.remove("missing");
  }
}

function applyConfig() {
  const config = state.config;
  const dims = config?.dimensions ?? [];
  $("scale").hidden = !fivePoint();
  for (const id of ["keys-scale", "keys-scale-dd"]) $(id).hidden = !fivePoint();
  for (const id of ["keys-rate", "keys-rate-dd"]) $(id).hidden = dims.length === 0;
  const box = $("ratings");
  box.replaceChildren();
  box.hidden = dims.length === 0;
  if (dims.length) {
    const title = document.createElement("span");
    title.className = "muted small";
    title.append("Rate 1–5 (");
    const kbd = document.createElement("kbd");
    kbd.textContent = "G";
    title.append(kbd, "):");
    box.appendChild(title);
  }
  dims.forEach((name, i) => {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "number";
    input.min = "1";
    input.max = "5";
    input.step = "1";
    input.inputMode = "numeric";
    input.dataset.dim = name;
    input.addEventListener("input", () => {
      input.classList.remove("missing");
      const v = Number(input.value);
      if (Number.isInteger(v) && v >= 1 && v <= 5) {
        const next = ratingInputs()[i + 1];
        if (next) next.focus();
        else input.blur();
      }
    });
    label.append(name.replace(/_/g, " "), input);
    box.appendChild(label);
  });
  const need = config?.require_rationale ?? "never";
  $("rationale-need").textContent = need === "always" ? "required" : "optional";
  $("rationale-need").className = need === "always" ? "required" : "muted";
  if (config) {
    $("guidelines").replaceChildren(renderMarkdown(config.guidelines));
    $("guidelines-version").textContent = `(version ${config.version}, ${config.sha256.slice(0, 8)})`;
    const scale = fivePoint() ? "5-point scale (keys 1–5)" : "A / B / tie";
    const rated = dims.length ? `; rate ${dims.join(", ")} from 1 to 5` : "";
    const why = { never: "", both_bad: "; a rationale is required with both bad", always: "; a rationale is required" }[need];
    $("schema-summary").textContent = `This dataset: ${scale}${rated}${why}.`;
  }
}

async function loadConfig() {
  state.configFor = state.dataset;
  try {
    state.config = await api("GET", `/v1/review-config?dataset=${encodeURIComponent(state.dataset)}`);
  } catch {
    state.config = null; // the built-in schema; /v1/next reports a real problem
  }
  applyConfig();
}

function focusRatings() {
  const inputs = ratingInputs();
  if (!state.item || !inputs.length) return;
  (inputs.find((input) => !input.value) ?? inputs[0]).focus();
}

function collectRatings() {
  const ratings = {};
  const missing = [];
  for (const input of ratingInputs()) {
    const v = Number(input.value);
    if (input.value === "" || !Number.isInteger(v) || v < 1 || v > 5) {
      missing.push(input.dataset.dim);
      input.classList.add("missing");
    } else {
      ratings[input.dataset.dim] = v;
    }
  }
  return { ratings, missing };
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
  if (fivePoint() && (state.choice === "A" || state.choice === "B") && !state.strength) {
    flash("Choose how much better on the 5-point scale: keys 1, 2, 4 or 5.", true);
    return undefined;
  }
  const { ratings, missing } = collectRatings();
  if (missing.length) {
    $("ratings").classList.add("invalid");
    flash(`Rate ${missing.join(", ")} from 1 to 5 (press G).`, true);
    return undefined;
  }
  if (rationaleRequired(state.choice) && !rationale) {
    $("rationale-box").hidden = false;
    $("rationale-box").classList.add("invalid");
    $("rationale").focus();
    flash("This dataset requires a rationale with this answer.", true);
    return undefined;
  }
  const body = {
    label: state.choice,
    duration_s: Math.max(0, (performance.now() - state.shownAt) / 1000),
  };
  if (state.choice === "both_bad") body.reason = reason;
  if (rationale) body.rationale = rationale;
  if (state.strength) body.strength = state.strength;
  if (Object.keys(ratings).length) body.ratings = ratings;
  const { item } = state;
  state.busy = true;
  try {
    await api("POST", itemPath(item.pair_id, "label"), body);
  } catch (error) {
    state.busy = false;
    return handleError(error);
  }
  state.last = { pairId: item.pair_id, label: state.choice, expiresAt: state.expiresAt };
  const said = SCALE_NAMES[`${state.choice} ${state.strength}`] ?? LABEL_NAMES[state.choice];
  return loadNext(`Saved: ${said}. Press U to undo.`);
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
  // a required rationale stays open: R only takes the cursor there
  const keep = state.config?.require_rationale === "always" || rationaleRequired(state.choice);
  box.hidden = keep ? false : !box.hidden;
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
  g: focusRatings,
  1: () => chooseScale(1),
  2: () => chooseScale(2),
  3: () => chooseScale(3),
  4: () => chooseScale(4),
  5: () => chooseScale(5),
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

function bind() {
  document.addEventListener("keydown", onKey);
  for (const button of document.querySelectorAll("[data-label]")) {
    button.addEventListener("click", () => choose(button.dataset.label));
  }
  for (const button of document.querySelectorAll("[data-scale]")) {
    button.addEventListener("click", () => chooseScale(Number(button.dataset.scale)));
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
    store.forgetToken();
    state.token = null;
    state.last = null;
    showLogin();
  });
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = $("login-token").value.trim();
    state.dataset = $("login-dataset").value.trim();
    $("login-token").value = "";
    store.saveToken(state.token);
    store.saveDataset(state.dataset);
    history.replaceState(null, "", `${location.pathname}#dataset=${encodeURIComponent(state.dataset)}`);
    loadNext();
  });
}

bind();
({ token: state.token, dataset: state.dataset } = store.fromFragment(true)); // keeps #dataset=
if (state.token && state.dataset) loadNext();
else showLogin();
