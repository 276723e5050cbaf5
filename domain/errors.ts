// Error text for people: the innermost message, which is what an operator needs.

/** The outer messages say "Activity task failed"; the cause chain ends in what went wrong. */
export function errorText(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  let text = e?.message ?? String(err);
  while (e?.cause) {
    e = e.cause as { message?: string; cause?: unknown };
    if (e.message) text = e.message;
  }
  return text;
}
