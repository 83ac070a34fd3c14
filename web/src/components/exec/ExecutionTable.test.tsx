// 1,000 executions in the table: only a window of rows is in the DOM, scrolling renders the
// rows in view, and reaching the end asks for the next page.
import { act, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Schemas } from "@/api/client";
import { ExecutionTable } from "./ExecutionTable";

const rows: Schemas["ExecutionSummary"][] = Array.from({ length: 1000 }, (_, i) => ({
  id: 1000 - i,
  action_ref: i % 2 ? "core.noop" : "core.echo",
  status: i % 7 ? "completed" : "failed",
  parent: null,
  enforcement: null,
  rule_ref: null,
  trigger_ref: null,
  started_at: "2026-11-27T12:00:00Z",
  workflow_task: null,
  original_execution: null,
  created: "2026-11-27T12:00:00Z",
  updated: "2026-11-27T12:00:01Z",
}));

// jsdom has no layout: give elements the size of a laptop viewport's table
const size = { offsetHeight: 600, offsetWidth: 1200, clientHeight: 600, clientWidth: 1200 };
const saved: Record<string, PropertyDescriptor | undefined> = {};
beforeAll(() => {
  for (const [key, value] of Object.entries(size)) {
    saved[key] = Object.getOwnPropertyDescriptor(HTMLElement.prototype, key);
    Object.defineProperty(HTMLElement.prototype, key, { configurable: true, get: () => value });
  }
});
afterAll(() => {
  for (const [key, descriptor] of Object.entries(saved)) {
    if (descriptor) Object.defineProperty(HTMLElement.prototype, key, descriptor);
  }
});

describe("ExecutionTable with 1,000 rows", () => {
  // role queries are slow in jsdom; rows are found by their attributes
  const rowsInDom = (table: HTMLElement) => [...table.querySelectorAll<HTMLElement>('a[role="row"]')];
  const rowOf = (table: HTMLElement, id: number) => rowsInDom(table).find((r) => r.getAttribute("href") === `/executions/${id}`);

  it("renders only the rows in view, follows the scroll and asks for more at the end", { timeout: 30_000 }, async () => {
    const onEndReached = vi.fn();
    const started = performance.now();
    render(
      <MemoryRouter>
        <ExecutionTable rows={rows} label="Executions" onEndReached={onEndReached} />
      </MemoryRouter>,
    );
    const elapsed = performance.now() - started;
    console.info(`rendered 1,000 executions in ${elapsed.toFixed(0)} ms`);
    expect(elapsed).toBeLessThan(2000);
    const table = screen.getByRole("table", { name: "Executions" });
    expect(table.getAttribute("aria-rowcount")).toBe("1001");
    const inDom = rowsInDom(table).length;
    expect(inDom).toBeGreaterThan(10);
    expect(inDom).toBeLessThan(60);
    expect(rowOf(table, 1000)?.textContent).toContain("#1000");
    expect(onEndReached).not.toHaveBeenCalled();

    const scroller = table.querySelector<HTMLDivElement>(".overflow-auto")!;
    await act(async () => {
      scroller.scrollTop = 40 * 1000 - 600;
      scroller.dispatchEvent(new Event("scroll"));
      await new Promise((r) => setTimeout(r, 50));
    });
    expect(rowOf(table, 1)?.textContent).toContain("#1");
    expect(rowOf(table, 1000)).toBeUndefined();
    expect(rowsInDom(table).length).toBeLessThan(60);
    expect(onEndReached).toHaveBeenCalled();
  });
});
