import { DateTime } from 'luxon';
import { DAYS, minutesOfDay } from '../domain/oncall';
import type { Layer, Person, Restriction, Schedule, ScheduleOverride } from '../domain/oncall';

/**
 * Who is on call, as pure functions of a schedule and an instant.
 *
 * Time arithmetic happens on *wall-clock* milliseconds: the local date and time in the schedule's zone,
 * counted as if that zone were UTC. Adding 7 days or 12 hours there and asking luxon which instant that
 * local time is keeps a 09:00 hand-off at 09:00 local on both sides of a DST change. Luxon answers the
 * zone questions (offsets, gaps, repeated hours); nothing here knows an offset.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Longest restriction window (from 00:00 to 24:00, or past midnight) plus a DST hour, rounded up. */
const RESTRICTION_REACH_MS = 2 * DAY_MS;

/** Local wall-clock time of an instant, counted as if the zone were UTC. */
function wallOf(instant: number, zone: string): number {
  const local = DateTime.fromMillis(instant, { zone });
  return local.toMillis() + local.offset * MINUTE_MS;
}

/**
 * The instant a local wall-clock time names. A time skipped by a DST change (02:30 on the spring-forward
 * night) moves forward by the gap; a repeated one (02:30 on the fall-back night) is its later occurrence.
 * Either way the result never decreases as the wall time increases, so boundaries stay in order.
 */
function instantOf(wall: number, zone: string): number {
  // Not DateTime.fromObject: luxon picks between the two occurrences of a repeated time by the zone's offset
  // at the moment it is asked, so the answer would change with the season the server runs in.
  const offsetNear = (instant: number) => DateTime.fromMillis(instant, { zone }).offset * MINUTE_MS;
  const before = wall - offsetNear(wall - DAY_MS);
  const after = wall - offsetNear(wall + DAY_MS);
  const exact = [before, after].filter((instant) => wallOf(instant, zone) === wall);
  return exact.length ? Math.max(...exact) : before;
}

function parseInstant(text: string, zone: string): number {
  return DateTime.fromISO(text, { zone }).toMillis();
}

/** 0 = mon … 6 = sun for a wall-clock midnight. */
function weekdayOf(wallMidnight: number): number {
  return (new Date(wallMidnight).getUTCDay() + 6) % 7;
}

function msOf(date: Date): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('not a valid date');
  return ms;
}

function mod(n: number, m: number): number {
  return ((n % m) + m) % m;
}

/** A schedule's config overrides as the API shows them: ids `config:<index>`, times in UTC. */
export function configOverrides(schedule: Schedule): { id: string; person: string; from: string; to: string }[] {
  const utc = (text: string) => new Date(parseInstant(text, schedule.timeZone)).toISOString();
  return schedule.overrides.map((o, i) => ({ id: `config:${i}`, person: o.person, from: utc(o.from), to: utc(o.to) }));
}

// --- Prepared schedule ------------------------------------------------------------------------------------

interface PreparedLayer {
  index: number;
  layer: Layer;
  startWall: number;
  lengthMs: number;
  windows: { days: Set<number>; fromMin: number; toMin: number }[] | undefined;
}

interface PreparedOverride {
  id: string;
  person: string;
  from: number;
  to: number;
}

interface Prepared {
  schedule: Schedule;
  zone: string;
  layers: PreparedLayer[];
  overrides: PreparedOverride[];
  people: ReadonlyMap<string, Person>;
  /** Longest rotation period plus a day: how far back a shift covering an instant can have started. */
  reachMs: number;
}

function prepareLayer(layer: Layer, index: number): PreparedLayer {
  const [year, month, day] = layer.rotation.start.split('-').map(Number) as [number, number, number];
  return {
    index,
    layer,
    startWall: Date.UTC(year, month - 1, day) + minutesOfDay(layer.rotation.handoff) * MINUTE_MS,
    lengthMs: layer.rotation.length,
    windows: layer.restrictions?.map((r: Restriction) => ({
      days: new Set(r.days.map((d) => DAYS.indexOf(d))),
      fromMin: minutesOfDay(r.from),
      toMin: minutesOfDay(r.to),
    })),
  };
}

function prepare(schedule: Schedule, people: readonly Person[], extra: readonly ScheduleOverride[]): Prepared {
  const zone = schedule.timeZone;
  const byId = new Map(people.map((p) => [p.id, p]));
  const all = [...schedule.overrides.map((o, i) => ({ ...o, id: `config:${i}` })), ...extra];
  const overrides = all
    .map((o, i) => ({ id: o.id ?? `override:${i}`, person: o.person, from: parseInstant(o.from, zone), to: parseInstant(o.to, zone) }))
    // An override whose person left the config (or that makes no sense) must not leave the schedule empty.
    .filter((o) => byId.has(o.person) && Number.isFinite(o.from) && Number.isFinite(o.to) && o.from < o.to);
  const layers = schedule.layers.map(prepareLayer);
  const reachMs = Math.max(...layers.map((l) => l.lengthMs)) + DAY_MS;
  return { schedule, zone, layers, overrides, people: byId, reachMs };
}

// --- Layers -----------------------------------------------------------------------------------------------

/** Start of rotation period `n` of a layer. */
function boundary(layer: PreparedLayer, n: number, zone: string): number {
  return instantOf(layer.startWall + n * layer.lengthMs, zone);
}

/** The rotation period an instant falls in; undefined before the rotation starts. */
function periodAt(layer: PreparedLayer, at: number, zone: string): number | undefined {
  if (at < boundary(layer, 0, zone)) return undefined;
  let n = Math.max(0, Math.floor((wallOf(at, zone) - layer.startWall) / layer.lengthMs));
  // Wall time repeats during a fall-back hour; the estimate can be one period off there.
  while (boundary(layer, n + 1, zone) <= at) n++;
  while (n > 0 && boundary(layer, n, zone) > at) n--;
  return n;
}

/** The restriction windows that start on a local date (wall-clock midnight), as instants. */
function windowsOn(layer: PreparedLayer, wallMidnight: number, zone: string): [number, number][] {
  const weekday = weekdayOf(wallMidnight);
  return (layer.windows ?? [])
    .filter((w) => w.days.has(weekday))
    .map((w) => {
      const endMin = w.toMin > w.fromMin ? w.toMin : w.toMin + 24 * 60;
      return [instantOf(wallMidnight + w.fromMin * MINUTE_MS, zone), instantOf(wallMidnight + endMin * MINUTE_MS, zone)];
    });
}

function localMidnight(at: number, zone: string): number {
  const wall = wallOf(at, zone);
  return wall - mod(wall, DAY_MS);
}

function coveredByRestrictions(layer: PreparedLayer, at: number, zone: string): boolean {
  if (!layer.windows) return true;
  const today = localMidnight(at, zone);
  // A window that runs past midnight started yesterday.
  return [today - DAY_MS, today].some((day) => windowsOn(layer, day, zone).some(([from, to]) => from <= at && at < to));
}

// --- Resolution at an instant -----------------------------------------------------------------------------

/** Where the people on call come from; two stretches with the same source and people are one shift. */
type Source = { kind: 'layer'; layer: number; period: number } | { kind: 'override'; id: string } | { kind: 'none' };

interface Resolution {
  personIds: string[];
  source: Source;
}

function resolveAt(p: Prepared, at: number): Resolution {
  for (let i = p.overrides.length - 1; i >= 0; i--) {
    const o = p.overrides[i]!;
    if (o.from <= at && at < o.to) return { personIds: [o.person], source: { kind: 'override', id: o.id } };
  }
  for (let i = p.layers.length - 1; i >= 0; i--) {
    const layer = p.layers[i]!;
    const period = periodAt(layer, at, p.zone);
    if (period === undefined || !coveredByRestrictions(layer, at, p.zone)) continue;
    const members = layer.layer.members;
    return { personIds: [members[mod(period, members.length)]!], source: { kind: 'layer', layer: i, period } };
  }
  return { personIds: [], source: { kind: 'none' } };
}

function peopleOf(p: Prepared, ids: readonly string[]): Person[] {
  return ids.flatMap((id) => {
    const person = p.people.get(id);
    return person ? [person] : [];
  });
}

/**
 * The people on call at `at`: the latest override covering it, else the member of the last layer that has
 * someone then (layers that have not started, or whose restrictions exclude the instant, have no one).
 * At most one person today; a list so that callers page everyone it holds.
 */
export function whoIsOnCall(
  schedule: Schedule,
  people: readonly Person[],
  at: Date,
  overrides: readonly ScheduleOverride[] = [],
): Person[] {
  const p = prepare(schedule, people, overrides);
  return peopleOf(p, resolveAt(p, msOf(at)).personIds);
}

// --- Shifts over a window ---------------------------------------------------------------------------------

/** Every instant in [from, to] at which the answer of `resolveAt` may change. */
function changePoints(p: Prepared, from: number, to: number): number[] {
  const points = new Set<number>([from]);
  for (const layer of p.layers) {
    const first = periodAt(layer, from, p.zone) ?? 0;
    for (let n = first; ; n++) {
      const at = boundary(layer, n, p.zone);
      if (at > to) break;
      if (at >= from) points.add(at);
    }
    if (layer.windows) {
      for (let day = localMidnight(from, p.zone) - DAY_MS; day <= localMidnight(to, p.zone); day += DAY_MS) {
        for (const [start, end] of windowsOn(layer, day, p.zone)) {
          if (start >= from && start <= to) points.add(start);
          if (end >= from && end <= to) points.add(end);
        }
      }
    }
  }
  for (const o of p.overrides) {
    if (o.from >= from && o.from <= to) points.add(o.from);
    if (o.to >= from && o.to <= to) points.add(o.to);
  }
  return [...points].sort((a, b) => a - b);
}

function sameSource(a: Source, b: Source): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

interface Stretch {
  start: number;
  end: number;
  resolution: Resolution;
}

/** [from, to) cut where the resolution changes; adjacent stretches with the same source are joined. */
function stretches(p: Prepared, from: number, to: number): Stretch[] {
  const points = changePoints(p, from, to);
  const out: Stretch[] = [];
  for (const [i, start] of points.entries()) {
    const end = points[i + 1] ?? to;
    if (end <= start) continue;
    const resolution = resolveAt(p, start);
    const last = out[out.length - 1];
    if (last && sameSource(last.resolution.source, resolution.source) && sameIds(last.resolution.personIds, resolution.personIds)) {
      last.end = end;
    } else {
      out.push({ start, end, resolution });
    }
  }
  return out;
}

export interface Shift {
  start: Date;
  end: Date;
  people: Person[];
  /** The layer's name, or that an override put the person there. */
  source: { kind: 'layer'; layer: string } | { kind: 'override'; overrideId: string };
}

/**
 * The shifts that overlap [from, to), whole: a shift that began before `from` keeps its real start, so a
 * calendar built from a sliding window sees the same shift (and the same UID) every day. A shift is one
 * rotation period of one layer (cut by restrictions and overrides) or one override.
 */
export function shifts(
  schedule: Schedule,
  people: readonly Person[],
  window: { from: Date; to: Date },
  overrides: readonly ScheduleOverride[] = [],
): Shift[] {
  const p = prepare(schedule, people, overrides);
  const from = msOf(window.from);
  const to = msOf(window.to);
  if (!(from < to)) return [];
  // Far enough out that every shift touching the window starts and ends at a real change point.
  let scanFrom = from - p.reachMs - RESTRICTION_REACH_MS;
  let scanTo = to + p.reachMs + RESTRICTION_REACH_MS;
  for (const o of p.overrides) {
    if (o.from <= from && from < o.to) scanFrom = Math.min(scanFrom, o.from);
    if (o.from < to && to <= o.to) scanTo = Math.max(scanTo, o.to);
  }
  return stretches(p, scanFrom, scanTo)
    .filter((s) => s.resolution.personIds.length > 0 && s.end > from && s.start < to)
    .map((s) => ({
      start: new Date(s.start),
      end: new Date(s.end),
      people: peopleOf(p, s.resolution.personIds),
      source: sourceOf(p, s.resolution.source),
    }));
}

function sourceOf(p: Prepared, source: Source): Shift['source'] {
  if (source.kind === 'override') return { kind: 'override', overrideId: source.id };
  if (source.kind === 'layer') return { kind: 'layer', layer: p.layers[source.layer]!.layer.name };
  throw new Error('a shift always has someone on call');
}

export interface Handoff {
  at: Date;
  /** On call until `at` (empty: a gap ends). */
  from: Person[];
  /** On call from `at` (empty: a gap begins, e.g. after business hours). */
  to: Person[];
}

/** How far ahead `nextHandoffs` looks before it gives up (a schedule with one member never hands off). */
const HANDOFF_HORIZON_MS = 400 * DAY_MS;

/** The next `count` instants after `from` at which the people on call change, in order. */
export function nextHandoffs(
  schedule: Schedule,
  people: readonly Person[],
  from: Date,
  count: number,
  overrides: readonly ScheduleOverride[] = [],
): Handoff[] {
  const p = prepare(schedule, people, overrides);
  const out: Handoff[] = [];
  const start = msOf(from);
  const chunk = Math.max(14 * DAY_MS, p.reachMs);
  let current = resolveAt(p, start).personIds;
  for (let lo = start; out.length < count && lo < start + HANDOFF_HORIZON_MS; lo += chunk) {
    for (const s of stretches(p, lo, lo + chunk)) {
      if (s.start <= start || sameIds(s.resolution.personIds, current)) continue;
      out.push({ at: new Date(s.start), from: peopleOf(p, current), to: peopleOf(p, s.resolution.personIds) });
      current = s.resolution.personIds;
      if (out.length >= count) break;
    }
  }
  return out;
}
