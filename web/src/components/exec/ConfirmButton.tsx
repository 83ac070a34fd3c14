// A button that asks before doing something consequential (cancel, re-run), then shows the
// server's error in the dialog if it refuses.
import { useState } from "react";
import { Modal } from "@/components/Modal";
import { Button } from "@/components/ui";

export function ConfirmButton(props: {
  label: string;
  title: string;
  message: React.ReactNode;
  confirm: string;
  variant?: "primary" | "danger" | "secondary";
  icon?: React.ReactNode;
  onConfirm: () => Promise<unknown>;
  disabled?: boolean;
}) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm();
      setOpen(false);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Button variant={props.variant ?? "secondary"} disabled={props.disabled} onClick={() => setOpen(true)}>
        {props.icon}
        {props.label}
      </Button>
      <Modal open={open} title={props.title} onClose={() => setOpen(false)}>
        <div className="space-y-4 text-sm">
          <div>{props.message}</div>
          {error && (
            <p role="alert" className="text-red-600">
              {error}
            </p>
          )}
          <div className="flex justify-end gap-2">
            <Button onClick={() => setOpen(false)}>Keep it</Button>
            <Button variant={props.variant === "danger" ? "danger" : "primary"} disabled={busy} onClick={() => void run()}>
              {busy ? "Working…" : props.confirm}
            </Button>
          </div>
        </div>
      </Modal>
    </>
  );
}
