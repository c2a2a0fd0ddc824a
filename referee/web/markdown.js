// A small, safe markdown renderer for untrusted model output.
//
// Safety: the text is never parsed as HTML. Every node is built with createElement and every
// piece of text goes in through createTextNode, so "<script>", "<img onerror>", SVG or any other
// markup shows up as the characters it is made of. Links and images are not made into <a> or
// <img>: a link shows its text followed by its address as plain text, an image its alt text.
// Nothing rendered here can run code, navigate, or load anything.
//
// Subset: fenced code blocks (``` or ~~~, with a language hint, highlighted), headings, bullet
// and numbered lists (one level), block quotes, rules, paragraphs (line breaks kept); inline
// `code`, **bold**, *italic* / _italic_, [text](address), ![alt](address).

const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^\s{0,3}[-*+]\s+(.*)$/;
const NUMBERED = /^\s{0,3}\d{1,9}[.)]\s+(.*)$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.appendChild(document.createTextNode(text));
  return node;
}

// -- inline ------------------------------------------------------------------------------------

const INLINE = new RegExp(
  [
    "(`+)([^\\n]*?[^`\\n])\\1(?!`)", // 1, 2: code span (one line)
    "(!?)\\[([^\\]\\n]{0,500})\\]\\(([^()\\s]{0,2000})\\)", // 3, 4, 5: image / link
    "\\*\\*(?=\\S)([^\\n]*?\\S)\\*\\*", // 6: bold (one line)
    "\\*(?=[^\\s*])([^*\\n]*?[^\\s*])\\*", // 7: italic with *
    "(?<![\\w])_(?=[^\\s_])([^_\\n]*?[^\\s_])_(?![\\w])", // 8: italic with _
  ].join("|"),
  "g",
);

// Past this many characters a run of text is shown as it is: every inline pattern scans at most
// one line per attempt, but a single huge line must not cost quadratic time either.
const MAX_INLINE = 20_000;

export function renderInline(text, parent, depth = 0) {
  if (text.length > MAX_INLINE) {
    parent.appendChild(document.createTextNode(text));
    return;
  }
  const pattern = new RegExp(INLINE); // its own lastIndex: this function recurses
  let last = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
    last = pattern.lastIndex;
    if (m[2] !== undefined) {
      parent.appendChild(el("code", "", m[2]));
    } else if (m[4] !== undefined) {
      if (m[3] === "!") {
        parent.appendChild(el("span", "image-alt", `[image: ${m[4] || "no description"}]`));
      } else {
        const label = el("span", "link-text");
        renderInline(m[4], label, depth + 1);
        parent.appendChild(label);
        parent.appendChild(el("span", "link-url", ` (${m[5]})`));
      }
    } else if (depth > 4) {
      parent.appendChild(document.createTextNode(m[0]));
    } else {
      const node = el(m[6] !== undefined ? "strong" : "em");
      renderInline(m[6] ?? m[7] ?? m[8], node, depth + 1);
      parent.appendChild(node);
    }
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}

// -- code highlighting -------------------------------------------------------------------------

const KEYWORDS = new Set(
  (
    "and as assert async await break case catch class const continue def default del do elif " +
    "else enum except export extends false False final finally fn for from func function go if " +
    "impl import in interface is lambda let loop match mod mut new nil None not null or package " +
    "pass private pub public raise return self static struct super switch this throw true True " +
    "try type typeof use var void while with yield int float str bool char long double string " +
    "echo then fi done esac local"
  ).split(" "),
);
const HASH_COMMENT_LANGS = new Set([
  "python", "py", "sh", "bash", "shell", "zsh", "ruby", "rb", "yaml", "yml", "toml", "r",
  "perl", "makefile", "dockerfile", "ini", "conf", "",
]);
const C_COMMENT = "\\/\\/[^\\n]*|\\/\\*[\\s\\S]*?(?:\\*\\/|$)";
const TOKEN_TAIL =
  "|\"(?:[^\"\\\\\\n]|\\\\.)*\"?|'(?:[^'\\\\\\n]|\\\\.)*'?|`[^`]*`?" +
  "|\\b\\d[\\d_]*(?:\\.\\d+)?(?:[eE][+-]?\\d+)?\\b|\\b[A-Za-z_]\\w*\\b";

function tokenPattern(lang) {
  const comments = HASH_COMMENT_LANGS.has(lang) ? `#[^\\n]*|${C_COMMENT}` : C_COMMENT;
  return new RegExp(`(${comments})${TOKEN_TAIL}`, "g");
}

export function highlight(code, lang, parent) {
  const pattern = tokenPattern(lang.toLowerCase());
  let last = 0;
  for (let m = pattern.exec(code); m !== null; m = pattern.exec(code)) {
    if (m[0] === "") { pattern.lastIndex += 1; continue; }
    const word = m[0];
    let kind = "";
    if (m[1] !== undefined) kind = "tok-com";
    else if (/^["'`]/.test(word)) kind = "tok-str";
    else if (/^\d/.test(word)) kind = "tok-num";
    else if (KEYWORDS.has(word)) kind = "tok-kw";
    if (!kind) continue; // a plain identifier stays in the surrounding text
    if (m.index > last) parent.appendChild(document.createTextNode(code.slice(last, m.index)));
    parent.appendChild(el("span", kind, word));
    last = pattern.lastIndex;
  }
  if (last < code.length) parent.appendChild(document.createTextNode(code.slice(last)));
}

// -- blocks ------------------------------------------------------------------------------------

function codeBlock(lines, lang) {
  const pre = el("pre");
  if (lang) pre.dataset.lang = lang;
  const code = el("code");
  highlight(lines.join("\n"), lang, code);
  pre.appendChild(code);
  return pre;
}

function paragraph(lines) {
  const p = el("p");
  renderInline(lines.join("\n"), p);
  return p;
}

/** Render ``text`` as markdown into a new DocumentFragment (see the module comment). */
export function renderMarkdown(text, depth = 0) {
  const out = document.createDocumentFragment();
  const lines = String(text).replace(/\r\n?/g, "\n").split("\n");
  let para = [];
  const flush = () => {
    if (para.length) out.appendChild(paragraph(para));
    para = [];
  };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      const body = [];
      let j = i + 1;
      const close = fence[1];
      while (j < lines.length && !lines[j].trimStart().startsWith(close)) body.push(lines[j++]);
      out.appendChild(codeBlock(body, fence[2] || ""));
      i = j; // the closing fence (or the end)
      continue;
    }
    if (!line.trim()) { flush(); continue; }
    if (RULE.test(line)) { flush(); out.appendChild(el("hr")); continue; }
    const heading = line.length <= 2000 ? HEADING.exec(line) : null;
    if (heading) {
      flush();
      const h = el(`h${Math.min(6, heading[1].length + 2)}`);
      renderInline(heading[2], h);
      out.appendChild(h);
      continue;
    }
    const listMatch = BULLET.exec(line) || NUMBERED.exec(line);
    if (listMatch) {
      flush();
      const ordered = !BULLET.test(line);
      const list = el(ordered ? "ol" : "ul");
      if (ordered) {
        const start = parseInt(line.trim(), 10);
        if (Number.isFinite(start) && start !== 1) list.start = start;
      }
      const pattern = ordered ? NUMBERED : BULLET;
      let j = i;
      let current = null;
      while (j < lines.length && lines[j].trim()) {
        const m = pattern.exec(lines[j]);
        if (m) {
          current = el("li");
          renderInline(m[1], current);
          list.appendChild(current);
        } else if (/^\s+\S/.test(lines[j]) && current) {
          current.appendChild(document.createTextNode("\n"));
          renderInline(lines[j].trim(), current);
        } else {
          break;
        }
        j += 1;
      }
      out.appendChild(list);
      i = j - 1;
      continue;
    }
    if (QUOTE.test(line) && depth < 8) {
      flush();
      const quoted = [];
      let j = i;
      while (j < lines.length && QUOTE.test(lines[j])) quoted.push(QUOTE.exec(lines[j++])[1]);
      const block = el("blockquote");
      block.appendChild(renderMarkdown(quoted.join("\n"), depth + 1));
      out.appendChild(block);
      i = j - 1;
      continue;
    }
    para.push(line);
  }
  flush();
  return out;
}
