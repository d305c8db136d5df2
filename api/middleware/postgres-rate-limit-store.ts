import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import type { PrismaClient } from '../../runtime/prisma';

/**
 * express-rate-limit store on PostgreSQL, so every API instance counts against the same
 * limit (an in-memory store would let N instances accept N times the limit). Written here
 * rather than taken from a package because the PostgreSQL stores on npm create their own
 * tables at run time, while this table belongs to the Prisma migrations like every other.
 */
export class PostgresRateLimitStore implements Store {
  private windowMs = 60_000;
  readonly prefix: string;

  constructor(private readonly prisma: PrismaClient, prefix: string) {
    this.prefix = prefix;
  }

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const windowStart = this.windowStart();
    const [row] = await this.prisma.$queryRaw<{ hits: number }[]>`
      INSERT INTO rate_limit_counters (key, window_start, hits) VALUES (${this.prefix + key}, ${windowStart}, 1)
      ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limit_counters.hits + 1
      RETURNING hits`;
    const totalHits = row?.hits ?? 1;
    if (totalHits === 1) await this.sweep(windowStart);
    return { totalHits, resetTime: new Date(windowStart.getTime() + this.windowMs) };
  }

  async decrement(key: string): Promise<void> {
    await this.prisma.rateLimitCounter.updateMany({
      where: { key: this.prefix + key, windowStart: this.windowStart(), hits: { gt: 0 } },
      data: { hits: { decrement: 1 } },
    });
  }

  async resetKey(key: string): Promise<void> {
    await this.prisma.rateLimitCounter.deleteMany({ where: { key: this.prefix + key } });
  }

  /**
   * Ended windows are deleted by whichever instance first opens a new window, at most once
   * per window per instance, so the table holds about one window of counters.
   */
  private lastSweep = 0;
  private async sweep(currentWindow: Date): Promise<void> {
    if (currentWindow.getTime() <= this.lastSweep) return;
    this.lastSweep = currentWindow.getTime();
    await this.prisma.rateLimitCounter.deleteMany({ where: { windowStart: { lt: currentWindow } } });
  }

  private windowStart(): Date {
    return new Date(Math.floor(Date.now() / this.windowMs) * this.windowMs);
  }
}
