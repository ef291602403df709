// Clock minutes (UTC) as strings ('2026-12-01T19:22'): what a wrong password's row is filed
// under, so that "the wrong passwords of the last moments" is an equality lookup (`$in` a few
// minutes), which every store answers from an index, rather than a range on a time, which
// FerretDB's SQLite backend answers by reading every row (see AuthStateCache's poll).
const MINUTE_MS = 60_000;

/** The clock minute holding `ms`. */
export function clockMinute(ms: number): string {
  return new Date(ms - (ms % MINUTE_MS)).toISOString().slice(0, 16);
}

/** Every clock minute from the one holding `fromMs` to the one holding `toMs`, in order. */
export function clockMinutesBetween(fromMs: number, toMs: number): string[] {
  const minutes: string[] = [];
  for (let ms = fromMs - (fromMs % MINUTE_MS); ms <= toMs; ms += MINUTE_MS) minutes.push(clockMinute(ms));
  return minutes;
}
