// The one fetch wrapper: JSON requests with the session cookie and the page's CSRF token.

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// Sends a JSON request (no body for a GET) and returns {ok, status, data}: the answer's JSON, or
// null when it has none. `keepalive` lets the request outlive the page (a save while it closes).
export async function request(method, url, body, { signal, keepalive } = {}) {
  const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    keepalive: Boolean(keepalive),
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { ok: response.ok, status: response.status, data };
}

export function postJSON(url, body, options) {
  return request("POST", url, body, options);
}

// What went wrong, in the server's words when it gave some.
export function problem(status, data) {
  return (data && (data.detail || data.error || data.message)) || `The server answered ${status}`;
}

export class HttpError extends Error {
  constructor(status, data) {
    super(problem(status, data));
    this.status = status;
    this.data = data;
  }
}

// Returns the answer's JSON; throws an HttpError (the server's message, status and body) when the
// answer is not a success.
export async function fetchJSON(method, url, body, options) {
  const { ok, status, data } = await request(method, url, body, options);
  if (!ok) throw new HttpError(status, data);
  return data;
}

export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}
