// Every view has its own URL (shareable, the back button works) and its own code chunk.
import { lazy } from "react";
import { createBrowserRouter, Navigate, Outlet, useLocation } from "react-router";
import { Layout } from "@/components/Layout";
import { ErrorState } from "@/components/states";
import { useAuth } from "@/lib/auth";
import Login from "@/pages/auth/Login";

const page = (load: () => Promise<{ default: React.ComponentType }>) => {
  const Component = lazy(load);
  return <Component />;
};

function RequireAuth() {
  const signedIn = useAuth((s) => Boolean(s.accessToken));
  const location = useLocation();
  if (!signedIn) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?next=${next}`} replace />;
  }
  return <Outlet />;
}

function NotFound() {
  return <ErrorState error={new Error("This page does not exist.")} />;
}

export const router = createBrowserRouter([
  { path: "/login", element: <Login /> },
  {
    element: <RequireAuth />,
    children: [
      {
        element: <Layout />,
        errorElement: <ErrorState error={new Error("Something went wrong on this page.")} />,
        children: [
          { index: true, element: page(() => import("@/pages/dashboard/Dashboard")) },
          { path: "executions", element: page(() => import("@/pages/executions/ExecutionList")) },
          { path: "executions/:id", element: page(() => import("@/pages/executions/ExecutionDetail")) },
          { path: "actions", element: page(() => import("@/pages/actions/ActionList")) },
          { path: "actions/workflows/new", element: page(() => import("@/pages/workflows/WorkflowBuilder")) },
          { path: "actions/workflows/:ref/edit", element: page(() => import("@/pages/workflows/WorkflowBuilder")) },
          { path: "actions/:ref", element: page(() => import("@/pages/actions/ActionDetail")) },
          { path: "rules", element: page(() => import("@/pages/rules/RuleList")) },
          { path: "rules/new", element: page(() => import("@/pages/rules/RuleEdit")) },
          { path: "rules/:ref", element: page(() => import("@/pages/rules/RuleDetail")) },
          { path: "rules/:ref/edit", element: page(() => import("@/pages/rules/RuleEdit")) },
          { path: "triggers", element: page(() => import("@/pages/triggers/TriggerList")) },
          { path: "triggers/new", element: page(() => import("@/pages/triggers/TriggerCreate")) },
          { path: "triggers/:ref", element: page(() => import("@/pages/triggers/TriggerDetail")) },
          { path: "events", element: page(() => import("@/pages/events/EventList")) },
          { path: "events/:id", element: page(() => import("@/pages/events/EventDetail")) },
          { path: "enforcements", element: page(() => import("@/pages/enforcements/EnforcementList")) },
          { path: "enforcements/:id", element: page(() => import("@/pages/enforcements/EnforcementDetail")) },
          { path: "sensors", element: page(() => import("@/pages/sensors/SensorList")) },
          { path: "sensors/:ref", element: page(() => import("@/pages/sensors/SensorDetail")) },
          { path: "inquiries", element: page(() => import("@/pages/inquiries/InquiryList")) },
          { path: "inquiries/:id", element: page(() => import("@/pages/inquiries/InquiryDetail")) },
          { path: "packs", element: page(() => import("@/pages/packs/PackList")) },
          { path: "packs/:ref", element: page(() => import("@/pages/packs/PackDetail")) },
          { path: "keys", element: page(() => import("@/pages/keys/KeyList")) },
          { path: "artifacts", element: page(() => import("@/pages/artifacts/ArtifactList")) },
          { path: "artifacts/:id", element: page(() => import("@/pages/artifacts/ArtifactDetail")) },
          { path: "runtimes", element: page(() => import("@/pages/runtimes/RuntimeList")) },
          { path: "runtimes/:ref", element: page(() => import("@/pages/runtimes/RuntimeDetail")) },
          { path: "workers", element: page(() => import("@/pages/workers/WorkerList")) },
          { path: "access", element: <Navigate to="/access/identities" replace /> },
          { path: "access/:tab", element: page(() => import("@/pages/access/AccessControl")) },
          { path: "profile", element: page(() => import("@/pages/profile/Profile")) },
          { path: "*", element: <NotFound /> },
        ],
      },
    ],
  },
]);
