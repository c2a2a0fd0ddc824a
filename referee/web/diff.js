// Word-level diff of two texts: a longest common subsequence over words (whitespace is kept
// with the word before it, so the rendered text reads as the original).
//
// Cost: the common prefix and suffix are trimmed first; the LCS table of what is left is
// n x m cells, so pairs whose differing middle is larger than MAX_CELLS are not diffed
// (wordDiff returns null and the page says so).

export const MAX_CELLS = 4_000_000;

function words(text) {
  return String(text).match(/\s*\S+\s*|\s+/g) ?? [];
}

const same = (x, y) => x.trim() === y.trim();

/**
 * Diff ``a`` against ``b``. Returns ``{a: [[text, kind]], b: [[text, kind]]}`` where kind is
 * "same", "del" (only in a) or "ins" (only in b); or null when the texts are too long to diff.
 */
export function wordDiff(a, b) {
  const x = words(a);
  const y = words(b);
  let start = 0;
  while (start < x.length && start < y.length && same(x[start], y[start])) start += 1;
  let endX = x.length;
  let endY = y.length;
  while (endX > start && endY > start && same(x[endX - 1], y[endY - 1])) { endX -= 1; endY -= 1; }
  const n = endX - start;
  const m = endY - start;
  if (n * m > MAX_CELLS) return null;
  // table[i][j] = LCS length of x[start+i:endX] and y[start+j:endY], flattened
  const width = m + 1;
  const table = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      table[i * width + j] = same(x[start + i], y[start + j])
        ? table[(i + 1) * width + j + 1] + 1
        : Math.max(table[(i + 1) * width + j], table[i * width + j + 1]);
    }
  }
  const outA = x.slice(0, start).map((w) => [w, "same"]);
  const outB = y.slice(0, start).map((w) => [w, "same"]);
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (same(x[start + i], y[start + j])) {
      outA.push([x[start + i], "same"]);
      outB.push([y[start + j], "same"]);
      i += 1;
      j += 1;
    } else if (table[(i + 1) * width + j] >= table[i * width + j + 1]) {
      outA.push([x[start + i], "del"]);
      i += 1;
    } else {
      outB.push([y[start + j], "ins"]);
      j += 1;
    }
  }
  for (; i < n; i += 1) outA.push([x[start + i], "del"]);
  for (; j < m; j += 1) outB.push([y[start + j], "ins"]);
  for (let k = endX; k < x.length; k += 1) outA.push([x[k], "same"]);
  for (let k = endY; k < y.length; k += 1) outB.push([y[k], "same"]);
  return { a: outA, b: outB };
}

/** Render one side of a diff as text nodes and <del>/<ins> elements into ``parent``. */
export function renderDiffSide(parts, parent) {
  for (const [text, kind] of parts) {
    if (kind === "same") {
      parent.appendChild(document.createTextNode(text));
    } else {
      // mark the word only; the whitespace around it stays plain
      const [, before, word, after] = /^(\s*)([\s\S]*?)(\s*)$/.exec(text);
      if (before) parent.appendChild(document.createTextNode(before));
      const node = document.createElement(kind);
      node.appendChild(document.createTextNode(word));
      parent.appendChild(node);
      if (after) parent.appendChild(document.createTextNode(after));
    }
  }
}
