/** A cell of {@link formatTable}: text, or a number printed with `digits` decimals. */
export type Cell = string | number;

/**
 * Formats rows as a plain-text table with a header rule: the first column left-aligned, the others
 * right-aligned; numbers are printed with `digits` decimals.
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly Cell[])[],
  digits = 3,
): string {
  const text = [header, ...rows].map((r) => r.map((c) => (typeof c === 'number' ? c.toFixed(digits) : c)));
  const widths = header.map((_, j) => Math.max(...text.map((r) => (r[j] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [line(text[0]!), rule, ...text.slice(1).map(line)].join('\n');
}

/** Seconds since `t0` (a `performance.now()` reading), as text: `1.2 s`. */
export function seconds(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(1)} s`;
}
