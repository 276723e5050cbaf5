// Whether a drill may run now: inside one of the configured windows, read in the drills' time zone, and not
// on a holiday there. Pure and workflow-safe: Intl only, no Node built-ins, the time passed in.
import { WEEKDAYS, type DrillPlan, type Weekday } from './drill';

export interface WindowCheck {
  inside: boolean;
  /** The local time it was read as, e.g. `Sat 2026-12-05 02:13 Asia/Taipei`. */
  localTime: string;
  why: string;
}

type DrillWindow = DrillPlan['windows'][number];

interface LocalTime {
  weekday: Weekday;
  date: string;
  /** HH:MM, 00:00 to 23:59. */
  time: string;
}

export function drillWindow(nowMs: number, drills: DrillPlan): WindowCheck {
  const local = localTimeOf(nowMs, drills.timezone);
  const localTime = `${capitalized(local.weekday)} ${local.date} ${local.time} ${drills.timezone}`;
  if (drills.holidays.includes(local.date)) return { inside: false, localTime, why: holiday(local.date) };
  if (drills.windows.length === 0) return { inside: true, localTime, why: 'no drill windows are configured: any time is inside' };
  const window = drills.windows.find((candidate) => isInside(local, candidate));
  if (window) return { inside: true, localTime, why: `inside the window ${windowText(window)}` };
  return { inside: false, localTime, why: outsideAll(drills.windows) };
}

/** A window holds its start and not its end: sat 01:00-05:00 holds 01:00 to 04:59. */
function isInside(local: LocalTime, window: DrillWindow): boolean {
  return window.days.includes(local.weekday) && window.start <= local.time && local.time < window.end;
}

const windowText = (window: DrillWindow): string => `${window.days.join(',')} ${window.start}-${window.end}`;

const holiday = (date: string): string => `${date} is a holiday (drills.holidays): no drill runs on it`;

const outsideAll = (windows: DrillWindow[]): string => `outside every window: ${windows.map(windowText).join('; ')}`;

const capitalized = (day: Weekday): string => day.charAt(0).toUpperCase() + day.slice(1);

/** The weekday, date and time of day at `nowMs` in `timeZone`, from the zone's rules (DST included). */
function localTimeOf(nowMs: number, timeZone: string): LocalTime {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const parts: Record<string, string> = {};
  for (const part of format.formatToParts(new Date(nowMs))) parts[part.type] = part.value;
  const weekday = WEEKDAYS.find((day) => day === parts.weekday?.toLowerCase());
  if (!weekday) throw new Error(`no weekday in ${JSON.stringify(parts)} for time zone ${timeZone}`);
  return { weekday, date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}
