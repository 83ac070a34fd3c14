import { describe, expect, it } from "vitest";
import { createBody, EMPTY_KEY, ownerLabel, parseValue, updateBody, validateKey, valueText } from "./keyForm";

describe("key form", () => {
  it("sends text as a string and JSON when asked", () => {
    expect(parseValue("42", false)).toBe("42");
    expect(parseValue("42", true)).toBe(42);
    expect(parseValue('{"a": [1]}', true)).toEqual({ a: [1] });
    expect(() => parseValue("{", true)).toThrow(/not valid JSON/);
  });

  it("round-trips values through the text field", () => {
    expect(valueText("s3cr3t")).toEqual({ text: "s3cr3t", asJson: false });
    const shown = valueText({ a: 1 });
    expect(shown.asJson).toBe(true);
    expect(parseValue(shown.text, shown.asJson)).toEqual({ a: 1 });
  });

  it("validates the ref, the owner and JSON values", () => {
    expect(validateKey({ ...EMPTY_KEY, ref: "ok.ref" })).toEqual({});
    expect(validateKey({ ...EMPTY_KEY, ref: "Bad Ref" }).ref).toBeTruthy();
    expect(validateKey({ ...EMPTY_KEY, ref: "k", ownerType: "pack" }).owner).toMatch(/pack's ref/);
    expect(validateKey({ ...EMPTY_KEY, ref: "k", ownerType: "identity", owner: "bob" }).owner).toMatch(/numeric/);
    expect(validateKey({ ...EMPTY_KEY, ref: "k", asJson: true, value: "{" }).value).toMatch(/JSON/);
  });

  it("builds create bodies with the owner's field", () => {
    const body = createBody({ ...EMPTY_KEY, ref: "mypack.token", value: "x", encrypted: true, ownerType: "pack", owner: "mypack" });
    expect(body).toEqual({ ref: "mypack.token", name: "token", value: "x", encrypted: true, owner_type: "pack", owner_pack_ref: "mypack" });
    expect(createBody({ ...EMPTY_KEY, ref: "k", ownerType: "identity", owner: " 7 " }).owner_identity).toBe(7);
    expect(createBody({ ...EMPTY_KEY, ref: "sys", value: "1", asJson: true })).toMatchObject({ owner_type: "system", value: 1 });
    expect(updateBody({ ...EMPTY_KEY, value: "v" })).toEqual({ value: "v", encrypted: false });
  });

  it("labels owners", () => {
    expect(ownerLabel({ owner_type: "system", owner: null })).toBe("system");
    expect(ownerLabel({ owner_type: "pack", owner: "core" })).toBe("pack core");
  });
});
