/** GitLab matches usernames and label names without regard to case; a missing name matches nothing. */
export function sameName(a: string | null | undefined, b: string | null | undefined): boolean {
  return !!a && !!b && a.toLowerCase() === b.toLowerCase();
}
