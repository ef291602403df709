// The call quota counts per clock hour (UTC, API.md): a test that spends a small quota, or counts
// what is left of it, must make all its calls within one such hour. Calls on both sides of an
// hour's end count in different windows, so a test crossing it sees its quota refilled.
import { setTimeout as sleep } from 'node:timers/promises';
import { clockHourStart, HOUR_MS } from '../../src/domain/clockHours.js';

/**
 * Returns once at least `neededMs` of the current clock hour remain, waiting for the next hour
 * if fewer do. The test or hook `context` belongs to gets that wait added to its timeout.
 */
export async function withinOneClockHour(context: Mocha.Context, neededMs: number): Promise<void> {
  const now = Date.now();
  // The quota's own notion of the hour (domain/clockHours.ts), not a second copy of it.
  const left = clockHourStart(now) + HOUR_MS - now;
  if (left >= neededMs) return;
  // A second into the next hour: clocks read by other processes may lag this one a little.
  const wait = left + 1000;
  context.timeout(context.timeout() + wait);
  await sleep(wait);
}
