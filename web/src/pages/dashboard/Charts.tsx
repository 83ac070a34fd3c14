// The dashboard's charts (recharts, in their own lazily loaded chunk so the first page stays small).
import { useNavigate } from "react-router";
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  Legend,
  Pie,
  PieChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { Schemas } from "@/api/client";
import { bucketLabel, type TimelinePoint } from "./series";

export const STATUS_COLORS: Record<string, string> = {
  completed: "#16a34a",
  succeeded: "#16a34a",
  failed: "#dc2626",
  timeout: "#b91c1c",
  abandoned: "#7f1d1d",
  running: "#2563eb",
  scheduled: "#60a5fa",
  scheduling: "#93c5fd",
  requested: "#94a3b8",
  canceling: "#f59e0b",
  cancelled: "#64748b",
  idle: "#16a34a",
  active: "#16a34a",
  busy: "#f59e0b",
  inactive: "#64748b",
  error: "#dc2626",
};
const color = (status: string) => STATUS_COLORS[status] ?? "#6366f1";

const AXIS = { stroke: "#94a3b8", fontSize: 11 };
const TOOLTIP = {
  contentStyle: { background: "rgb(15 23 42 / 0.92)", border: "none", borderRadius: 6, color: "#f1f5f9", fontSize: 12 },
  itemStyle: { color: "#f1f5f9" },
  labelStyle: { color: "#cbd5e1" },
};

/** Executions by status as bars; a bar opens the executions list filtered by that status. */
export function StatusChart({ points }: { points: Schemas["Point"][] }) {
  const navigate = useNavigate();
  return (
    <ResponsiveContainer width="100%" height={220}>
      <BarChart data={points} margin={{ top: 8, right: 8, left: -16, bottom: 0 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="#94a3b8" strokeOpacity={0.25} vertical={false} />
        <XAxis dataKey="bucket" tick={AXIS} stroke={AXIS.stroke} />
        <YAxis allowDecimals={false} tick={AXIS} stroke={AXIS.stroke} />
        <Tooltip {...TOOLTIP} cursor={{ fill: "#94a3b8", fillOpacity: 0.15 }} />
        <Bar
          dataKey="value"
          name="executions"
          isAnimationActive={false}
          cursor="pointer"
          onClick={(entry: { payload?: Schemas["Point"] }) => entry.payload && navigate(`/executions?status=${entry.payload.bucket}`)}
        >
          {points.map((p) => (
            <Cell key={p.bucket} fill={color(p.bucket)} />
          ))}
        </Bar>
      </BarChart>
    </ResponsiveContainer>
  );
}

/** Executions, events and enforcements per bucket over the range. */
export function ThroughputChart({ points, stepHours }: { points: TimelinePoint[]; stepHours: number }) {
  return (
    <ResponsiveContainer width="100%" height={240}>
      <AreaChart data={points} margin={{ top: 8, right: 8, left: -16, bottom: 0 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="#94a3b8" strokeOpacity={0.25} vertical={false} />
        <XAxis dataKey="t" tickFormatter={(t: number) => bucketLabel(t, stepHours)} tick={AXIS} stroke={AXIS.stroke} minTickGap={24} />
        <YAxis allowDecimals={false} tick={AXIS} stroke={AXIS.stroke} />
        <Tooltip {...TOOLTIP} labelFormatter={(t) => new Date(Number(t)).toLocaleString()} />
        <Legend wrapperStyle={{ fontSize: 12 }} />
        <Area type="monotone" dataKey="executions" stroke="#6366f1" fill="#6366f1" fillOpacity={0.25} isAnimationActive={false} />
        <Area type="monotone" dataKey="events" stroke="#0ea5e9" fill="#0ea5e9" fillOpacity={0.15} isAnimationActive={false} />
        <Area type="monotone" dataKey="enforcements" stroke="#f59e0b" fill="#f59e0b" fillOpacity={0.15} isAnimationActive={false} />
      </AreaChart>
    </ResponsiveContainer>
  );
}

/** Failure rate as a ring: failed + timed out against completed. */
export function FailureRing({ rate }: { rate: Schemas["FailureRate"] }) {
  const data = [
    { name: "completed", value: rate.completed_count },
    { name: "failed", value: rate.failed_count },
    { name: "timeout", value: rate.timeout_count },
  ].filter((d) => d.value > 0);
  const other = rate.total_terminal - rate.completed_count - rate.failed_count - rate.timeout_count;
  if (other > 0) data.push({ name: "cancelled", value: other });
  return (
    <div className="relative h-[220px]">
      <ResponsiveContainer width="100%" height={220}>
        <PieChart>
          <Pie data={data.length ? data : [{ name: "none", value: 1 }]} dataKey="value" nameKey="name" innerRadius={62} outerRadius={88} isAnimationActive={false} strokeWidth={0}>
            {(data.length ? data : [{ name: "none", value: 1 }]).map((d) => (
              <Cell key={d.name} fill={d.name === "none" ? "#cbd5e1" : color(d.name)} />
            ))}
          </Pie>
          {data.length > 0 && <Tooltip {...TOOLTIP} />}
        </PieChart>
      </ResponsiveContainer>
      <div className="pointer-events-none absolute inset-0 flex flex-col items-center justify-center">
        <span className="text-2xl font-semibold" data-testid="failure-rate">
          {rate.failure_rate_pct.toFixed(1)}%
        </span>
        <span className="text-xs text-slate-500">failed of {rate.total_terminal} ended</span>
      </div>
    </div>
  );
}

/** Workers by status as horizontal bars. */
export function WorkerChart({ points }: { points: Schemas["Point"][] }) {
  return (
    <ResponsiveContainer width="100%" height={Math.max(120, points.length * 40 + 40)}>
      <BarChart data={points} layout="vertical" margin={{ top: 4, right: 16, left: 8, bottom: 0 }}>
        <XAxis type="number" allowDecimals={false} tick={AXIS} stroke={AXIS.stroke} />
        <YAxis type="category" dataKey="bucket" tick={AXIS} stroke={AXIS.stroke} width={70} />
        <Tooltip {...TOOLTIP} cursor={{ fill: "#94a3b8", fillOpacity: 0.15 }} />
        <Bar dataKey="value" name="workers" isAnimationActive={false}>
          {points.map((p) => (
            <Cell key={p.bucket} fill={color(p.bucket)} />
          ))}
        </Bar>
      </BarChart>
    </ResponsiveContainer>
  );
}
