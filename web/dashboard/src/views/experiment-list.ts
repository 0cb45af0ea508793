import type { ExperimentView, StatsView } from '@assigner/contracts';
import { ApiProblem, encode, getJson } from '../api';
import { el, empty, formatCount, formatTime, link, loading, show, tableHead } from '../dom';
import { problemBox } from '../problems';
import { sampleRatioBadge } from '../sample-ratio-badge';

/** Every experiment, archived ones too, each with its counts once they arrive. */
export async function experimentListView(root: HTMLElement): Promise<void> {
  show(root, el('h1', null, 'Experiments'), loading('experiments'));
  const { experiments } = await getJson<{ experiments: ExperimentView[] }>(
    '/experiments?include_archived=true',
  );
  if (experiments.length === 0) {
    show(
      root,
      el('h1', null, 'Experiments'),
      empty('No experiments yet: apply an experiments file or PUT one through the API.'),
    );
    return;
  }
  const rows = experiments.map((experiment) => experimentRow(experiment));
  show(
    root,
    el('h1', null, 'Experiments'),
    el(
      'section',
      { className: 'panel' },
      el(
        'table',
        { attributes: { id: 'experiments' } },
        tableHead(
          'Experiment',
          'Status',
          'Revision#',
          'Buckets#',
          'Assignments#',
          'Sample ratio',
          'Last decision',
        ),
        el('tbody', null, ...rows.map(({ row }) => row)),
      ),
    ),
  );
  await Promise.all(rows.map(({ counts }) => counts()));
}

function experimentRow(experiment: ExperimentView): {
  row: HTMLTableRowElement;
  counts: () => Promise<void>;
} {
  const { name } = experiment;
  const assignments = el('td', { className: 'number assignments' }, '…');
  const ratio = el('td', { className: 'sample-ratio' }, '…');
  const last = el('td', { className: 'last-decision' }, '…');
  const row = el(
    'tr',
    { data: { experiment: name } },
    el('td', null, link(`/experiment/${encode(name)}`, name)),
    el(
      'td',
      null,
      experiment.archived
        ? el('span', { className: 'badge archived' }, 'archived')
        : el('span', { className: 'badge ok' }, 'active'),
    ),
    el('td', { className: 'number' }, experiment.revision),
    el('td', { className: 'number' }, experiment.definition.numBuckets),
    assignments,
    ratio,
    last,
  );
  const counts = async () => {
    try {
      const stats = await getJson<StatsView>(`/experiments/${encode(name)}/stats`);
      show(assignments, formatCount(stats.total));
      show(ratio, sampleRatioBadge(stats.sampleRatio));
      show(last, formatTime(stats.lastAssignedAt));
    } catch (error) {
      const counting = error instanceof ApiProblem && error.status === 503;
      show(assignments, counting ? 'counting…' : '—');
      show(ratio, counting ? '' : problemBox(error));
      show(last, '');
    }
  };
  return { row, counts };
}
