import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { SchemaForm } from "./SchemaForm";
import { type Errors, type Values, defaultValues, fromText, isJsonSchema, parseSchema, validateValues } from "./schemaFields";

const flat = {
  url: { type: "string", required: true, description: "The URL", format: "uri" },
  method: { type: "string", default: "GET", enum: ["GET", "POST"] },
  retries: { type: "integer", minimum: 0, maximum: 5 },
  ratio: { type: "number" },
  verify: { type: "boolean", default: true },
  headers: { type: "object", default: {} },
  tags: { type: "array" },
  token: { type: "string", secret: true },
  extra: { type: "any" },
};

const jsonSchema = {
  type: "object",
  properties: {
    approved: { type: "boolean" },
    reason: { type: "string", minLength: 3 },
    level: { type: "integer", enum: [1, 2, 3] },
  },
  required: ["approved"],
};

describe("parseSchema", () => {
  it("reads the flat flavour with per-field required and secret", () => {
    const fields = parseSchema(flat);
    expect(fields.map((f) => f.name)).toEqual(Object.keys(flat));
    const url = fields.find((f) => f.name === "url")!;
    expect(url).toMatchObject({ type: "string", required: true, format: "uri", description: "The URL" });
    expect(fields.find((f) => f.name === "token")!.secret).toBe(true);
    expect(fields.find((f) => f.name === "method")!).toMatchObject({ enum: ["GET", "POST"], default: "GET", hasDefault: true });
  });

  it("reads JSON Schema with a required list", () => {
    expect(isJsonSchema(jsonSchema)).toBe(true);
    expect(isJsonSchema(flat)).toBe(false);
    const fields = parseSchema(jsonSchema);
    expect(fields.map((f) => [f.name, f.type, f.required])).toEqual([
      ["approved", "boolean", true],
      ["reason", "string", false],
      ["level", "integer", false],
    ]);
  });

  it("orders by position and tolerates empty or odd schemas", () => {
    expect(parseSchema({ b: { type: "string", position: 1 }, a: { type: "string", position: 0 } }).map((f) => f.name)).toEqual(["a", "b"]);
    expect(parseSchema(null)).toEqual([]);
    expect(parseSchema({})).toEqual([]);
    expect(parseSchema({ x: "not a spec" })).toEqual([]);
  });

  it("treats a flat parameter named properties as a parameter", () => {
    expect(parseSchema({ properties: { type: "object" } }).map((f) => f.name)).toEqual(["properties"]);
  });
});

describe("fromText", () => {
  const [, , retries, ratio, , headers] = parseSchema(flat);
  it("parses numbers and JSON, keeping bad text for validation", () => {
    expect(fromText(retries, "3")).toBe(3);
    expect(fromText(retries, "")).toBeUndefined();
    expect(fromText(retries, "3x")).toBe("3x");
    expect(fromText(ratio, "0.5")).toBe(0.5);
    expect(fromText(headers, '{"a": 1}')).toEqual({ a: 1 });
    expect(fromText(headers, "{oops")).toBe("{oops");
  });
});

describe("validateValues", () => {
  it("names the field in every message", () => {
    const errors = validateValues(flat, { retries: 9, ratio: "x", headers: "{oops", tags: { a: 1 }, method: "PUT" });
    expect(errors.url).toBe("url is required");
    expect(errors.retries).toBe("retries must be at most 5");
    expect(errors.ratio).toBe("ratio must be a number");
    expect(errors.headers).toMatch(/^headers is not valid JSON: /);
    expect(errors.tags).toBe("tags must be a JSON array");
    expect(errors.method).toBe("method must be one of GET, POST");
    expect(errors.extra).toBeUndefined();
  });

  it("accepts valid values, and templates when allowed", () => {
    expect(validateValues(flat, { url: "http://x", retries: 2, headers: { a: "b" }, tags: [1] })).toEqual({});
    expect(validateValues(flat, { url: "x", retries: "{{ event.payload.n }}" }).retries).toBeDefined();
    expect(validateValues(flat, { url: "x", retries: "{{ event.payload.n }}" }, { allowTemplates: true })).toEqual({});
  });

  it("checks JSON Schema required lists and string lengths", () => {
    expect(validateValues(jsonSchema, { reason: "no" })).toEqual({
      approved: "approved is required",
      reason: "reason must be at least 3 characters",
    });
  });

  it("gives the defaults as values", () => {
    expect(defaultValues(flat)).toEqual({ method: "GET", verify: true, headers: {} });
  });
});

function Harness(props: { schema: unknown; initial?: Values; allowTemplates?: boolean; showErrors?: boolean }) {
  const [value, setValue] = useState<Values>(props.initial ?? {});
  const [errors, setErrors] = useState<Errors>({});
  return (
    <>
      <SchemaForm
        schema={props.schema}
        value={value}
        allowTemplates={props.allowTemplates}
        showErrors={props.showErrors}
        onChange={(v, e) => {
          setValue(v);
          setErrors(e);
        }}
      />
      <output data-testid="value">{JSON.stringify(value)}</output>
      <output data-testid="errors">{JSON.stringify(errors)}</output>
    </>
  );
}

afterEach(cleanup);

const valueOf = () => JSON.parse(screen.getByTestId("value").textContent!);

describe("SchemaForm", () => {
  it("renders a control per field, typed by the schema", () => {
    render(<Harness schema={flat} />);
    expect(screen.getByLabelText(/^url/)).toHaveProperty("type", "url");
    expect(screen.getByLabelText(/^method/).tagName).toBe("SELECT");
    expect(screen.getByLabelText(/^verify/)).toHaveProperty("type", "checkbox");
    expect(screen.getByLabelText(/^verify/)).toHaveProperty("checked", true);
    expect(screen.getByLabelText(/^token/)).toHaveProperty("type", "password");
    expect(screen.getByLabelText(/^headers/).tagName).toBe("TEXTAREA");
    expect(screen.getByLabelText(/^method/)).toHaveProperty("value", "");
    expect(screen.getByText("(default: GET)")).toBeTruthy();
  });

  it("turns what the user enters into a typed value", async () => {
    const user = userEvent.setup();
    render(<Harness schema={flat} />);
    await user.type(screen.getByLabelText(/^url/), "https://example.com");
    await user.selectOptions(screen.getByLabelText(/^method/), "POST");
    await user.type(screen.getByLabelText(/^retries/), "3");
    await user.click(screen.getByLabelText(/^verify/));
    fireEvent.change(screen.getByLabelText(/^headers/), { target: { value: '{"X-A": "1"}' } });
    fireEvent.change(screen.getByLabelText(/^tags/), { target: { value: "[1, 2]" } });
    await user.type(screen.getByLabelText(/^token/), "s3cret");
    expect(valueOf()).toEqual({
      url: "https://example.com",
      method: "POST",
      retries: 3,
      verify: false,
      headers: { "X-A": "1" },
      tags: [1, 2],
      token: "s3cret",
    });
    expect(JSON.parse(screen.getByTestId("errors").textContent!)).toEqual({});
  });

  it("shows a parse error naming the field, and keeps the text as typed", async () => {
    render(<Harness schema={flat} />);
    const headers = screen.getByLabelText(/^headers/);
    fireEvent.change(headers, { target: { value: "{not json" } });
    fireEvent.blur(headers);
    expect(headers).toHaveProperty("value", "{not json");
    expect(screen.getByRole("alert").textContent).toMatch(/^headers is not valid JSON/);
  });

  it("shows required errors after a submit attempt and drops cleared fields", async () => {
    const user = userEvent.setup();
    const { rerender } = render(<Harness schema={flat} initial={{ url: "x" }} />);
    expect(screen.queryByRole("alert")).toBeNull();
    await user.clear(screen.getByLabelText(/^url/));
    expect(valueOf()).toEqual({});
    rerender(<Harness schema={flat} showErrors />);
    expect(screen.getAllByRole("alert").map((a) => a.textContent)).toContain("url is required");
  });

  it("reveals a secret on demand", async () => {
    const user = userEvent.setup();
    render(<Harness schema={flat} />);
    await user.click(screen.getByRole("button", { name: "Show token" }));
    expect(screen.getByLabelText(/^token/)).toHaveProperty("type", "text");
  });

  it("keeps enum values typed (integers stay integers) and accepts templates when allowed", async () => {
    const user = userEvent.setup();
    render(<Harness schema={{ ...jsonSchema, properties: { ...jsonSchema.properties, count: { type: "integer" } } }} allowTemplates />);
    await user.selectOptions(screen.getByLabelText(/^level/), "2");
    await user.type(screen.getByLabelText(/^count/), "{{{{ event.payload.n }}");
    expect(valueOf()).toEqual({ level: 2, count: "{{ event.payload.n }}" });
    expect(JSON.parse(screen.getByTestId("errors").textContent!)).toEqual({ approved: "approved is required" });
  });

  it("asks for an explicit choice for a required yes/no without a default", async () => {
    const user = userEvent.setup();
    render(<Harness schema={jsonSchema} />);
    const approved = screen.getByLabelText(/^approved/);
    expect(approved.tagName).toBe("SELECT");
    await user.selectOptions(approved, "false");
    expect(valueOf()).toEqual({ approved: false });
  });

  it("says so when there is nothing to fill in", () => {
    render(<Harness schema={{}} />);
    expect(screen.getByText("No parameters.")).toBeTruthy();
  });
});
