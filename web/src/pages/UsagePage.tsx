import { useMemo } from 'react';
import { useClient } from '../api/session';
import { BarChart } from '../components/BarChart';
import { Card, Empty, ErrorBox, Loading, Stat } from '../components/ui';
import { useInvocationEvents } from '../live/LiveProvider';
import { formatCompact, formatCount, formatFuel, formatMb, formatMbSeconds } from '../lib/format';
import { useAsync, useThrottled } from '../lib/useAsync';
import { monthLabel, quotaLines, thisMonth } from '../lib/usage';

export function UsagePage() {
  const client = useClient();
  const usage = useAsync(() => client.usage(), [client]);
  const reload = useThrottled(usage.reload, 5000);
  useInvocationEvents(() => reload());
  const now = Date.now();

  const daily = useMemo(() => {
    const days = usage.data?.days;
    if (!days || days.length === 0) return null;
    return [...days].sort((a, b) => a.day.localeCompare(b.day));
  }, [usage.data]);
  const monthly = useMemo(() => [...(usage.data?.months ?? [])].sort((a, b) => a.month.localeCompare(b.month)), [usage.data]);

  if (usage.loading && !usage.data) return <Loading what="Loading usage" />;
  if (usage.error && !usage.data) {
    return (
      <div className="page">
        <h1>Usage</h1>
        <ErrorBox error={usage.error} retry={usage.reload} />
      </div>
    );
  }
  const data = usage.data;
  if (!data) return null;
  const month = thisMonth(data, now);
  return (
    <div className="page">
      <h1>Usage</h1>
      {usage.error && <ErrorBox error={usage.error} retry={usage.reload} />}
      <div className="stats" data-testid="usage-stats">
        <Stat label={`Invocations in ${month.month}`} value={formatCount(month.invocations)} />
        <Stat label="Compute" value={formatMbSeconds(month.compute_mb_seconds)} hint="memory × run time" />
        <Stat label="Fuel" value={formatFuel(month.fuel)} hint="WebAssembly instructions metered" />
      </div>
      <div className="grid">
        <Card title="Quotas">
          <ul className="quotas">
            {quotaLines(data).map((q) => (
              <li key={q.label}>
                <div className="quota-head">
                  <span>{q.label}</span>
                  <span>
                    <strong>{formatCount(q.left)}</strong> left of {formatCount(q.limit)}
                  </span>
                </div>
                <div className={`bar ${q.fraction >= 0.9 ? 'bar-hot' : ''}`} role="meter" aria-valuemin={0} aria-valuemax={q.limit} aria-valuenow={q.used} aria-label={q.label}>
                  <span style={{ width: `${q.fraction * 100}%` }} />
                </div>
              </li>
            ))}
            <li>
              <div className="quota-head">
                <span>Memory per invocation</span>
                <span>
                  at most <strong>{formatMb(data.quota.max_memory_mb)}</strong>
                </span>
              </div>
            </li>
          </ul>
        </Card>
        <Card title={daily ? 'Invocations per day (this month, UTC)' : 'Invocations per month'}>
          {daily ? (
            <BarChart
              label="Invocations per day"
              bars={daily.map((d) => ({ key: d.day, label: String(Number(d.day.slice(8))), title: d.day, value: d.invocations }))}
              format={formatCompact}
              labelEvery={daily.length > 16 ? 5 : 1}
            />
          ) : monthly.length > 0 ? (
            <BarChart
              label="Invocations per month"
              bars={monthly.slice(-12).map((m) => ({ key: m.month, label: monthLabel(m.month), title: m.month, value: m.invocations }))}
              format={formatCompact}
            />
          ) : (
            <Empty>No usage recorded yet.</Empty>
          )}
        </Card>
      </div>
      {daily && (
        <Card title="Compute per day (this month, UTC)">
          <BarChart
            label="Compute per day"
            bars={daily.map((d) => ({ key: d.day, label: String(Number(d.day.slice(8))), title: d.day, value: d.compute_mb_seconds }))}
            format={formatMbSeconds}
            labelEvery={daily.length > 16 ? 5 : 1}
          />
        </Card>
      )}
      <Card title="By month">
        {monthly.length === 0 ? (
          <Empty>No usage recorded yet.</Empty>
        ) : (
          <table className="table responsive">
            <thead>
              <tr>
                <th>Month</th>
                <th className="num">Invocations</th>
                <th className="num">Compute</th>
                <th className="num">Fuel</th>
              </tr>
            </thead>
            <tbody>
              {[...monthly].reverse().map((m) => (
                <tr key={m.month}>
                  <td data-label="Month">{m.month}</td>
                  <td data-label="Invocations" className="num">
                    {formatCount(m.invocations)}
                  </td>
                  <td data-label="Compute" className="num">
                    {formatMbSeconds(m.compute_mb_seconds)}
                  </td>
                  <td data-label="Fuel" className="num">
                    {formatFuel(m.fuel)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}
