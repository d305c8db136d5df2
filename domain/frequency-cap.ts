/** The rolling window marketing sends are counted over. */
export const frequencyCapWindowMs = 7 * 24 * 60 * 60 * 1000;

export type FrequencyCapDecision = { allowed: true } | { allowed: false; nextAllowedAt: Date; sentInWindow: number };

/**
 * At most `cap` marketing messages per contact in any rolling 7 days. When the cap is reached,
 * the next send fits once the oldest message inside the window leaves it. A cap of 0 is off.
 */
export function frequencyCapDecision(marketingSentAt: readonly Date[], now: Date, cap: number): FrequencyCapDecision {
  if (cap <= 0) return { allowed: true };
  const windowStart = now.getTime() - frequencyCapWindowMs;
  const inWindow = marketingSentAt.map((date) => date.getTime()).filter((time) => time > windowStart && time <= now.getTime()).sort((a, b) => a - b);
  if (inWindow.length < cap) return { allowed: true };
  // Sending needs (inWindow.length - cap + 1) of them to have aged out.
  const mustAgeOut = inWindow[inWindow.length - cap]!;
  return { allowed: false, nextAllowedAt: new Date(mustAgeOut + frequencyCapWindowMs), sentInWindow: inWindow.length };
}
