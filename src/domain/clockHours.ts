// Clock hours (UTC): the windows of the call quota and of the once-an-hour allowlist refusal
// events, one definition for both.
export const HOUR_MS = 3_600_000;

/** The start (ms since the epoch) of the clock hour holding `ms`. */
export function clockHourStart(ms: number): number {
  return ms - (ms % HOUR_MS);
}
