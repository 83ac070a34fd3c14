// The logic behind SchemaForm, kept free of React so it is easy to test: read a parameter
// schema (our flat `{name: {type, required, secret, ...}}` flavour or JSON Schema `{type: object,
// properties, required: [...]}`), turn values into the text the inputs show and back, and
// validate values with messages that name the field.

export type FieldType = "string" | "integer" | "number" | "boolean" | "array" | "object" | "any";

export interface FieldSpec {
  name: string;
  type: FieldType;
  required: boolean;
  secret: boolean;
  description?: string;
  default?: unknown;
  hasDefault: boolean;
  enum?: unknown[];
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  multiline: boolean;
  /** The spec as written, for anything else a caller wants to read. */
  raw: Record<string, unknown>;
}

export type Values = Record<string, unknown>;
export type Errors = Record<string, string>;

export interface ValidateOptions {
  /** Strings containing `{{` are Jinja templates rendered later (rule/workflow params): not type-checked. */
  allowTemplates?: boolean;
}

const TYPES = new Set<FieldType>(["string", "integer", "number", "boolean", "array", "object", "any"]);
const SPEC_KEYS = new Set(["type", "required", "secret", "default", "description", "enum"]);

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Same test as the server's `is_legacy_schema`: is this JSON-Schema shaped rather than flat? */
export function isJsonSchema(schema: unknown): boolean {
  if (!isMap(schema)) return false;
  if (typeof schema.type === "string" || Array.isArray(schema.required) || "$schema" in schema) return true;
  const props = schema.properties;
  return (
    isMap(props) &&
    Object.keys(props).length > 0 &&
    Object.values(props).every(isMap) &&
    !Object.keys(props).some((k) => SPEC_KEYS.has(k))
  );
}

function fieldType(spec: Record<string, unknown>): FieldType {
  let type = spec.type;
  // ["string", "null"] style unions: take the first non-null type.
  if (Array.isArray(type)) type = type.find((t) => t !== "null");
  if (typeof type === "string" && TYPES.has(type as FieldType)) return type as FieldType;
  if (Array.isArray(spec.enum) && spec.enum.length > 0) {
    const first = spec.enum[0];
    if (typeof first === "number") return Number.isInteger(first) ? "integer" : "number";
    if (typeof first === "boolean") return "boolean";
    return "string";
  }
  if (isMap(spec.properties)) return "object";
  if (spec.items !== undefined) return "array";
  return type === undefined ? "string" : "any";
}

const num = (v: unknown) => (typeof v === "number" ? v : undefined);

/** The fields of a schema in display order (`position` first when given, then as written). */
export function parseSchema(schema: unknown): FieldSpec[] {
  if (!isMap(schema)) return [];
  let entries: [string, unknown][];
  let requiredList: string[] = [];
  if (isJsonSchema(schema)) {
    entries = Object.entries(isMap(schema.properties) ? schema.properties : {});
    requiredList = Array.isArray(schema.required) ? schema.required.map(String) : [];
  } else {
    entries = Object.entries(schema);
  }
  const fields: (FieldSpec & { position: number; order: number })[] = [];
  entries.forEach(([name, value], order) => {
    if (!isMap(value)) return;
    const spec = value;
    const type = fieldType(spec);
    fields.push({
      name,
      type,
      required: spec.required === true || requiredList.includes(name),
      secret: spec.secret === true || spec.format === "password",
      description: typeof spec.description === "string" ? spec.description : undefined,
      default: spec.default,
      hasDefault: spec.default !== undefined,
      enum: Array.isArray(spec.enum) ? spec.enum : undefined,
      format: typeof spec.format === "string" ? spec.format : undefined,
      minimum: num(spec.minimum),
      maximum: num(spec.maximum),
      minLength: num(spec.minLength),
      maxLength: num(spec.maxLength),
      pattern: typeof spec.pattern === "string" ? spec.pattern : undefined,
      multiline: spec.multiline === true || spec.format === "textarea" || spec.format === "multiline",
      raw: spec,
      position: typeof spec.position === "number" ? spec.position : Number.MAX_SAFE_INTEGER,
      order,
    });
  });
  fields.sort((a, b) => a.position - b.position || a.order - b.order);
  return fields.map(({ position: _p, order: _o, ...field }) => field);
}

export const isTemplate = (value: unknown): value is string => typeof value === "string" && value.includes("{{");

/** How a JSON field shows a value: pretty JSON, or the raw text when it is not valid JSON yet. */
export function toJsonText(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") {
    try {
      JSON.parse(value);
      return JSON.stringify(value);
    } catch {
      return value; // text the user typed that does not parse (or a template): show it as is
    }
  }
  return JSON.stringify(value, null, 2);
}

/** The text an input shows for a value (booleans and enums are not text inputs). */
export function toText(field: FieldSpec, value: unknown): string {
  if (value === undefined || value === null) return "";
  if (field.type === "array" || field.type === "object" || field.type === "any") return toJsonText(value);
  return String(value);
}

/**
 * The value for what the user typed; `undefined` means "not given" (the server applies the
 * default). Text that does not parse is kept as text so validation can name the problem.
 */
export function fromText(field: FieldSpec, text: string): unknown {
  const trimmed = text.trim();
  switch (field.type) {
    case "string":
      return text === "" ? undefined : text;
    case "integer":
    case "number": {
      if (trimmed === "") return undefined;
      const n = Number(trimmed);
      return Number.isFinite(n) && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed) ? n : text;
    }
    case "boolean":
      return trimmed === "true" ? true : trimmed === "false" ? false : trimmed === "" ? undefined : text;
    default: {
      if (trimmed === "") return undefined;
      try {
        return JSON.parse(trimmed);
      } catch {
        return text;
      }
    }
  }
}

function jsonError(text: string): string | null {
  try {
    JSON.parse(text);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** The problem with one field's value, or null. Messages start with the field's name. */
export function validateField(field: FieldSpec, value: unknown, options: ValidateOptions = {}): string | null {
  const name = field.name;
  if (value === undefined || value === null || value === "") {
    return field.required && !field.hasDefault ? `${name} is required` : null;
  }
  if (options.allowTemplates && isTemplate(value)) return null;
  switch (field.type) {
    case "string":
      if (typeof value !== "string") return `${name} must be a string`;
      break;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) return `${name} must be a whole number`;
      break;
    case "number":
      if (typeof value !== "number") return `${name} must be a number`;
      break;
    case "boolean":
      if (typeof value !== "boolean") return `${name} must be true or false`;
      break;
    case "array":
    case "object": {
      const want = field.type === "array" ? "a JSON array" : "a JSON object";
      if (typeof value === "string") {
        const problem = jsonError(value);
        return problem ? `${name} is not valid JSON: ${problem}` : `${name} must be ${want}`;
      }
      if (typeOf(value) !== field.type) return `${name} must be ${want}`;
      break;
    }
    case "any":
      break;
  }
  if (field.enum && !field.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    return `${name} must be one of ${field.enum.map((e) => String(e)).join(", ")}`;
  }
  if (typeof value === "number") {
    if (field.minimum !== undefined && value < field.minimum) return `${name} must be at least ${field.minimum}`;
    if (field.maximum !== undefined && value > field.maximum) return `${name} must be at most ${field.maximum}`;
  }
  if (typeof value === "string") {
    if (field.minLength !== undefined && value.length < field.minLength)
      return `${name} must be at least ${field.minLength} characters`;
    if (field.maxLength !== undefined && value.length > field.maxLength)
      return `${name} must be at most ${field.maxLength} characters`;
    if (field.pattern) {
      try {
        if (!new RegExp(field.pattern).test(value)) return `${name} must match ${field.pattern}`;
      } catch {
        // an invalid pattern in the schema is the server's to report
      }
    }
  }
  return null;
}

/** Every field's problem, keyed by field name; an empty object means the values are valid. */
export function validateValues(schema: unknown, values: Values, options: ValidateOptions = {}): Errors {
  const errors: Errors = {};
  for (const field of parseSchema(schema)) {
    const problem = validateField(field, values[field.name], options);
    if (problem) errors[field.name] = problem;
  }
  return errors;
}

/** The schema's defaults as values (for forms that start from them rather than show them as hints). */
export function defaultValues(schema: unknown): Values {
  const values: Values = {};
  for (const field of parseSchema(schema)) if (field.hasDefault) values[field.name] = field.default;
  return values;
}

/** `values` without the keys that are not given (undefined), ready to send. */
export function compact(values: Values): Values {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}
