// The signed-in session: tokens and user, kept in localStorage so a reload stays signed in.
import { create } from "zustand";
import { persist } from "zustand/middleware";

export interface SessionUser {
  id: number;
  login: string;
  display_name?: string | null;
}

interface AuthState {
  accessToken: string | null;
  refreshToken: string | null;
  user: SessionUser | null;
  signIn: (access: string, refresh: string, user: SessionUser) => void;
  setTokens: (access: string, refresh: string) => void;
  signOut: () => void;
}

export const useAuth = create<AuthState>()(
  persist(
    (set) => ({
      accessToken: null,
      refreshToken: null,
      user: null,
      signIn: (accessToken, refreshToken, user) => set({ accessToken, refreshToken, user }),
      setTokens: (accessToken, refreshToken) => set({ accessToken, refreshToken }),
      signOut: () => set({ accessToken: null, refreshToken: null, user: null }),
    }),
    { name: "attune.session" },
  ),
);
