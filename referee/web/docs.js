// The API reference page (/docs with `referee serve --docs`): the OpenAPI document fetched with
// the lead's token and listed as plain text. Every string goes in through textContent.
import { ApiError, callApi, tokenStore } from "./session.js";

const store = tokenStore("referee.lead"); // the lead page's token, when it is open in this tab
const $ = (id) => document.getElementById(id);

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function fieldsOf(operation, doc) {
  const names = (operation.parameters ?? []).map((p) => `${p.name} (${p.in})`);
  const ref = operation.requestBody?.content?.["application/json"]?.schema?.$ref;
  const schema = ref ? doc.components?.schemas?.[ref.split("/").pop()] : undefined;
  for (const [name, spec] of Object.entries(schema?.properties ?? {})) {
    names.push(`${name}${(schema.required ?? []).includes(name) ? "" : "?"}: ${spec.type ?? "value"}`);
  }
  return names;
}

function render(doc) {
  $("title").textContent = `${doc.info?.title ?? "API"} ${doc.info?.version ?? ""}`;
  $("description").textContent = doc.info?.description ?? "";
  const list = $("endpoints");
  list.replaceChildren();
  for (const [path, methods] of Object.entries(doc.paths ?? {})) {
    for (const [method, operation] of Object.entries(methods)) {
      const block = element("div", undefined, "endpoint");
      block.append(element("h2", `${method.toUpperCase()} ${path}`));
      if (operation.description || operation.summary) {
        block.append(element("p", operation.description ?? operation.summary, "muted"));
      }
      const fields = fieldsOf(operation, doc);
      if (fields.length) block.append(element("p", fields.join(" · "), "small"));
      list.append(block);
    }
  }
  $("login").hidden = true;
  $("reference").hidden = false;
}

async function open(token) {
  try {
    render(await callApi(token, "GET", "/v1/openapi.json", undefined, "server unreachable"));
    store.saveToken(token);
  } catch (error) {
    const status = error instanceof ApiError ? error.status : 0;
    $("login-error").textContent = status === 403 ? "this token is not a lead's" : error.message;
    $("login-error").hidden = false;
    $("login").hidden = false;
  }
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  open($("login-token").value.trim());
});

const held = store.fromFragment(false);
if (held.token) open(held.token);
else $("login").hidden = false;
