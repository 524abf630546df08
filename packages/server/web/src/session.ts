/** The signed-in user, as /auth/me reports it. */
import { api } from './api.js';

export interface Me {
  id: number;
  username: string;
  email: string | null;
  roles: string[];
  disabled: boolean;
  created_at: number;
  last_login_at: number | null;
}

let current: Me | undefined;

export function me(): Me | undefined {
  return current;
}

export function isAdmin(): boolean {
  return current?.roles.includes('admin') ?? false;
}

/** Ask the service who is signed in (refreshing silently if needed); undefined when nobody is. */
export async function loadMe(): Promise<Me | undefined> {
  try {
    current = await api<Me>('GET', '/auth/me');
  } catch {
    current = undefined;
  }
  return current;
}

export function forget(): void {
  current = undefined;
}
