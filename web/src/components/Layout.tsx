// The signed-in frame: a sidebar with every section, a top bar (live status, theme, user),
// and the routed page. On narrow screens the sidebar folds into a menu button.
import {
  Activity, BellRing, Boxes, Cpu, FileBox, Gauge, KeyRound, LogOut, Menu, Moon, Package, PlayCircle,
  Radio, Server, Shield, Sun, Workflow, Zap, ListChecks, MessageSquareQuote, User,
} from "lucide-react";
import { Suspense, useState } from "react";
import { Link, NavLink, Outlet, useNavigate } from "react-router";
import { useAuth } from "@/lib/auth";
import { useLiveConnection, useLiveStatus } from "@/lib/live";
import { useTheme } from "@/lib/theme";
import { Loading } from "./states";
import { cx } from "./ui";

export const NAV = [
  { to: "/", label: "Dashboard", icon: Gauge, end: true },
  { to: "/executions", label: "Executions", icon: PlayCircle },
  { to: "/actions", label: "Actions", icon: Zap },
  { to: "/rules", label: "Rules", icon: ListChecks },
  { to: "/triggers", label: "Triggers", icon: BellRing },
  { to: "/events", label: "Events", icon: Activity },
  { to: "/enforcements", label: "Enforcements", icon: Workflow },
  { to: "/sensors", label: "Sensors", icon: Radio },
  { to: "/inquiries", label: "Inquiries", icon: MessageSquareQuote },
  { to: "/packs", label: "Packs", icon: Package },
  { to: "/keys", label: "Keys", icon: KeyRound },
  { to: "/artifacts", label: "Artifacts", icon: FileBox },
  { to: "/runtimes", label: "Runtimes", icon: Boxes },
  { to: "/workers", label: "Workers", icon: Server },
  { to: "/access", label: "Access control", icon: Shield },
] as const;

export function Layout() {
  useLiveConnection();
  const [menuOpen, setMenuOpen] = useState(false);
  const connected = useLiveStatus((s) => s.connected);
  const { theme, toggle } = useTheme();
  const user = useAuth((s) => s.user);
  const signOut = useAuth((s) => s.signOut);
  const navigate = useNavigate();

  return (
    <div className="flex min-h-screen">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:p-2">
        Skip to content
      </a>
      <nav
        aria-label="Main"
        className={cx(
          "fixed inset-y-0 left-0 z-30 w-56 shrink-0 overflow-y-auto border-r border-slate-200 bg-slate-50 p-3 dark:border-slate-800 dark:bg-slate-900 lg:static lg:block",
          menuOpen ? "block" : "hidden",
        )}
      >
        <Link to="/" className="mb-4 flex items-center gap-2 px-2 py-1 text-lg font-bold text-indigo-600 dark:text-indigo-400" onClick={() => setMenuOpen(false)}>
          <Cpu className="h-5 w-5" aria-hidden /> Attune
        </Link>
        <ul className="space-y-0.5">
          {NAV.map((item) => (
            <li key={item.to}>
              <NavLink
                to={item.to}
                end={"end" in item}
                onClick={() => setMenuOpen(false)}
                className={({ isActive }) =>
                  cx(
                    "flex items-center gap-2 rounded-md px-2 py-1.5 text-sm",
                    isActive
                      ? "bg-indigo-100 font-medium text-indigo-800 dark:bg-indigo-900/50 dark:text-indigo-200"
                      : "text-slate-700 hover:bg-slate-200 dark:text-slate-300 dark:hover:bg-slate-800",
                  )
                }
              >
                <item.icon className="h-4 w-4" aria-hidden /> {item.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex h-12 items-center justify-between gap-2 border-b border-slate-200 px-4 dark:border-slate-800">
          <button className="rounded p-1.5 lg:hidden" aria-label="Open menu" aria-expanded={menuOpen} onClick={() => setMenuOpen(!menuOpen)}>
            <Menu className="h-5 w-5" aria-hidden />
          </button>
          <div className="flex-1" />
          <span
            className="flex items-center gap-1.5 text-xs text-slate-500"
            title={connected ? "Live updates connected" : "Live updates disconnected; reconnecting"}
            data-testid="live-status"
            data-connected={connected}
          >
            <span className={cx("h-2 w-2 rounded-full", connected ? "bg-green-500" : "bg-slate-400")} aria-hidden />
            {connected ? "live" : "offline"}
          </span>
          <button className="rounded p-1.5 hover:bg-slate-100 dark:hover:bg-slate-800" aria-label={theme === "dark" ? "Switch to light mode" : "Switch to dark mode"} onClick={toggle}>
            {theme === "dark" ? <Sun className="h-4 w-4" aria-hidden /> : <Moon className="h-4 w-4" aria-hidden />}
          </button>
          <Link to="/profile" className="flex items-center gap-1 rounded px-2 py-1 text-sm hover:bg-slate-100 dark:hover:bg-slate-800">
            <User className="h-4 w-4" aria-hidden /> {user?.display_name || user?.login}
          </Link>
          <button
            className="flex items-center gap-1 rounded px-2 py-1 text-sm hover:bg-slate-100 dark:hover:bg-slate-800"
            onClick={() => {
              signOut();
              navigate("/login");
            }}
          >
            <LogOut className="h-4 w-4" aria-hidden /> Sign out
          </button>
        </header>
        <main id="main" className="min-w-0 flex-1 p-4 lg:p-6">
          <Suspense fallback={<Loading />}>
            <Outlet />
          </Suspense>
        </main>
      </div>
    </div>
  );
}
