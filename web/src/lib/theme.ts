import { create } from "zustand";

type Theme = "light" | "dark";

function initial(): Theme {
  return document.documentElement.classList.contains("dark") ? "dark" : "light";
}

export const useTheme = create<{ theme: Theme; toggle: () => void }>()((set, get) => ({
  theme: typeof document === "undefined" ? "light" : initial(),
  toggle: () => {
    const theme: Theme = get().theme === "dark" ? "light" : "dark";
    document.documentElement.classList.toggle("dark", theme === "dark");
    localStorage.setItem("attune.theme", theme);
    set({ theme });
  },
}));
