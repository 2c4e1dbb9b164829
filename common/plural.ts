// Counts in sentences people read: "1 violation", "57 other sessions".

/** `count` and `noun`, with an "s" unless the count is one (nouns of this code only take "s"). */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
