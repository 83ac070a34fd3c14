// Inquiries: questions workflows ask people (core.ask); filter by status (in the URL),
// pending ones first by default.
import type { Schemas } from "@/api/client";
import { DataTable } from "@/components/DataTable";
import { ErrorState, Empty, Loading } from "@/components/states";
import { PageHeader, Select, StatusBadge } from "@/components/ui";
import { SearchBox, filterRows, useAllRows, useQueryParam } from "@/components/catalog";
import { dateTime, relativeTime } from "@/lib/format";

type Inquiry = Schemas["Inquiry"];

export const STATUSES = ["pending", "responded", "timeout", "cancelled"];

export default function InquiryList() {
  const [status, setStatus] = useQueryParam("status");
  const [q] = useQueryParam("q");
  const list = useAllRows<Inquiry>(["inquiries"], "/api/v1/inquiries", { status: status || undefined });
  const rows = filterRows(list.rows, q, (i) => [i.prompt, String(i.id), String(i.execution)]).sort((a, b) => b.id - a.id);
  return (
    <div>
      <PageHeader title="Inquiries" subtitle="Questions that workflows wait on until someone answers." />
      <div className="mb-3 flex flex-wrap items-center gap-2">
        <SearchBox label="Search inquiries" />
        <div className="w-44">
          <Select aria-label="Status" value={status} onChange={(e) => setStatus(e.target.value, true)}>
            <option value="">All statuses</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </Select>
        </div>
      </div>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorState error={list.error} retry={() => list.refetch()} />
      ) : (
        <DataTable
          label="Inquiries"
          rows={rows}
          rowKey={(i) => i.id}
          rowHref={(i) => `/inquiries/${i.id}`}
          empty={<Empty title={status || q ? "No inquiry matches." : "No inquiries yet."}>{!status && !q && "Workflows create them with core.ask."}</Empty>}
          columns={[
            { key: "id", header: "#", width: "4.5rem", cell: (i) => i.id },
            { key: "prompt", header: "Question", width: "minmax(14rem, 3fr)", cell: (i) => <span className="truncate font-medium">{i.prompt}</span> },
            { key: "status", header: "Status", width: "7rem", cell: (i) => <StatusBadge status={i.status} /> },
            { key: "execution", header: "Execution", width: "7rem", cell: (i) => <span className="text-indigo-700 dark:text-indigo-300">#{i.execution}</span> },
            { key: "timeout", header: "Times out", width: "10rem", cell: (i) => (i.timeout_at ? <span title={dateTime(i.timeout_at)}>{dateTime(i.timeout_at)}</span> : "never") },
            { key: "created", header: "Asked", width: "8rem", cell: (i) => relativeTime(i.created) },
          ]}
        />
      )}
    </div>
  );
}

