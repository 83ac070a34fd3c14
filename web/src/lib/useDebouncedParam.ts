// A text filter kept in the query string without a request per keystroke: the input shows
// what is typed at once, the URL (and so the query) follows after a pause.
import { useEffect, useRef, useState } from "react";
import { useSearchParams } from "react-router";

export function useDebouncedParam(name: string, delayMs = 300): [string, (value: string) => void] {
  const [params, setParams] = useSearchParams();
  const current = params.get(name) ?? "";
  const [text, setText] = useState(current);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  // the URL changed elsewhere (back button, "clear filters"): show it
  useEffect(() => {
    setText(current);
  }, [current]);
  useEffect(() => () => clearTimeout(timer.current), []);
  const update = (value: string) => {
    setText(value);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          if (value) next.set(name, value);
          else next.delete(name);
          return next;
        },
        { replace: true },
      );
    }, delayMs);
  };
  return [text, update];
}
