// What the review page and the lead's page share: the token and the API calls made with it.
//
// The token comes from the address fragment (#token=...&dataset=...) or the page's form, lives
// only in this tab's sessionStorage (each page under its own keys), and travels only as
// "Authorization: Bearer" to this origin. The fragment's token is wiped from the address bar at
// once, so it is in no history entry, bookmark, request line or access log.

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status; // 0: the server could not be reached
  }
}

// `method path` with the token; the JSON answer (null for 204), or ApiError with the server's
// detail. `offline` is the message when the server cannot be reached; `onResponse(resp)` sees
// every answer first (the review page reads the server's clock from it).
export async function callApi(token, method, path, body, offline, onResponse) {
  const init = {
    method,
    headers: { Authorization: `Bearer ${token}` },
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
    throw new ApiError(0, offline);
  }
  onResponse?.(resp);
  if (resp.status === 204) return null;
  const data = await resp.json().catch(() => null);
  if (!resp.ok) throw new ApiError(resp.status, data?.detail ?? `HTTP ${resp.status}`);
  return data;
}

// The token and dataset a page keeps in sessionStorage under `${prefix}.token` and
// `${prefix}.dataset`.
export function tokenStore(prefix) {
  const TOKEN = `${prefix}.token`;
  const DATASET = `${prefix}.dataset`;
  return {
    // Take #token=...&dataset=... into the store, wipe the token from the address bar (keeping
    // #dataset=... when `keepDataset`), and return what the store now holds.
    fromFragment(keepDataset) {
      const params = new URLSearchParams(location.hash.slice(1));
      const token = params.get("token");
      const dataset = params.get("dataset");
      if (token) sessionStorage.setItem(TOKEN, token);
      if (dataset) sessionStorage.setItem(DATASET, dataset);
      const held = { token: sessionStorage.getItem(TOKEN), dataset: sessionStorage.getItem(DATASET) };
      if (token) {
        const keep = keepDataset && held.dataset ? `#dataset=${encodeURIComponent(held.dataset)}` : "";
        history.replaceState(null, "", `${location.pathname}${keep}`);
      }
      return held;
    },
    saveToken(token) {
      sessionStorage.setItem(TOKEN, token);
    },
    saveDataset(dataset) {
      sessionStorage.setItem(DATASET, dataset);
    },
    forgetToken() {
      sessionStorage.removeItem(TOKEN);
    },
  };
}
