import { describe, expect, it } from 'vitest';
import type { UsageAnswer } from '../src/api/types';
import { base64ToBytes, bytesToBase64, hexDump, preferredView, prettyJsonOrNull, utf8OrNull } from '../src/lib/bytes';
import { fromLocalInput, toLocalInput } from '../src/lib/time';
import { monthLabel, quotaLines, thisMonth, utcMonth } from '../src/lib/usage';
import { isFunctionName, isUserName, looksLikeWasm, nameFromFile, optionalPositiveInt, parseEnv } from '../src/lib/validate';

const text = (s: string) => new TextEncoder().encode(s);

describe('output views', () => {
  it('prefer JSON, then text, then hex', () => {
    expect(preferredView(text('{"a":1}'))).toBe('json');
    expect(preferredView(text('Hello from MILF!\n'))).toBe('text');
    expect(preferredView(new Uint8Array([0xff, 0xfe, 0x00]))).toBe('hex');
    expect(preferredView(new Uint8Array())).toBe('text');
  });

  it('pretty-print JSON and refuse what is not', () => {
    expect(prettyJsonOrNull(text('[1,{"b":2}]'))).toBe('[\n  1,\n  {\n    "b": 2\n  }\n]');
    expect(prettyJsonOrNull(text('{"a":'))).toBeNull();
    expect(prettyJsonOrNull(text('   '))).toBeNull();
    expect(utf8OrNull(new Uint8Array([0xc3]))).toBeNull();
  });

  it('dump hex with offsets and printable ASCII', () => {
    const dump = hexDump(text('MILF\x00\x01 hex dump test!!'));
    expect(dump.split('\n')[0]).toBe('00000000  4d 49 4c 46 00 01 20 68  65 78 20 64 75 6d 70 20  |MILF.. hex dump |');
    expect(dump.split('\n')[1]).toBe(`00000010  ${'74 65 73 74 21 21'.padEnd(23)}  ${''.padEnd(23)}  |test!!|`);
    expect(hexDump(new Uint8Array(40), 16).split('\n')).toEqual([expect.stringMatching(/^00000000/), '… 24 more bytes']);
  });

  it('round-trip base64, binary included', () => {
    const bytes = new Uint8Array(256).map((_, i) => i);
    expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
  });
});

describe('form checks', () => {
  it('function and user names follow the API', () => {
    expect(isFunctionName('hello-world_2')).toBe(true);
    for (const bad of ['', '-x', 'Hello', 'a.b', 'a'.repeat(64), '../x']) expect(isFunctionName(bad)).toBe(false);
    expect(isUserName('ann.lee')).toBe(true);
    expect(isUserName('Ann')).toBe(false);
  });

  it('suggest a function name from a file name', () => {
    expect(nameFromFile('Hello World.wasm')).toBe('hello-world');
    expect(nameFromFile('__echo.WASM')).toBe('echo');
    expect(isFunctionName(nameFromFile('x'.repeat(100) + '.wasm'))).toBe(true);
  });

  it('recognise a wasm header', () => {
    expect(looksLikeWasm(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))).toBe(true);
    expect(looksLikeWasm(text('(module)'))).toBe(false);
    expect(looksLikeWasm(new Uint8Array([0, 0x61]))).toBe(false);
  });

  it('parse K=V lines and positive integers', () => {
    expect(parseEnv('A=1\n\n B=two words \nC=')).toEqual({ env: ['A=1', 'B=two words', 'C='] });
    expect(parseEnv('A=1\nnot a pair')).toEqual({ error: 'not a K=V line: not a pair' });
    expect(parseEnv('=x')).toHaveProperty('error');
    expect(parseEnv('1A=x')).toHaveProperty('error');
    expect(optionalPositiveInt(' 64 ', 'Memory')).toEqual({ value: 64 });
    expect(optionalPositiveInt('', 'Memory')).toEqual({ value: undefined });
    for (const bad of ['0', '-3', '1.5', '1e3', 'abc', '99999999999999999999']) {
      expect(optionalPositiveInt(bad, 'Memory')).toEqual({ error: 'Memory must be a positive whole number' });
    }
  });
});

describe('usage', () => {
  const usage: UsageAnswer = {
    months: [
      { month: '2026-10', invocations: 5, compute_mb_seconds: 1, fuel: 2 },
      { month: '2026-11', invocations: 40, compute_mb_seconds: 3, fuel: 4 },
    ],
    quota: { max_concurrent: 4, max_per_day: 100, max_memory_mb: 128 },
    today: { invocations: 120 },
    active: 1,
  };

  it('finds this UTC month, or zeros', () => {
    expect(utcMonth(Date.UTC(2026, 10, 30, 23, 59))).toBe('2026-11');
    expect(thisMonth(usage, Date.UTC(2026, 10, 2)).invocations).toBe(40);
    expect(thisMonth(usage, Date.UTC(2027, 0, 2))).toEqual({ month: '2027-01', invocations: 0, compute_mb_seconds: 0, fuel: 0 });
  });

  it('says how much of each quota is left, never below zero', () => {
    expect(quotaLines(usage)).toEqual([
      { label: 'Invocations today (UTC)', used: 120, limit: 100, left: 0, fraction: 1 },
      { label: 'Concurrent invocations', used: 1, limit: 4, left: 3, fraction: 0.25 },
    ]);
  });

  it('labels months briefly', () => {
    expect(monthLabel('2026-11')).toBe('Nov 26');
    expect(monthLabel('garbage')).toBe('garbage');
  });
});

describe('datetime-local fields', () => {
  it('round-trip to the minute', () => {
    const ms = new Date(2026, 4, 6, 7, 8).getTime();
    expect(toLocalInput(ms)).toBe('2026-05-06T07:08');
    expect(fromLocalInput('2026-05-06T07:08')).toBe(ms);
    expect(fromLocalInput('')).toBeUndefined();
    expect(toLocalInput(undefined)).toBe('');
  });
});
