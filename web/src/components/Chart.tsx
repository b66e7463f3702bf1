// A time series chart on uPlot. The plot is built once per series layout
// and fed new data with setData; it follows its container's width.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  values: (number | null)[];
  fill?: boolean;
  dash?: number[];
  points?: boolean; // draw every value as a dot (sparse series)
}

export interface ChartProps {
  t: number[]; // seconds
  xRange?: [number, number]; // seconds; the whole window even where there is no data yet
  series: ChartSeries[];
  format(value: number): string; // axis and legend values, with units
  height?: number;
  yMin?: number;
  stepped?: boolean; // a gauge that holds its value until the next sample
  integer?: boolean; // counts: no fractional axis ticks
  label: string; // for screen readers
}

function latestText(props: ChartProps): string {
  const parts = props.series.map((s) => {
    for (let i = s.values.length - 1; i >= 0; i -= 1) {
      const v = s.values[i];
      if (v !== null && v !== undefined) return `${s.label} ${props.format(v)}`;
    }
    return `${s.label} no data`;
  });
  return `${props.label}: latest ${parts.join(', ')}`;
}

export function Chart(props: ChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { t, series, format, height = 180, yMin, stepped, integer, xRange } = props;
  const range = useRef(xRange);
  range.current = xRange;
  const layout = series.map((s) => `${s.label}:${s.color}`).join('|') + `|${height}|${stepped ? 1 : 0}|${integer ? 1 : 0}`;
  const formatRef = useRef(format);
  formatRef.current = format;

  useEffect(() => {
    const element = container.current;
    if (!element) return undefined;
    const fmt = (v: number | null | undefined) =>
      v === null || v === undefined ? '—' : formatRef.current(v);
    const paths = stepped ? uPlot.paths.stepped?.({ align: 1 }) : undefined;
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 200),
      height,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: {
        x: { time: true, range: (_u, min, max) => range.current ?? [min, max] },
        y: {
          range: (_u, min, max) => {
            const low = yMin ?? Math.min(min ?? 0, 0);
            const high = Math.max(max ?? 0, low);
            if (high === low) return [low, low + (integer ? 2 : 1)];
            return [low, integer ? Math.ceil(high * 1.1) : high * 1.1];
          },
        },
      },
      axes: [
        { stroke: '#64748b', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#e2e8f0' } },
        {
          stroke: '#64748b',
          grid: { stroke: '#e2e8f0' },
          ticks: { stroke: '#e2e8f0' },
          size: 64,
          incrs: integer ? [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 100_000, 1_000_000] : undefined,
          values: (_u, splits) => splits.map((v) => fmt(v)),
        },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          dash: s.dash,
          fill: s.fill ? `${s.color}33` : undefined,
          spanGaps: false,
          points: s.points ? { show: true, size: 5, fill: s.color } : undefined,
          paths,
          value: (_u: uPlot, v: number | null) => fmt(v),
        })),
      ],
    };
    const data = [t, ...series.map((s) => s.values)] as uPlot.AlignedData;
    const instance = new uPlot(options, data, element);
    plot.current = instance;
    const observer = new ResizeObserver(() => {
      instance.setSize({ width: Math.max(element.clientWidth, 200), height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      instance.destroy();
      plot.current = null;
    };
    // The plot is rebuilt only when the layout changes; data flows below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [layout, yMin]);

  useEffect(() => {
    plot.current?.setData([t, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [t, series, xRange?.[0], xRange?.[1]]);

  return (
    <figure className="chart" aria-label={latestText(props)}>
      <div ref={container} className="chart-canvas" />
    </figure>
  );
}
