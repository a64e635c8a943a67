/** Go to a dashboard route (hash routing). Re-renders when the route is already current. */
export function navigate(path: string): void {
  if (location.hash === `#${path}`) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = path;
}

export type Dispose = () => void;
