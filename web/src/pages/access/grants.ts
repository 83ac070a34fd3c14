// Grants of a permission set: {resource, operations, pack?}. "*" means every resource or
// every operation. The editor works on rows; these helpers keep them valid and readable.
export const RESOURCES = [
  "*", "pack", "runtime", "worker", "action", "trigger", "sensor", "rule", "event", "enforcement",
  "execution", "workflow", "inquiry", "key", "artifact", "history", "analytics", "identity", "permission",
] as const;
export const OPERATIONS = ["*", "read", "create", "update", "delete", "execute", "respond"] as const;

export interface Grant {
  resource: string;
  operations: string[];
  pack?: string | null;
}

/** Read the API's loose grant objects into editor rows. */
export function toGrants(raw: Record<string, unknown>[]): Grant[] {
  return raw.map((g) => ({
    resource: String(g.resource ?? ""),
    operations: Array.isArray(g.operations) ? g.operations.map(String) : [],
    pack: typeof g.pack === "string" ? g.pack : null,
  }));
}

/** Editor rows to the API's shape (no empty pack). */
export function fromGrants(grants: Grant[]): Record<string, unknown>[] {
  return grants.map((g) => (g.pack ? { resource: g.resource, operations: g.operations, pack: g.pack } : { resource: g.resource, operations: g.operations }));
}

/** Tick or untick an operation; "*" stands alone (ticking it clears the others and back). */
export function toggleOperation(operations: string[], op: string, on: boolean): string[] {
  if (op === "*") return on ? ["*"] : [];
  const rest = operations.filter((o) => o !== "*" && o !== op);
  const next = on ? [...rest, op] : rest;
  return OPERATIONS.filter((o) => next.includes(o));
}

/** Problems by row index (the server checks the same). */
export function grantProblems(grants: Grant[]): string[] {
  const problems: string[] = [];
  grants.forEach((g, i) => {
    if (!(RESOURCES as readonly string[]).includes(g.resource)) problems.push(`Grant ${i + 1}: choose a resource.`);
    if (g.operations.length === 0) problems.push(`Grant ${i + 1}: tick at least one operation.`);
    if (g.pack && !/^[a-z][a-z0-9_-]+$/.test(g.pack)) problems.push(`Grant ${i + 1}: "${g.pack}" is not a pack ref.`);
  });
  return problems;
}

/** "everything", "read on key", "read, execute on action in pack core". */
export function grantText(g: Grant): string {
  const ops = g.operations.includes("*") ? "all operations" : g.operations.join(", ");
  if (g.resource === "*" && g.operations.includes("*") && !g.pack) return "everything";
  const what = g.resource === "*" ? "every resource" : g.resource;
  return `${ops} on ${what}${g.pack ? ` in pack ${g.pack}` : ""}`;
}
