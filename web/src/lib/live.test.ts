import { afterEach, describe, expect, it } from "vitest";
import { logQueryKey } from "@/components/exec/LogPanel";
import { dispatch, type Notification } from "./live";
import { queryClient } from "./query";

function notification(entity_type: string, entity_id: number): Notification {
  return { type: "notification", notification_type: "updated", entity_type, entity_id, payload: {}, timestamp: "2026-01-01T00:00:00Z" };
}

const invalidated = (key: unknown[]) => queryClient.getQueryState(key)?.isInvalidated;

describe("dispatch", () => {
  afterEach(() => queryClient.clear());

  it("refreshes execution queries but not a followed log when any execution changes", () => {
    queryClient.setQueryData(["executions", 7], { id: 7 });
    queryClient.setQueryData(logQueryKey(7, "stdout"), { data: { content: "line 1\n" } });
    // another execution finished (a busy system sends many of these while execution 7 runs)
    dispatch(notification("execution", 8));
    expect(invalidated(["executions", 7])).toBe(true);
    expect(invalidated(logQueryKey(7, "stdout"))).toBe(false);
  });

  it("leaves the log to its SSE stream when its own output notification arrives", () => {
    queryClient.setQueryData(logQueryKey(7, "stdout"), { data: { content: "line 1\n" } });
    dispatch(notification("execution_log", 7));
    expect(invalidated(logQueryKey(7, "stdout"))).toBe(false);
  });
});
