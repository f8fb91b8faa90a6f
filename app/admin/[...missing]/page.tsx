import { notFound } from "next/navigation";

// An address no console page answers gets the console's own 404 (../not-found.tsx) inside the
// console's layout, not the site-wide one without its menu. The layout still checks the caller
// first: signed out, they are sent to sign in; with no console access, refused.
export default function MissingConsolePage() {
  notFound();
}
