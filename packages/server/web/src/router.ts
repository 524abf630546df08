/**
 * Hash routes (#/sessions): the service serves one page, and the fragment
 * never reaches it, so no path needs a server route of its own.
 */

/** A page: renders into `main`, and may return a cleanup (timers). */
export type Page = (main: HTMLElement) => undefined | (() => void) | Promise<undefined | (() => void)>;

export interface Route {
  path: string;
  title: string;
  page: Page;
  /** Shown in the navigation only to admins, and refused to others. */
  admin?: boolean;
  /** Reachable without signing in. */
  public?: boolean;
}

export function currentPath(): string {
  const hash = location.hash.replace(/^#/, '');
  return hash === '' ? '/' : hash;
}

export function go(path: string): void {
  if (currentPath() === path) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = `#${path}`;
}
