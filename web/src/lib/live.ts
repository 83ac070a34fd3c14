// Live updates: one WebSocket to the notifier (/ws) per tab, shared by every page. Pages
// listen for the notifications they show; by default a notification invalidates the cached
// queries of its entity type, so lists and details refresh by themselves.
import { useEffect } from "react";
import { create } from "zustand";
import { useAuth } from "@/lib/auth";
import { queryClient } from "@/lib/query";

export interface Notification {
  type: "notification";
  notification_type: string;
  entity_type: string;
  entity_id: number;
  user_id?: number | null;
  payload: Record<string, unknown>;
  timestamp: string;
}

type Listener = (n: Notification) => void;

export const useLiveStatus = create<{ connected: boolean }>()(() => ({ connected: false }));

const listeners = new Set<Listener>();
let socket: WebSocket | null = null;
let retryDelay = 500;
let retryTimer: ReturnType<typeof setTimeout> | undefined;

/** Query keys start with the entity's plural name (["executions", ...]); map entity types. */
const KEYS: Record<string, string[]> = {
  execution: ["executions", "dashboard"],
  event: ["events", "dashboard"],
  enforcement: ["enforcements", "dashboard"],
  inquiry: ["inquiries", "executions"],
  workflow_execution: ["executions"],
  // a running execution's output: the log panel follows it over SSE, nothing else to refresh
  // (its query key, ["execution_logs", ...], is outside "executions" for the same reason)
  execution_log: [],
  worker: ["workers"],
  sensor: ["sensors"],
};

/** Apply one notification: invalidate the queries of its entity type, then call the listeners. */
export function dispatch(n: Notification): void {
  for (const key of KEYS[n.entity_type] ?? [`${n.entity_type}s`]) {
    void queryClient.invalidateQueries({ queryKey: [key] });
  }
  for (const listener of listeners) listener(n);
}

function connect(): void {
  const token = useAuth.getState().accessToken;
  if (!token || socket) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}`);
  socket = ws;
  ws.onopen = () => {
    retryDelay = 500;
    ws.send(JSON.stringify({ type: "subscribe", filter: "all" }));
    useLiveStatus.setState({ connected: true });
  };
  ws.onmessage = (message) => {
    const frame = JSON.parse(String(message.data));
    if (frame.type === "notification") dispatch(frame as Notification);
  };
  ws.onclose = () => {
    socket = null;
    useLiveStatus.setState({ connected: false });
    if (!useAuth.getState().accessToken) return;
    retryTimer = setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 15_000);
  };
}

function disconnect(): void {
  clearTimeout(retryTimer);
  socket?.close();
  socket = null;
}

/** Keep the socket open while signed in (mounted once by the layout). */
export function useLiveConnection(): void {
  const token = useAuth((s) => s.accessToken);
  useEffect(() => {
    if (!token) return;
    // a new token (refresh) reconnects with it
    disconnect();
    connect();
    return disconnect;
  }, [token]);
}

/** Call `listener` for every notification while the component is mounted. */
export function useNotifications(listener: Listener): void {
  useEffect(() => {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, [listener]);
}
