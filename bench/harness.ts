/** One figure a benchmark reports; printed as one JSON line by bench/run.ts. */
export interface BenchResult {
  bench: string;
  value: number;
  unit: string;
  [detail: string]: unknown;
}

export type Report = (result: BenchResult) => void;

/** A benchmark module: `bench/<name>.bench.ts` exporting `run`. */
export interface Benchmark {
  run(report: Report): Promise<void>;
}

/** Runs `fn` repeatedly for at least `minMs` and returns operations per second. */
export function opsPerSecond(fn: () => number, minMs = 1000): number {
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    ops += fn();
    elapsed = performance.now() - start;
  }
  return ops / (elapsed / 1000);
}

export function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 1024 / 1024);
}
