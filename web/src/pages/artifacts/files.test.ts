import { describe, expect, it } from "vitest";
import { byteSize, fileNameOf } from "./files";

describe("fileNameOf", () => {
  it("reads quoted, bare and RFC 5987 file names", () => {
    expect(fileNameOf('attachment; filename="report.csv"', "x")).toBe("report.csv");
    expect(fileNameOf("attachment; filename=log.txt", "x")).toBe("log.txt");
    expect(fileNameOf("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf; filename=\"resume.pdf\"", "x")).toBe("résumé.pdf");
  });
  it("falls back when there is no name", () => {
    expect(fileNameOf(null, "my.artifact")).toBe("my.artifact");
    expect(fileNameOf("attachment", "my.artifact")).toBe("my.artifact");
  });
});

describe("byteSize", () => {
  it("scales units", () => {
    expect(byteSize(512)).toBe("512 B");
    expect(byteSize(1536)).toBe("1.5 KB");
    expect(byteSize(3.2 * 1024 * 1024)).toBe("3.2 MB");
    expect(byteSize(null)).toBe("—");
  });
});
