// Focal's HTTP API, as the signed-in person: the token lives in this tab's sessionStorage only.

const TOKEN_KEY = "focal.dashboard.token";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Signing out: the token and this browser's upload grant are both forgotten. */
export async function signOut() {
  forgetToken();
  await fetch("/dashboard/upload-grant", { method: "DELETE", credentials: "same-origin" }).catch(() => {});
}

function query(parameters) {
  const given = Object.entries(parameters || {}).filter(([, value]) => value !== undefined && value !== null && value !== "");
  return given.length ? `?${new URLSearchParams(given)}` : "";
}

/** The answer's data: the hosted envelope's `result`, or the JSON itself; refusals thrown. */
async function answer(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    const body = await response.json();
    if (body && typeof body === "object" && "success" in body) {
      if (!body.success) {
        const messages = (body.errors || []).map((error) => error.message);
        throw new ApiError(response.status, messages.join("; ") || `HTTP ${response.status}`);
      }
      return body.result;
    }
    if (!response.ok) throw new ApiError(response.status, JSON.stringify(body));
    return body;
  }
  if (!response.ok) {
    const text = (await response.text()).trim();
    throw new ApiError(response.status, text || `HTTP ${response.status}`);
  }
  return response.status === 204 ? null : response;
}

export async function call(method, path, { json, form, params, token = storedToken() } = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  const response = await fetch(path + query(params), { method, headers, body, credentials: "same-origin" });
  return answer(response);
}

export const get = (path, params) => call("GET", path, { params });

/** Checks a token and keeps it; refused tokens are never stored. */
export async function signIn(token) {
  await call("GET", "/images/v1/stats", { token });
  sessionStorage.setItem(TOKEN_KEY, token);
  // The upload widget authorizes with cookies: a short-lived grant for this browser.
  await call("POST", "/dashboard/upload-grant", { token });
}

export function imagePath(id) {
  return `/images/v1/${encodeURIComponent(id)}`;
}

/** A protected binary (an original) as an object URL an <img> can show. */
export async function objectURL(path) {
  const response = await call("GET", path);
  return URL.createObjectURL(await response.blob());
}

export async function listImages(continuationToken, perPage = 20) {
  return get("/images/v2", { per_page: perPage, continuation_token: continuationToken });
}

export async function variants() {
  const result = await get("/images/v1/variants");
  return Object.values(result.variants);
}

export async function flexibleVariants() {
  return (await get("/images/v1/config")).flexible_variants;
}

export async function signingKeys() {
  return (await get("/images/v1/keys")).keys;
}
