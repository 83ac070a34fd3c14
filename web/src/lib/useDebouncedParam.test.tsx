import { act, cleanup, render, screen } from "@testing-library/react";
import { createMemoryRouter, RouterProvider, useLocation } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useDebouncedParam } from "./useDebouncedParam";

function Probe() {
  const [text, setText] = useDebouncedParam("owner", 300);
  const location = useLocation();
  return (
    <>
      <input aria-label="owner" value={text} onChange={(e) => setText(e.target.value)} />
      <output data-testid="search">{location.search}</output>
    </>
  );
}

describe("useDebouncedParam", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it("shows typing at once and writes the URL after the pause, keeping other params", async () => {
    const router = createMemoryRouter([{ path: "/keys", element: <Probe /> }], { initialEntries: ["/keys?owner_type=pack"] });
    render(<RouterProvider router={router} />);
    const input = screen.getByLabelText("owner") as HTMLInputElement;
    const type = (value: string) => act(() => {
      const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")!.set!;
      setter.call(input, value);
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
    type("co");
    type("core");
    expect(input.value).toBe("core");
    expect(screen.getByTestId("search").textContent).toBe("?owner_type=pack");
    await act(async () => {
      vi.advanceTimersByTime(300);
    });
    expect(screen.getByTestId("search").textContent).toBe("?owner_type=pack&owner=core");
    type("");
    await act(async () => {
      vi.advanceTimersByTime(300);
    });
    expect(screen.getByTestId("search").textContent).toBe("?owner_type=pack");
  });

  it("follows the URL when it changes elsewhere", async () => {
    const router = createMemoryRouter([{ path: "/keys", element: <Probe /> }], { initialEntries: ["/keys?owner=a"] });
    render(<RouterProvider router={router} />);
    expect((screen.getByLabelText("owner") as HTMLInputElement).value).toBe("a");
    await act(async () => {
      await router.navigate("/keys?owner=b");
    });
    expect((screen.getByLabelText("owner") as HTMLInputElement).value).toBe("b");
  });
});
