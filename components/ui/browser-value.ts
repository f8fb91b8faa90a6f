"use client";
import { useSyncExternalStore } from "react";

const noSubscription = () => () => {};

/**
 * A value only the browser knows (its time zone, the query string, WebAuthn support), read after
 * hydration: the server's render and the first client render use `onServer`, so they match.
 */
export function useBrowserValue<T>(read: () => T, onServer: T): T {
  return useSyncExternalStore(noSubscription, read, () => onServer);
}
