// Profile: who am I (GET /auth/me), change the display name, change the password, sign out.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { LogOut } from "lucide-react";
import { type FormEvent, useState } from "react";
import { useNavigate } from "react-router";
import { api, type Schemas, unwrap } from "@/api/client";
import { errorText } from "@/components/Confirm";
import { QueryState } from "@/components/states";
import { Badge, Button, Card, Field, Input, PageHeader, Properties } from "@/components/ui";
import { useAuth } from "@/lib/auth";
import { dateTime } from "@/lib/format";
import { passwordProblem } from "./password";

type Identity = Schemas["Identity"];

function DisplayNameForm({ me }: { me: Identity }) {
  const [name, setName] = useState(me.display_name ?? "");
  const [saved, setSaved] = useState(false);
  const client = useQueryClient();
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT("/auth/me", { body: { display_name: name.trim() || null } })),
    onSuccess: ({ data }) => {
      const { accessToken, refreshToken, user, signIn } = useAuth.getState();
      if (accessToken && refreshToken && user) signIn(accessToken, refreshToken, { ...user, display_name: data.display_name });
      client.setQueryData(["profile"], data);
      setSaved(true);
    },
  });
  return (
    <form
      className="space-y-3"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        setSaved(false);
        save.mutate();
      }}
    >
      <Field label="Display name" htmlFor="display-name" hint="Shown in the top bar and in history instead of your login.">
        <Input id="display-name" value={name} maxLength={255} onChange={(e) => { setName(e.target.value); setSaved(false); }} />
      </Field>
      {save.error && <p role="alert" className="text-sm text-red-600">{errorText(save.error)}</p>}
      <div className="flex items-center gap-3">
        <Button type="submit" variant="primary" disabled={save.isPending || name === (me.display_name ?? "")}>
          {save.isPending ? "Saving…" : "Save display name"}
        </Button>
        {saved && <span role="status" className="text-sm text-green-700 dark:text-green-400">Display name saved.</span>}
      </div>
    </form>
  );
}

function PasswordForm() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const change = useMutation({
    mutationFn: () => unwrap(api.POST("/auth/change-password", { body: { current_password: current, new_password: next } })),
    onSuccess: () => {
      setCurrent("");
      setNext("");
      setConfirm("");
      setDone(true);
    },
  });
  return (
    <form
      className="space-y-3"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        setDone(false);
        const found = passwordProblem(current, next, confirm);
        setProblem(found);
        if (!found) change.mutate();
      }}
    >
      <Field label="Current password" htmlFor="current-password">
        <Input id="current-password" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
      </Field>
      <Field label="New password" htmlFor="new-password" hint="8 to 128 characters.">
        <Input id="new-password" type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />
      </Field>
      <Field label="Repeat the new password" htmlFor="confirm-password">
        <Input id="confirm-password" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
      </Field>
      {(problem || change.error) && <p role="alert" className="text-sm text-red-600">{problem ?? errorText(change.error)}</p>}
      <div className="flex items-center gap-3">
        <Button type="submit" variant="primary" disabled={change.isPending}>
          {change.isPending ? "Changing…" : "Change password"}
        </Button>
        {done && <span role="status" className="text-sm text-green-700 dark:text-green-400">Password changed.</span>}
      </div>
    </form>
  );
}

export default function Profile() {
  const query = useQuery({ queryKey: ["profile"], queryFn: () => unwrap(api.GET("/auth/me")).then((r) => r.data) });
  const signOut = useAuth((s) => s.signOut);
  const navigate = useNavigate();
  const client = useQueryClient();
  return (
    <div className="max-w-3xl">
      <PageHeader
        title="Profile"
        subtitle="Your identity, display name and password."
        actions={
          <Button
            onClick={() => {
              signOut();
              client.clear();
              navigate("/login");
            }}
          >
            <LogOut className="h-4 w-4" aria-hidden /> Sign out
          </Button>
        }
      />
      <QueryState query={query}>
        {(me) => (
          <div className="space-y-4">
            <Card title="Who am I">
              <Properties
                items={[
                  ["Login", <span className="font-mono">{me.login}</span>],
                  ["Display name", me.display_name || "—"],
                  ["Identity id", me.id],
                  [
                    "Roles",
                    me.roles.length ? (
                      <span className="flex flex-wrap gap-1">
                        {me.roles.map((r) => (
                          <Badge key={r} tone="blue">{r}</Badge>
                        ))}
                      </span>
                    ) : (
                      "none"
                    ),
                  ],
                  ["Status", me.frozen ? <Badge tone="red">frozen</Badge> : <Badge tone="green">active</Badge>],
                  ["Member since", dateTime(me.created)],
                ]}
              />
            </Card>
            <Card title="Display name">
              <DisplayNameForm key={me.id} me={me} />
            </Card>
            <Card title="Password">
              <PasswordForm />
            </Card>
          </div>
        )}
      </QueryState>
    </div>
  );
}
