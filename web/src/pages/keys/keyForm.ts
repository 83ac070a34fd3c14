// Key form <-> API bodies: values are JSON (a number, an object...) when they parse as JSON
// and "as JSON" is ticked; otherwise the text itself.
import type { Schemas } from "@/api/client";

export type OwnerType = NonNullable<Schemas["KeyCreate"]["owner_type"]>;
export const OWNER_TYPES: OwnerType[] = ["system", "identity", "pack", "action", "sensor"];

export interface KeyFormValues {
  ref: string;
  value: string;
  asJson: boolean;
  encrypted: boolean;
  ownerType: OwnerType;
  owner: string;
}

export const EMPTY_KEY: KeyFormValues = {
  ref: "",
  value: "",
  asJson: false,
  encrypted: false,
  ownerType: "system",
  owner: "",
};

/** The value to send: parsed JSON when asked for; throws a readable error for bad JSON. */
export function parseValue(text: string, asJson: boolean): unknown {
  if (!asJson) return text;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`The value is not valid JSON: ${(e as Error).message}`);
  }
}

/** Show a key's value in a text field: strings as they are, anything else as JSON. */
export function valueText(value: unknown): { text: string; asJson: boolean } {
  if (typeof value === "string") return { text: value, asJson: false };
  return { text: JSON.stringify(value, null, 2), asJson: true };
}

/** Problems with the form, by field (empty when it can be sent). */
export function validateKey(form: KeyFormValues): Partial<Record<keyof KeyFormValues, string>> {
  const problems: Partial<Record<keyof KeyFormValues, string>> = {};
  if (!/^[a-z0-9_][a-z0-9_.-]*$/.test(form.ref))
    problems.ref = "Lowercase letters, digits, '_', '-' and '.', e.g. mypack.api_token";
  if (form.ownerType !== "system" && !form.owner.trim())
    problems.owner = form.ownerType === "identity" ? "The identity's id" : `The ${form.ownerType}'s ref`;
  if (form.ownerType === "identity" && form.owner.trim() && !/^\d+$/.test(form.owner.trim()))
    problems.owner = "An identity is named by its numeric id";
  if (form.asJson) {
    try {
      JSON.parse(form.value);
    } catch (e) {
      problems.value = `Not valid JSON: ${(e as Error).message}`;
    }
  }
  return problems;
}

/** POST /api/v1/keys body. The name is the ref's last dotted part (as the CLI does). */
export function createBody(form: KeyFormValues): Schemas["KeyCreate"] {
  const body: Schemas["KeyCreate"] = {
    ref: form.ref,
    name: form.ref.split(".").at(-1) || form.ref,
    value: parseValue(form.value, form.asJson),
    encrypted: form.encrypted,
    owner_type: form.ownerType,
  };
  const owner = form.owner.trim();
  if (form.ownerType === "identity") body.owner_identity = Number(owner);
  if (form.ownerType === "pack") body.owner_pack_ref = owner;
  if (form.ownerType === "action") body.owner_action_ref = owner;
  if (form.ownerType === "sensor") body.owner_sensor_ref = owner;
  return body;
}

/** PUT /api/v1/keys/{ref} body. */
export function updateBody(form: KeyFormValues): Schemas["KeyUpdate"] {
  return { value: parseValue(form.value, form.asJson), encrypted: form.encrypted };
}

/** A key's owner for display: "pack core", "identity 3", "system". */
export function ownerLabel(key: Pick<Schemas["Key"], "owner_type" | "owner">): string {
  return key.owner_type === "system" || !key.owner ? key.owner_type : `${key.owner_type} ${key.owner}`;
}

/** "1 key", "3 keys". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
