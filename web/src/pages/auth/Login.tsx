import { Cpu } from "lucide-react";
import { type FormEvent, useState } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router";
import { api, unwrap } from "@/api/client";
import { Button, Field, Input } from "@/components/ui";
import { useAuth } from "@/lib/auth";

export default function Login() {
  const [params] = useSearchParams();
  const next = params.get("next") || "/";
  const signedIn = useAuth((s) => Boolean(s.accessToken));
  const signIn = useAuth((s) => s.signIn);
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (signedIn) return <Navigate to={next} replace />;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const { data } = await unwrap(
        api.POST("/auth/login", {
          body: { login: String(form.get("login")), password: String(form.get("password")) },
        }),
      );
      signIn(data.access_token, data.refresh_token, data.user);
      navigate(next.startsWith("/") ? next : "/", { replace: true });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="flex min-h-screen items-center justify-center bg-slate-100 p-4 dark:bg-slate-950">
      <form onSubmit={submit} className="w-full max-w-sm space-y-4 rounded-lg border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
        <h1 className="flex items-center gap-2 text-xl font-bold text-indigo-600">
          <Cpu className="h-6 w-6" aria-hidden /> Attune
        </h1>
        <p className="text-sm text-slate-500">Sign in to the operator console.</p>
        <Field label="Login" htmlFor="login">
          <Input id="login" name="login" autoComplete="username" required autoFocus />
        </Field>
        <Field label="Password" htmlFor="password">
          <Input id="password" name="password" type="password" autoComplete="current-password" required />
        </Field>
        {error && (
          <p role="alert" className="text-sm text-red-600">
            {error}
          </p>
        )}
        <Button type="submit" variant="primary" className="w-full" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </Button>
      </form>
    </div>
  );
}
