// Usage figures: this month's totals and how much of each quota is left.
import type { UsageAnswer, UsageMonth } from '../api/types';

export function utcMonth(now: number): string {
  const date = new Date(now);
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function thisMonth(usage: UsageAnswer, now: number): UsageMonth {
  const month = utcMonth(now);
  return usage.months.find((m) => m.month === month) ?? { month, invocations: 0, compute_mb_seconds: 0, fuel: 0 };
}

export interface QuotaLine {
  label: string;
  used: number;
  limit: number;
  left: number;
  fraction: number; // used / limit, 0..1
}

export function quotaLines(usage: UsageAnswer): QuotaLine[] {
  const line = (label: string, used: number, limit: number): QuotaLine => ({
    label,
    used,
    limit,
    left: Math.max(limit - used, 0),
    fraction: limit > 0 ? Math.min(used / limit, 1) : 1,
  });
  return [
    line('Invocations today (UTC)', usage.today.invocations, usage.quota.max_per_day),
    line('Concurrent invocations', usage.active, usage.quota.max_concurrent),
  ];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// "2026-11" -> "Nov 26"
export function monthLabel(month: string): string {
  const [year, number] = month.split('-');
  const name = MONTHS[Number(number) - 1];
  return name && year ? `${name} ${year.slice(2)}` : month;
}
