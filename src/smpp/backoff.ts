export interface BackoffPolicy {
  /** Delay cap of the first attempt. */
  baseMs: number;
  /** Ceiling of every delay. */
  maxMs: number;
  /** Growth per attempt (2 doubles). */
  factor?: number;
}

/**
 * Exponential back-off with "equal jitter": the delay of attempt n (0-based) is uniformly drawn
 * from [cap/2, cap] where cap = min(maxMs, baseMs·factorⁿ). Half the cap is always waited, so
 * many workers that lost the same SMSC never reconnect in lock-step nor at once.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const factor = policy.factor ?? 2;
  const cap = Math.min(policy.maxMs, policy.baseMs * factor ** Math.max(0, attempt));
  return Math.round(cap / 2 + random() * (cap / 2));
}
