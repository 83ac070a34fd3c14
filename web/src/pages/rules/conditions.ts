// A rule's conditions as the editor sees them: none (match every event), an expression, or a
// list of {field, operator, value} criteria (ANDed), and back to what the API stores.

export const OPERATORS = [
  "equals", "nequals", "iequals", "contains", "icontains", "ncontains", "incontains",
  "startswith", "istartswith", "endswith", "iendswith", "lessthan", "greaterthan",
  "matchwildcard", "matchregex", "regex", "iregex", "exists", "nexists", "inside", "ninside",
  "timediff_lt", "timediff_gt", "search",
] as const;

/** Operators that take no value. */
export const NO_VALUE = new Set(["exists", "nexists"]);

export interface Criterion {
  field: string;
  operator: string;
  /** As typed: JSON (number, true, ["a"]) is sent parsed, anything else as text. */
  value: string;
}

export type ConditionMode = "none" | "expression" | "criteria";

export interface ConditionState {
  mode: ConditionMode;
  expression: string;
  criteria: Criterion[];
}

const text = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

/** The editor's state for stored conditions (any of the forms the engine reads). */
export function fromConditions(conditions: unknown): ConditionState {
  const empty: ConditionState = { mode: "none", expression: "", criteria: [] };
  if (conditions === null || conditions === undefined) return empty;
  if (typeof conditions === "string") return conditions.trim() ? { ...empty, mode: "expression", expression: conditions } : empty;
  if (Array.isArray(conditions)) {
    if (conditions.length === 0) return empty;
    return {
      ...empty,
      mode: "criteria",
      criteria: conditions.map((c: Record<string, unknown>) => ({
        field: String(c.field ?? ""),
        operator: String(c.operator ?? c.type ?? "equals"),
        value: "value" in c || "pattern" in c ? text(c.value ?? c.pattern) : "",
      })),
    };
  }
  if (typeof conditions === "object") {
    const map = conditions as Record<string, unknown>;
    if (Object.keys(map).length === 0) return empty;
    if (typeof map.expression === "string") return { ...empty, mode: "expression", expression: map.expression };
    if (map.criteria !== undefined) return fromConditions(map.criteria);
    // StackStorm mapping form {"payload.x": {"type": "equals", "pattern": 1}}
    return {
      ...empty,
      mode: "criteria",
      criteria: Object.entries(map).map(([field, spec]) => {
        const s = (spec ?? {}) as Record<string, unknown>;
        return { field, operator: String(s.type ?? s.operator ?? "equals"), value: "pattern" in s || "value" in s ? text(s.pattern ?? s.value) : "" };
      }),
    };
  }
  return empty;
}

/** A criterion's value as sent: parsed JSON when it is JSON, else the text. */
export function parseValue(value: string): unknown {
  const trimmed = value.trim();
  if (trimmed === "") return "";
  try {
    return JSON.parse(trimmed);
  } catch {
    return value;
  }
}

/** What the API stores for the editor's state. */
export function toConditions(state: ConditionState): unknown {
  if (state.mode === "expression") return state.expression.trim() ? { expression: state.expression.trim() } : {};
  if (state.mode === "criteria") {
    return state.criteria
      .filter((c) => c.field.trim())
      .map((c) => (NO_VALUE.has(c.operator) ? { field: c.field.trim(), operator: c.operator } : { field: c.field.trim(), operator: c.operator, value: parseValue(c.value) }));
  }
  return {};
}

/**
 * Problems the browser can see at once (the server's check through /rules/validate is the
 * authority): unbalanced brackets or quotes, an empty expression, a criterion without a field.
 */
export function localProblems(state: ConditionState): string[] {
  const problems: string[] = [];
  if (state.mode === "expression") {
    const expr = state.expression.trim();
    if (!expr) problems.push("The expression is empty.");
    const stack: string[] = [];
    const pairs: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
    let quote: string | null = null;
    for (let i = 0; i < expr.length; i++) {
      const ch = expr[i];
      if (quote) {
        if (ch === "\\") i++;
        else if (ch === quote) quote = null;
        continue;
      }
      if (ch === '"' || ch === "'") quote = ch;
      else if (ch === "(" || ch === "[" || ch === "{") stack.push(ch);
      else if (ch in pairs) {
        if (stack.pop() !== pairs[ch]) {
          problems.push(`Unbalanced "${ch}" at character ${i + 1}.`);
          break;
        }
      }
    }
    if (quote) problems.push(`Unclosed ${quote} quote.`);
    else if (stack.length && problems.length === 0) problems.push(`Unclosed "${stack.at(-1)}".`);
  }
  if (state.mode === "criteria") {
    state.criteria.forEach((c, i) => {
      if (!c.field.trim()) problems.push(`Condition ${i + 1} has no field.`);
    });
  }
  return problems;
}
