// A confirmation dialog for destructive actions: names what will happen, runs `onConfirm`
// (a promise), shows its error in place and closes once it succeeds.
import { type ReactNode, useState } from "react";
import { Modal } from "./Modal";
import { Button } from "./ui";

export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const close = () => {
    setError(null);
    props.onClose();
  };
  return (
    <Modal open={props.open} title={props.title} onClose={close}>
      <div className="space-y-4 text-sm">
        <div>{props.children}</div>
        {error && (
          <p role="alert" className="text-red-600">
            {error}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button
            variant="danger"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              setError(null);
              try {
                await props.onConfirm();
                close();
              } catch (e) {
                setError(e instanceof Error ? e.message : String(e));
              } finally {
                setBusy(false);
              }
            }}
          >
            {props.confirmLabel}
          </Button>
        </div>
      </div>
    </Modal>
  );
}

/** The message of an error, for inline display. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
