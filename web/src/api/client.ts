// The typed API client, generated from the server's OpenAPI document (src/api/schema.d.ts is
// produced by `npm run gen:api`; never edit types by hand). The middleware adds the bearer
// token and, on a 401, refreshes the session once and replays the request.
import createClient, { type Middleware } from "openapi-fetch";
import { useAuth } from "@/lib/auth";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Execution = Schemas["Execution"];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

let refreshing: Promise<boolean> | null = null;

async function refresh(): Promise<boolean> {
  const { refreshToken, setTokens, signOut } = useAuth.getState();
  if (!refreshToken) return false;
  const response = await fetch("/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: refreshToken }),
  });
  if (!response.ok) {
    signOut();
    return false;
  }
  const { data } = await response.json();
  setTokens(data.access_token, data.refresh_token);
  return true;
}

/** Refresh the session once even when many requests hit a 401 together. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= refresh().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

// An untouched copy of each request, so one that met an expired token can be replayed.
const copies = new WeakMap<Request, Request>();

const auth: Middleware = {
  onRequest({ request }) {
    const token = useAuth.getState().accessToken;
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    copies.set(request, request.clone());
    return request;
  },
  async onResponse({ request, response }) {
    if (response.status !== 401 || request.url.includes("/auth/")) return response;
    const replay = copies.get(request);
    if (!replay || !(await refreshSession())) return response;
    replay.headers.set("Authorization", `Bearer ${useAuth.getState().accessToken}`);
    return fetch(replay);
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(auth);

/** The body of a successful response; throws an ApiError naming the server's message. */
export async function unwrap<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await pending;
  if (error !== undefined || !response.ok) {
    const body = (error ?? {}) as { error?: string; code?: string; details?: unknown };
    throw new ApiError(
      response.status,
      body.error ?? `${response.status} ${response.statusText}`,
      body.code,
      body.details,
    );
  }
  return data as T;
}

/** fetch with the session's token, for what the typed client cannot express (streams, files). */
export async function authFetch(input: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = useAuth.getState().accessToken;
  if (token) headers.set("Authorization", `Bearer ${token}`);
  let response = await fetch(input, { ...init, headers });
  if (response.status === 401 && (await refreshSession())) {
    headers.set("Authorization", `Bearer ${useAuth.getState().accessToken}`);
    response = await fetch(input, { ...init, headers });
  }
  return response;
}
