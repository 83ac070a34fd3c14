// Shared queries of the access-control tabs.
import type { Schemas } from "@/api/client";
import { useInfiniteList } from "@/api/lists";

export type Identity = Schemas["Identity"];
export type PermissionSet = Schemas["PermissionSet"];
export type Assignment = Schemas["PermissionAssignment"];

export function useIdentities() {
  return useInfiniteList<Identity>(["identities"], "/api/v1/identities");
}

export function usePermissionSets() {
  return useInfiniteList<PermissionSet>(["permissions", "sets"], "/api/v1/permissions/sets");
}

export function useAssignments(filter: { identity?: number | string; permset?: number | string } = {}) {
  return useInfiniteList<Assignment>(["permissions", "assignments"], "/api/v1/permissions/assignments", filter);
}

/** Invalidate everything these tabs show after a change. */
export const ACCESS_KEYS = [["identities"], ["permissions"], ["profile"]] as const;
