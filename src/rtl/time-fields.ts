/**
 * Calendar time: TIME_FIELDS with RtlTimeToTimeFields and RtlTimeFieldsToTime, and
 * ExSystemTimeToLocalTime / ExLocalTimeToSystemTime. A time is a count of 100 ns units
 * since January 1, 1601 (UTC), the base of system time (src/ke/time.ts); the calendar is
 * the proleptic Gregorian one. Times are JS numbers when exact (below 2^53, that is
 * before mid-1629, which covers every time this machine's clock shows) and bigints
 * beyond; both are accepted. The machine's time zone is UTC: local time is system time.
 */

/** TIME_FIELDS: a time broken into calendar fields. */
export class TIME_FIELDS {
  /** 1601..30827. */
  Year = 1601;
  /** 1..12. */
  Month = 1;
  /** 1..31. */
  Day = 1;
  /** 0..23. */
  Hour = 0;
  /** 0..59. */
  Minute = 0;
  /** 0..59. */
  Second = 0;
  /** 0..999. */
  Milliseconds = 0;
  /** 0..6, Sunday first (ignored by RtlTimeFieldsToTime). */
  Weekday = 1;
}

/** A time in 100 ns units since 1601 (LARGE_INTEGER.QuadPart). */
export type TIME_VALUE = number | bigint;

const UNITS_PER_MILLISECOND = 10_000n;
const UNITS_PER_DAY = 864_000_000_000n;
const MS_PER_DAY = 86_400_000;
/** Days from 0001-01-01 (proleptic Gregorian) to 1601-01-01. */
const DAYS_TO_1601 = 584_388;
/** The last year TIME_FIELDS covers. */
const LAST_YEAR = 30827;
/** January 1, 1601 was a Monday. */
const WEEKDAY_OF_1601 = 1;

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeap(year) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** Days from 0001-01-01 to January 1 of `year`. */
function daysBeforeYear(year: number): number {
  const y = year - 1;
  return y * 365 + Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400);
}

/** RtlTimeToTimeFields: the calendar fields of `Time` (the C out-parameter as the return value). */
export function RtlTimeToTimeFields(Time: TIME_VALUE): TIME_FIELDS {
  const t = BigInt(Time);
  const days = Number(t / UNITS_PER_DAY);
  const ms = Number((t % UNITS_PER_DAY) / UNITS_PER_MILLISECOND);
  const f = new TIME_FIELDS();
  f.Weekday = (days + WEEKDAY_OF_1601) % 7;
  f.Hour = Math.floor(ms / 3_600_000);
  f.Minute = Math.floor(ms / 60_000) % 60;
  f.Second = Math.floor(ms / 1000) % 60;
  f.Milliseconds = ms % 1000;
  const absolute = days + DAYS_TO_1601;
  let year = Math.floor(absolute / 365.2425) + 1;
  while (daysBeforeYear(year) > absolute) year--;
  while (daysBeforeYear(year + 1) <= absolute) year++;
  let dayOfYear = absolute - daysBeforeYear(year);
  let month = 1;
  while (dayOfYear >= daysInMonth(year, month)) dayOfYear -= daysInMonth(year, month++);
  f.Year = year;
  f.Month = month;
  f.Day = dayOfYear + 1;
  return f;
}

/**
 * RtlTimeFieldsToTime: the time `TimeFields` names (Weekday is ignored). `succeeded` is
 * FALSE, and Time 0, when a field is out of range (a year before 1601 or after 30827, a
 * day the month does not have...).
 */
export function RtlTimeFieldsToTime(TimeFields: TIME_FIELDS): { succeeded: boolean; Time: TIME_VALUE } {
  const { Year, Month, Day, Hour, Minute, Second, Milliseconds } = TimeFields;
  const valid = Year >= 1601 && Year <= LAST_YEAR && Month >= 1 && Month <= 12 && Day >= 1 && Day <= daysInMonth(Year, Month)
    && Hour >= 0 && Hour < 24 && Minute >= 0 && Minute < 60 && Second >= 0 && Second < 60 && Milliseconds >= 0 && Milliseconds < 1000
    && [Year, Month, Day, Hour, Minute, Second, Milliseconds].every(Number.isInteger);
  if (!valid) return { succeeded: false, Time: 0 };
  let days = daysBeforeYear(Year) - DAYS_TO_1601;
  for (let m = 1; m < Month; m++) days += daysInMonth(Year, m);
  days += Day - 1;
  const ms = BigInt(days) * BigInt(MS_PER_DAY) + BigInt(((Hour * 60 + Minute) * 60 + Second) * 1000 + Milliseconds);
  const time = ms * UNITS_PER_MILLISECOND;
  return { succeeded: true, Time: time <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(time) : time };
}

/** ExSystemTimeToLocalTime: the local time of `SystemTime` (the machine's time zone is UTC: the same value). */
export function ExSystemTimeToLocalTime(SystemTime: TIME_VALUE): TIME_VALUE {
  return SystemTime;
}

/** ExLocalTimeToSystemTime: the system time of `LocalTime` (UTC: the same value). */
export function ExLocalTimeToSystemTime(LocalTime: TIME_VALUE): TIME_VALUE {
  return LocalTime;
}
