// A conversation prompt on the review page: the turns before the two candidate replies, as a chat.
//
// Every turn is untrusted model or user text: its role is shown from a fixed table (an unknown
// role is shown as text, never used as markup), its content goes through markdown.js (text nodes
// only) and longtext.js (clipped past SHOW_LIMIT, long runs broken). A history longer than
// KEEP_LAST turns shows only the last KEEP_LAST, with a button that shows the earlier ones.

import { breakLongRuns, clip, showAllButton } from "./longtext.js";
import { renderMarkdown } from "./markdown.js";

export const KEEP_LAST = 4;
const ROLE_NAMES = { system: "System", user: "User", assistant: "Assistant", tool: "Tool" };

function turnElement(turn, index, full, onShowAll) {
  const li = document.createElement("li");
  const role = Object.hasOwn(ROLE_NAMES, turn.role) ? turn.role : "other";
  li.className = `turn turn-${role}`;
  li.dataset.index = String(index);
  const name = document.createElement("span");
  name.className = "role";
  name.textContent = ROLE_NAMES[role] ?? String(turn.role);
  const body = document.createElement("div");
  body.className = "md turn-text";
  const { text, cut } = clip(turn.content, full);
  body.appendChild(renderMarkdown(text));
  breakLongRuns(body);
  if (cut) body.appendChild(showAllButton(String(turn.content).length, onShowAll));
  li.append(name, body);
  return li;
}

function toggleButton(hidden, open, onToggle) {
  const button = document.createElement("button");
  button.type = "button";
  button.id = "turns-toggle";
  button.className = "turns-toggle";
  button.setAttribute("aria-expanded", String(open));
  const noun = hidden === 1 ? "turn" : "turns";
  button.textContent = open ? `Hide ${hidden} earlier ${noun}` : `Show ${hidden} earlier ${noun}`;
  button.addEventListener("click", () => {
    onToggle(!open);
    button.blur(); // keys go back to the page, not to the button
  });
  return button;
}

/** Fill ``panel`` with ``messages`` as a chat. ``view.open``: earlier turns shown; ``view.full``:
 * long turns shown whole; ``onChange(view)`` asks for a new rendering with the view changed. */
export function renderConversation(panel, messages, view, onChange) {
  const hidden = Math.max(0, messages.length - KEEP_LAST);
  const first = view.open ? 0 : hidden;
  panel.replaceChildren();
  if (hidden > 0) {
    panel.appendChild(toggleButton(hidden, view.open, (open) => onChange({ ...view, open })));
  }
  const list = document.createElement("ol");
  list.className = "chat";
  const showAll = () => onChange({ ...view, full: true });
  for (let i = first; i < messages.length; i += 1) {
    list.appendChild(turnElement(messages[i], i, view.full, showAll));
  }
  panel.appendChild(list);
}
