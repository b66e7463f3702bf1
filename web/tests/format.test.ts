import { describe, expect, it } from 'vitest';
import {
  formatAgo,
  formatBytes,
  formatCelsius,
  formatCompact,
  formatCount,
  formatFraction,
  formatFuel,
  formatMb,
  formatMbSeconds,
  formatMs,
  formatPercent,
  formatRate,
  UNKNOWN,
} from '../src/lib/format';

describe('formatting with units', () => {
  it('durations pick µs, ms, s, min and h', () => {
    expect(formatMs(0)).toBe('0 ms');
    expect(formatMs(0.25)).toBe('250 µs');
    expect(formatMs(3.456)).toBe('3.46 ms');
    expect(formatMs(12.34)).toBe('12.3 ms');
    expect(formatMs(999)).toBe('999 ms');
    expect(formatMs(1500)).toBe('1.5 s');
    expect(formatMs(125_000)).toBe('2 min 5 s');
    expect(formatMs(120_000)).toBe('2 min');
    expect(formatMs(3_600_000 + 30 * 60_000)).toBe('1 h 30 min');
  });

  it('bytes use binary prefixes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(64 * 1024 * 1024)).toBe('64 MiB');
    expect(formatBytes(4 * 2 ** 30)).toBe('4 GiB');
    expect(formatMb(512)).toBe('512 MiB');
    expect(formatMb(2048)).toBe('2 GiB');
  });

  it('large counts are compact and carry their unit', () => {
    expect(formatCompact(950)).toBe('950');
    expect(formatCompact(13_200, 'fuel')).toBe('13.2 k fuel');
    expect(formatFuel(2_500_000)).toBe('2.5 M fuel');
    expect(formatFuel(12)).toBe('12 fuel');
    expect(formatCount(1234567)).toBe('1,234,567');
  });

  it('compute grows from MB·s to GB·s to GB·h', () => {
    expect(formatMbSeconds(12.5)).toBe('12.5 MB·s');
    expect(formatMbSeconds(2048)).toBe('2 GB·s');
    expect(formatMbSeconds(1024 * 7200)).toBe('2 GB·h');
  });

  it('percentages, fractions, temperatures and rates', () => {
    expect(formatPercent(6.32)).toBe('6.3 %');
    expect(formatPercent(42.4)).toBe('42 %');
    expect(formatFraction(0.5)).toBe('50 %');
    expect(formatFraction(0.0632)).toBe('6.3 %');
    expect(formatCelsius(36.54)).toBe('36.5 °C');
    expect(formatRate(0.0133)).toBe('0.01 /s');
    expect(formatRate(250)).toBe('250 /s');
  });

  it('unknown values render as a dash, never as zero', () => {
    for (const f of [formatMs, formatBytes, formatCount, formatFuel, formatPercent, formatCelsius, formatRate, formatMbSeconds]) {
      expect(f(null)).toBe(UNKNOWN);
      expect(f(undefined)).toBe(UNKNOWN);
      expect(f(Number.NaN)).toBe(UNKNOWN);
    }
  });

  it('relative times', () => {
    const now = 1_000_000_000;
    expect(formatAgo(now - 500, now)).toBe('just now');
    expect(formatAgo(now - 42_000, now)).toBe('42 s ago');
    expect(formatAgo(now - 5 * 60_000, now)).toBe('5 min ago');
    expect(formatAgo(now - 3 * 3_600_000, now)).toBe('3 h ago');
    expect(formatAgo(now - 2 * 86_400_000, now)).toBe('2 d ago');
    expect(formatAgo(now + 5 * 60_000, now)).toBe('in 5 min');
    expect(formatAgo(null, now)).toBe('never');
  });
});
