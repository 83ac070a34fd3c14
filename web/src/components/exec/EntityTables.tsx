// Virtualised tables of events and enforcements (list pages and the detail pages that link them).
import type { Schemas } from "@/api/client";
import { type Column, DataTable } from "@/components/DataTable";
import { StatusBadge } from "@/components/ui";
import { relativeTime } from "@/lib/format";

type Event = Schemas["Event"];
type Enforcement = Schemas["Enforcement"];

const when = (iso: string) => (
  <time dateTime={iso} title={new Date(iso).toLocaleString()}>
    {relativeTime(iso)}
  </time>
);

const EVENT_COLUMNS: Column<Event>[] = [
  { key: "id", header: "ID", width: "5.5rem", cell: (r) => <span className="font-mono">#{r.id}</span> },
  { key: "trigger", header: "Trigger", width: "minmax(12rem, 2fr)", cell: (r) => <span className="truncate font-medium text-indigo-700 dark:text-indigo-300">{r.trigger_ref}</span> },
  { key: "source", header: "Source", width: "minmax(8rem, 1fr)", cell: (r) => <span className="truncate">{r.source_ref ?? "API"}</span> },
  { key: "rule", header: "For rule", width: "minmax(8rem, 1fr)", cell: (r) => <span className="truncate">{r.rule_ref ?? "any matching"}</span> },
  { key: "payload", header: "Payload", width: "6rem", cell: (r) => (r.has_payload ? "yes" : "—") },
  { key: "created", header: "Received", width: "8rem", cell: (r) => when(r.created) },
];

const ENFORCEMENT_COLUMNS: Column<Enforcement>[] = [
  { key: "id", header: "ID", width: "5.5rem", cell: (r) => <span className="font-mono">#{r.id}</span> },
  { key: "status", header: "Status", width: "7rem", cell: (r) => <StatusBadge status={r.status} /> },
  { key: "rule", header: "Rule", width: "minmax(12rem, 2fr)", cell: (r) => <span className="truncate font-medium text-indigo-700 dark:text-indigo-300">{r.rule_ref}</span> },
  { key: "trigger", header: "Trigger", width: "minmax(10rem, 1.5fr)", cell: (r) => <span className="truncate">{r.trigger_ref}</span> },
  { key: "event", header: "Event", width: "6rem", cell: (r) => (r.event ? <span className="font-mono">#{r.event}</span> : "—") },
  { key: "created", header: "Created", width: "8rem", cell: (r) => when(r.created) },
];

export function EventTable(props: { rows: Event[]; label: string; empty?: React.ReactNode; onEndReached?: () => void; maxHeight?: string }) {
  return <DataTable {...props} columns={EVENT_COLUMNS} rowKey={(r) => r.id} rowHref={(r) => `/events/${r.id}`} />;
}

export function EnforcementTable(props: { rows: Enforcement[]; label: string; empty?: React.ReactNode; onEndReached?: () => void; maxHeight?: string }) {
  return <DataTable {...props} columns={ENFORCEMENT_COLUMNS} rowKey={(r) => r.id} rowHref={(r) => `/enforcements/${r.id}`} />;
}
