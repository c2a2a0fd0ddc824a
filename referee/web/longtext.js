// Long texts on the review page, shown in bounded time.
//
// The browser lays out one unbroken "word" of N characters in time that grows much faster than
// N (a 300,000-character line took about a minute in Chromium). Two measures keep every item
// fast whatever its length:
//
// 1. a text longer than SHOW_LIMIT characters shows its first SHOW_LIMIT characters and a
//    "Show all" button (the rest is rendered only when asked for);
// 2. every run of RUN or more non-space characters gets a break opportunity (<wbr>) every RUN
//    characters, so no line is ever longer than that to lay out. <wbr> adds no character:
//    copying the text gives it back unchanged.

export const SHOW_LIMIT = 50_000;
export const RUN = 120;
const LONG_RUN = new RegExp(`\\S{${RUN}}`);

/** ``text`` cut to SHOW_LIMIT characters unless ``all``; ``cut`` says whether it was. */
export function clip(text, all = false) {
  const s = String(text);
  return all || s.length <= SHOW_LIMIT ? { text: s, cut: false } : { text: s.slice(0, SHOW_LIMIT), cut: true };
}

function broken(text) {
  const out = document.createDocumentFragment();
  const runs = text.split(/(\s+)/);
  for (const part of runs) {
    if (part.length < RUN || /\s/.test(part[0])) {
      out.appendChild(document.createTextNode(part));
      continue;
    }
    for (let i = 0; i < part.length; i += RUN) {
      if (i > 0) out.appendChild(document.createElement("wbr"));
      out.appendChild(document.createTextNode(part.slice(i, i + RUN)));
    }
  }
  return out;
}

/** Give every long run of non-space characters under ``root`` a break every RUN characters
 * (code blocks included: they scroll, but a huge line still costs the same to lay out). */
export function breakLongRuns(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const long = [];
  for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
    if (node.data.length >= RUN && LONG_RUN.test(node.data)) long.push(node);
  }
  for (const node of long) node.replaceWith(broken(node.data));
}

/** The "Show all" button of a clipped text of ``total`` characters; ``onClick`` shows it all. */
export function showAllButton(total, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "show-all";
  button.textContent = `Show all ${total.toLocaleString("en")} characters (${(total - SHOW_LIMIT).toLocaleString("en")} more)`;
  button.addEventListener("click", onClick);
  return button;
}
