import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { el } from './dom';

// Only the parts the two charts use: a smaller bundle than `registerables`.
Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Legend,
  Tooltip,
);

const PALETTE = ['#1f5fbf', '#e07b00', '#1b7f3b', '#8e3fb5', '#c62828', '#00838f', '#6d4c41'];
const colour = (index: number): string => PALETTE[index % PALETTE.length]!;

/**
 * A chart in a figure whose `data-chart` attribute holds the numbers drawn (JSON), so that what
 * the chart shows can be read back and compared with the API.
 */
function chartFigure(
  caption: string,
  data: unknown,
): { figure: HTMLElement; canvas: HTMLCanvasElement } {
  const canvas = el('canvas', { attributes: { role: 'img', 'aria-label': caption } });
  const figure = el(
    'figure',
    { className: 'chart', data: { chart: JSON.stringify(data) } },
    canvas,
  );
  return { figure, canvas };
}

const commonOptions = {
  animation: false as const,
  responsive: true,
  maintainAspectRatio: false,
};

/** Assignments per bucket, hashed and forced apart, stacked. */
export function bucketSplitChart(
  buckets: readonly number[],
  forced: readonly number[],
): HTMLElement {
  const labels = buckets.map((_, bucket) => `bucket ${bucket}`);
  const hashed = buckets.map((count, bucket) => count - (forced[bucket] ?? 0));
  const { figure, canvas } = chartFigure('Assignments per bucket, hashed and forced', {
    labels,
    hashed,
    forced: [...forced],
  });
  new Chart(canvas, {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: 'hashed', data: hashed, backgroundColor: colour(0) },
        { label: 'forced', data: [...forced], backgroundColor: colour(1) },
      ],
    },
    options: {
      ...commonOptions,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
    },
  });
  return figure;
}

/** Assignments entering each bucket per day, one line per bucket. */
export function dailyChart(
  days: readonly string[],
  buckets: readonly (readonly number[])[],
): HTMLElement {
  const { figure, canvas } = chartFigure('Assignments per bucket per day', {
    days: [...days],
    buckets: buckets.map((series) => [...series]),
  });
  new Chart(canvas, {
    type: 'line',
    data: {
      labels: [...days],
      datasets: buckets.map((series, bucket) => ({
        label: `bucket ${bucket}`,
        data: [...series],
        borderColor: colour(bucket),
        backgroundColor: colour(bucket),
        tension: 0.2,
      })),
    },
    options: { ...commonOptions, scales: { y: { beginAtZero: true } } },
  });
  return figure;
}
