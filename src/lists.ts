/**
 * Appending one list to another without `push(...items)`: a spread passes
 * every item as an argument, and past ~120,000 of them (a dry run of a
 * 60,000 + 80,000 record first sync) V8 throws "Maximum call stack size
 * exceeded". Use these wherever the list's length is not small by nature.
 */
export function append<T>(into: T[], items: Iterable<T>): T[] {
  for (const item of items) into.push(item);
  return into;
}

/** The largest of the numbers, or `floor` when there are none (Math.max(...xs) spreads them). */
export function largest(values: Iterable<number>, floor = -Infinity): number {
  let max = floor;
  for (const v of values) if (v > max) max = v;
  return max;
}
