import { describe, expect, it } from "vitest";
import { appendChunk } from "./logText";

describe("appendChunk", () => {
  it("appends a chunk that starts where the text ends", () => {
    expect(appendChunk("", 0, "one\n")).toBe("one\n");
    expect(appendChunk("one\n", 4, "two\n")).toBe("one\ntwo\n");
  });

  it("replaces what follows the offset of a chunk sent again after a reconnect", () => {
    expect(appendChunk("one\ntwo\n", 0, "one\ntwo\nthree\n")).toBe("one\ntwo\nthree\n");
    expect(appendChunk("one\ntwo\n", 4, "two\nthree\n")).toBe("one\ntwo\nthree\n");
  });
});
