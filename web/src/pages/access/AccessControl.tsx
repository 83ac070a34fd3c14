// Access control at /access/:tab: identities, permission sets (roles and their grants) and
// assignments (who holds which set). Each tab and its selection has its own URL.
import { Navigate, NavLink, useParams } from "react-router";
import { PageHeader, cx } from "@/components/ui";
import { Assignments } from "./Assignments";
import { Identities } from "./Identities";
import { PermissionSets } from "./PermissionSets";

const TABS = [
  { id: "identities", label: "Identities", render: () => <Identities /> },
  { id: "permission-sets", label: "Permission sets", render: () => <PermissionSets /> },
  { id: "assignments", label: "Assignments", render: () => <Assignments /> },
] as const;

export default function AccessControl() {
  const { tab } = useParams();
  const current = TABS.find((t) => t.id === tab);
  if (!current) return <Navigate to="/access/identities" replace />;
  return (
    <div>
      <PageHeader title="Access control" subtitle="Who can sign in, and what their roles (permission sets) allow." />
      <nav aria-label="Access control" className="mb-4 flex gap-1 border-b border-slate-200 dark:border-slate-800">
        {TABS.map((t) => (
          <NavLink
            key={t.id}
            to={`/access/${t.id}`}
            className={({ isActive }) =>
              cx(
                "-mb-px border-b-2 px-3 py-2 text-sm",
                isActive
                  ? "border-indigo-600 font-medium text-indigo-700 dark:text-indigo-300"
                  : "border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-slate-100",
              )
            }
          >
            {t.label}
          </NavLink>
        ))}
      </nav>
      {current.render()}
    </div>
  );
}
