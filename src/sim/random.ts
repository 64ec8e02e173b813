/** A fixed value, or a uniform draw between min and max. */
export type Range = number | { min: number; max: number };

/** Small seedable PRNG (mulberry32): reproducible simulator runs. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick(range: Range, random: () => number): number {
  if (typeof range === 'number') return range;
  return range.min + random() * (range.max - range.min);
}
