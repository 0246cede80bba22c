// ISO 8601 durations (APPROVAL_TIMEOUT, e.g. "PT24H", "P1DT2H", "PT2S"). Pure, so both the
// configuration reader and the orchestrator can use it. Years and months are refused: their
// length depends on the calendar, and a timeout must be an exact number of milliseconds.

const DURATION =
  /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

const UNIT_MS = [7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1_000];

/** Milliseconds in an ISO 8601 duration; throws a RangeError naming the value when invalid. */
export function parseIsoDuration(value: string): number {
  const match = DURATION.exec(value);
  if (!match || value === "P" || value.endsWith("T") || match.slice(1).every((p) => !p)) {
    throw new RangeError(
      `'${value}' is not an ISO 8601 duration of weeks/days/hours/minutes/seconds (e.g. PT24H)`,
    );
  }
  const ms = match
    .slice(1)
    .reduce((sum, part, i) => sum + (part ? Number(part) * UNIT_MS[i] : 0), 0);
  return Math.round(ms);
}
