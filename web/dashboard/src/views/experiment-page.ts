import type {
  DailyStatsView,
  ExperimentView,
  ExplainAnswer,
  RevisionView,
  StatsView,
} from '@assigner/contracts';
import { encode, getJson } from '../api';
import { bucketSplitChart, dailyChart } from '../charts';
import { definitionChanges } from '../definition-diff';
import { el, empty, field, formatCount, formText, formatTime, link, loading, show } from '../dom';
import { problemBox } from '../problems';
import { formatP, sampleRatioBadge } from '../sample-ratio-badge';
import { sortableTable } from '../sortable-table';
import { explanationList } from './explanation';

/** One experiment: its health (split, days, courses, sample ratio), definition, history, explain. */
export async function experimentPage(root: HTMLElement, name: string): Promise<void> {
  const path = `/experiments/${encode(name)}`;
  show(root, el('h1', null, name), loading('the experiment'));
  const experiment = await getJson<ExperimentView>(path);

  const counts = el('div', null, loading('the counts'));
  const history = el('div', null, loading('the history'));
  show(
    root,
    el('h1', null, name),
    el(
      'div',
      { className: 'meta' },
      experiment.archived
        ? el('span', { className: 'badge archived' }, 'archived')
        : el('span', { className: 'badge ok' }, 'active'),
      el('span', null, `revision ${experiment.revision}`),
      el('span', null, `${experiment.definition.numBuckets} buckets`),
      el('span', null, `scope ${experiment.definition.scope}`),
      experiment.definition.bucketVersion
        ? el('span', null, `bucket version ${experiment.definition.bucketVersion}`)
        : null,
      experiment.definition.layer &&
        el(
          'span',
          null,
          `layer ${experiment.definition.layer.name} [${experiment.definition.layer.range.join(', ')})`,
        ),
      experiment.definition.holdout &&
        el(
          'span',
          null,
          `holdout ${experiment.definition.holdout.name} (${experiment.definition.holdout.percent}%)`,
        ),
      el(
        'span',
        null,
        `changed ${formatTime(experiment.updatedAt)} by ${experiment.updatedBy ?? '—'}`,
      ),
    ),
    counts,
    explainPanel(name, path),
    el(
      'section',
      { className: 'panel' },
      el('h2', null, 'Definition'),
      el(
        'pre',
        { attributes: { id: 'definition' } },
        JSON.stringify(experiment.definition, null, 2),
      ),
    ),
    history,
  );
  await Promise.all([
    showCounts(counts, path).catch((error: unknown) => show(counts, problemBox(error))),
    showHistory(history, path).catch((error: unknown) => show(history, problemBox(error))),
  ]);
}

async function showCounts(target: HTMLElement, path: string): Promise<void> {
  const [stats, daily] = await Promise.all([
    getJson<StatsView>(`${path}/stats`),
    getJson<DailyStatsView>(`${path}/stats/daily`),
  ]);
  const held = stats.holdout;
  const note = el(
    'p',
    { className: 'meta' },
    held &&
      `Holdout ${held.name}: ${held.members === null ? 'being counted' : formatCount(held.members)} learners held out. `,
    `As counted at ${formatTime(stats.countedAt)}${stats.recounting ? ' (a newer count is running)' : ''}; first assignment ${formatTime(stats.firstAssignedAt)}, last ${formatTime(stats.lastAssignedAt)}.`,
  );
  if (stats.total === 0) {
    show(
      target,
      el(
        'section',
        { className: 'panel' },
        el('h2', null, 'Assignments'),
        empty('No assignments yet.'),
        note,
      ),
    );
    return;
  }
  const check = stats.sampleRatio;
  show(
    target,
    el(
      'section',
      { className: 'panel', attributes: { id: 'sample-ratio' } },
      el('h2', null, 'Sample ratio'),
      el(
        'p',
        null,
        sampleRatioBadge(check),
        ' ',
        check
          ? `Chi-square ${check.chiSquare.toFixed(2)} on ${check.degreesOfFreedom} degree(s) of freedom over ${formatCount(check.total)} hashed assignments (forced ones left out): p = ${formatP(check.pValue)}. Below 0.001 the split is not the equal one the hash should give: look for a broken trigger, a filter, or lost events.`
          : 'One bucket: nothing to compare.',
      ),
      note,
    ),
    el(
      'div',
      { className: 'grid' },
      el(
        'section',
        { className: 'panel', attributes: { id: 'bucket-split' } },
        el('h2', null, `Bucket split (${formatCount(stats.total)} assignments)`),
        bucketSplitChart(stats.buckets, stats.forced),
      ),
      el(
        'section',
        { className: 'panel', attributes: { id: 'daily' } },
        el('h2', null, 'Assignments per bucket per day'),
        daily.days.length > 0
          ? dailyChart(daily.days, daily.buckets)
          : empty('No assignments yet.'),
      ),
    ),
    el(
      'section',
      { className: 'panel', attributes: { id: 'courses' } },
      el('h2', null, 'Per course'),
      sortableTable(
        [
          { title: 'Course', kind: 'text' },
          { title: 'Assignments', kind: 'number' },
          ...stats.buckets.map((_, bucket) => ({
            title: `Bucket ${bucket}`,
            kind: 'number' as const,
          })),
          { title: 'Forced', kind: 'number' },
          { title: 'p-value', kind: 'p-value' },
        ],
        stats.courses.map((course) => [
          course.courseId ?? '(no course: global)',
          course.total,
          ...course.buckets,
          course.forced.reduce((sum, count) => sum + count, 0),
          course.sampleRatio ? course.sampleRatio.pValue : Number.NaN,
        ]),
      ),
    ),
  );
}

async function showHistory(target: HTMLElement, path: string): Promise<void> {
  const { history } = await getJson<{ history: RevisionView[] }>(`${path}/history`);
  show(
    target,
    el(
      'section',
      { className: 'panel', attributes: { id: 'history' } },
      el('h2', null, 'History'),
      history.length === 0
        ? empty('No recorded changes.')
        : el('ol', { className: 'history' }, ...[...history].reverse().map(revisionItem)),
    ),
  );
}

function revisionItem(revision: RevisionView): HTMLElement {
  const changes = definitionChanges(revision.before ?? {}, revision.after);
  const text = (value: unknown) => (value === undefined ? '' : JSON.stringify(value));
  return el(
    'li',
    { data: { revision: String(revision.revision) } },
    el('strong', null, `Revision ${revision.revision}: ${revision.action}`),
    ` by ${revision.actor}, ${formatTime(revision.at)}`,
    revision.action === 'created'
      ? null
      : changes.length === 0
        ? el('p', { className: 'empty' }, 'No change to the definition.')
        : el(
            'ul',
            { className: 'diff' },
            ...changes.map((change) =>
              el(
                'li',
                null,
                el('code', null, change.path || '(whole definition)'),
                ': ',
                change.before !== undefined && el('del', null, text(change.before)),
                change.before !== undefined && change.after !== undefined && ' → ',
                change.after !== undefined && el('ins', null, text(change.after)),
              ),
            ),
          ),
  );
}

/** Why a learner is (not) in a bucket: each check in order, and what is stored. */
function explainPanel(name: string, path: string): HTMLElement {
  const result = el('div', { attributes: { id: 'explain-result' } });
  const form = el(
    'form',
    { className: 'inline', attributes: { id: 'explain-form' } },
    field('User id', 'user_id', { required: true, placeholder: '42' }),
    field('Course id (per-course experiments)', 'course_id', {
      placeholder: 'course-v1:MITx+6.00x+2026',
    }),
    field('At (ISO time, default now)', 'at', { placeholder: '2026-03-01T12:00:00Z' }),
    el('button', { attributes: { type: 'submit' } }, 'Explain'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const key of ['user_id', 'course_id', 'at']) {
      const value = formText(form, key);
      if (value) query.set(key, value);
    }
    show(result, loading('the explanation'));
    getJson<ExplainAnswer>(`${path}/explain?${query.toString()}`)
      .then((answer) => show(result, explanationList(answer)))
      .catch((error: unknown) => show(result, problemBox(error)));
  });
  return el(
    'section',
    { className: 'panel', attributes: { id: 'explain' } },
    el('h2', null, 'Explain a decision'),
    el(
      'p',
      null,
      `What the worker would decide now (or at a time) for one learner in ${name}, and what is stored; `,
      link('/learner', 'all of a learner\u2019s assignments'),
      '.',
    ),
    form,
    result,
  );
}
