// Live refresh for long paged lists. The shared socket invalidates every "executions" query on
// each notification; a busy system sends hundreds a second, and each refetch of an infinite list
// re-reads every loaded page and cancels the page being loaded. Lists that use this hook keep
// their own key (outside that prefix) and refresh at most once per `ms`, never cancelling a
// fetch in flight (so scrolling keeps loading pages while executions pour in).
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef } from "react";
import { type Notification, useNotifications } from "@/lib/live";

export function useLiveRefresh(entityTypes: string[], queryKey: unknown[], ms = 1000): void {
  const client = useQueryClient();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const key = useRef(queryKey);
  key.current = queryKey;
  const types = entityTypes.join(",");
  const listener = useCallback(
    (n: Notification) => {
      if (!types.split(",").includes(n.entity_type) || timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = undefined;
        void client.invalidateQueries({ queryKey: key.current }, { cancelRefetch: false });
      }, ms);
    },
    [client, types, ms],
  );
  useNotifications(listener);
  useEffect(() => () => clearTimeout(timer.current), []);
}
