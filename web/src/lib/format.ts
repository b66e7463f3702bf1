// Numbers with their units, for people. Every formatter accepts null or
// undefined (a value the server does not know) and renders it as "—".

export const UNKNOWN = '—';

type Maybe = number | null | undefined;

function known(value: Maybe): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

// Up to three significant digits, without trailing zeros: 1.5, 12.3, 456.
function short(value: number): string {
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return String(Number(value.toFixed(digits)));
}

export function formatCount(value: Maybe): string {
  if (!known(value)) return UNKNOWN;
  return Math.round(value).toLocaleString('en-US');
}

// Large counts as 1.2 k, 3.4 M, 5.6 G.
export function formatCompact(value: Maybe, unit = ''): string {
  if (!known(value)) return UNKNOWN;
  const suffix = unit ? ` ${unit}` : '';
  const abs = Math.abs(value);
  for (const [scale, prefix] of [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const) {
    if (abs >= scale) return `${short(value / scale)} ${prefix}${suffix}`;
  }
  return `${short(value)}${suffix}`;
}

export function formatFuel(value: Maybe): string {
  return formatCompact(value, 'fuel');
}

export function formatMs(ms: Maybe): string {
  if (!known(ms)) return UNKNOWN;
  const abs = Math.abs(ms);
  if (ms === 0) return '0 ms';
  if (abs < 1) return `${short(ms * 1000)} µs`;
  if (abs < 1000) return `${short(ms)} ms`;
  if (abs < 60_000) return `${short(ms / 1000)} s`;
  if (abs < 3_600_000) {
    const minutes = Math.floor(abs / 60_000);
    const seconds = Math.round((abs % 60_000) / 1000);
    return `${ms < 0 ? '-' : ''}${minutes} min${seconds ? ` ${seconds} s` : ''}`;
  }
  const hours = Math.floor(abs / 3_600_000);
  const minutes = Math.round((abs % 3_600_000) / 60_000);
  return `${ms < 0 ? '-' : ''}${hours} h${minutes ? ` ${minutes} min` : ''}`;
}

export function formatBytes(bytes: Maybe): string {
  if (!known(bytes)) return UNKNOWN;
  const abs = Math.abs(bytes);
  if (abs < 1024) return `${Math.round(bytes)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${short(value)} ${units[unit]}`;
}

export function formatMb(mb: Maybe): string {
  if (!known(mb)) return UNKNOWN;
  return mb >= 1024 ? `${short(mb / 1024)} GiB` : `${short(mb)} MiB`;
}

// Compute usage: memory times time, as MB·s, GB·s or GB·h.
export function formatMbSeconds(value: Maybe): string {
  if (!known(value)) return UNKNOWN;
  if (value < 1024) return `${short(value)} MB·s`;
  const gbs = value / 1024;
  if (gbs < 3600) return `${short(gbs)} GB·s`;
  return `${short(gbs / 3600)} GB·h`;
}

// Percentages keep one decimal below 10 % and none above: 0.5 %, 6.3 %, 42 %.
export function formatPercent(value: Maybe): string {
  if (!known(value)) return UNKNOWN;
  return `${Number(value.toFixed(Math.abs(value) < 10 ? 1 : 0))} %`;
}

// A fraction 0..1 as a percentage.
export function formatFraction(value: Maybe): string {
  return known(value) ? formatPercent(value * 100) : UNKNOWN;
}

export function formatCelsius(value: Maybe): string {
  if (!known(value)) return UNKNOWN;
  return `${value.toFixed(1)} °C`;
}

export function formatRate(perSecond: Maybe): string {
  if (!known(perSecond)) return UNKNOWN;
  return `${short(perSecond)} /s`;
}

export function formatTime(ms: Maybe): string {
  if (!known(ms)) return UNKNOWN;
  const date = new Date(ms);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

// "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago"; future times as "in 5 min".
export function formatAgo(at: Maybe, now: number): string {
  if (!known(at)) return 'never';
  const delta = now - at;
  const abs = Math.abs(delta);
  let text: string;
  if (abs < 1500) return 'just now';
  if (abs < 60_000) text = `${Math.round(abs / 1000)} s`;
  else if (abs < 3_600_000) text = `${Math.round(abs / 60_000)} min`;
  else if (abs < 86_400_000) text = `${Math.round(abs / 3_600_000)} h`;
  else text = `${Math.round(abs / 86_400_000)} d`;
  return delta >= 0 ? `${text} ago` : `in ${text}`;
}

export function stateLabel(state: string): string {
  return state.replace(/_/g, ' ');
}
