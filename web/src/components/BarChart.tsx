// A small bar chart for a few dozen periods (days of a month, months),
// in plain HTML so every bar carries its value as text for screen readers
// and tooltips.
export interface Bar {
  key: string;
  label: string; // under the bar, e.g. "3" for a day
  title: string; // the full period, e.g. "2026-11-03"
  value: number;
}

export function BarChart({ bars, format, label, labelEvery = 1 }: { bars: Bar[]; format(value: number): string; label: string; labelEvery?: number }) {
  const max = Math.max(...bars.map((b) => b.value), 0);
  return (
    <figure className="bar-chart" aria-label={label}>
      <div className="bar-chart-max muted small">{max > 0 ? format(max) : ''}</div>
      <ol className="bar-chart-bars">
        {bars.map((bar, index) => (
          <li key={bar.key} title={`${bar.title}: ${format(bar.value)}`}>
            <span className="bar-chart-bar" style={{ height: `${max > 0 ? (100 * bar.value) / max : 0}%` }} />
            <span className="bar-chart-label">{index % labelEvery === 0 ? bar.label : ''}</span>
            <span className="sr-only">
              {bar.title}: {format(bar.value)}
            </span>
          </li>
        ))}
      </ol>
    </figure>
  );
}
