// An accessible dialog on the native <dialog> element: focus is trapped, Escape closes it.
import { X } from "lucide-react";
import { type ReactNode, useEffect, useRef } from "react";

export function Modal(props: { open: boolean; title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog
      ref={ref}
      aria-label={props.title}
      onClose={props.onClose}
      onCancel={props.onClose}
      className={`m-auto w-full rounded-lg bg-white p-0 text-slate-900 shadow-xl backdrop:bg-slate-900/50 dark:bg-slate-900 dark:text-slate-100 ${props.wide ? "max-w-3xl" : "max-w-lg"}`}
    >
      {props.open && (
        <>
          <header className="flex items-center justify-between border-b border-slate-200 px-4 py-3 dark:border-slate-800">
            <h2 className="font-semibold">{props.title}</h2>
            <button className="rounded p-1 hover:bg-slate-100 dark:hover:bg-slate-800" aria-label="Close" onClick={props.onClose}>
              <X className="h-4 w-4" aria-hidden />
            </button>
          </header>
          <div className="max-h-[75vh] overflow-auto p-4">{props.children}</div>
        </>
      )}
    </dialog>
  );
}
