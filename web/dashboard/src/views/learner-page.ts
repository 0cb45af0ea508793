import type { AssignmentView } from '@assigner/contracts';
import { encode, getJson } from '../api';
import { el, empty, field, formText, formatTime, link, loading, show, tableHead } from '../dom';
import { problemBox } from '../problems';

/** One learner's assignments across experiments, with bucket histories and message ids. */
export async function learnerPage(
  root: HTMLElement,
  query: { userId?: string; username?: string },
): Promise<void> {
  const form = el(
    'form',
    { className: 'inline', attributes: { id: 'learner-form' } },
    field('User id', 'user_id', { value: query.userId ?? '', placeholder: '42' }),
    field('or username', 'username', { value: query.username ?? '' }),
    el('button', { attributes: { type: 'submit' } }, 'Look up'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const userId = formText(form, 'user_id');
    const username = formText(form, 'username');
    location.hash = userId
      ? `#/learner/${encode(userId)}`
      : username
        ? `#/learner?username=${encode(username)}`
        : '#/learner';
  });
  const result = el('div', { attributes: { id: 'learner-result' } });
  show(root, el('h1', null, 'Learner lookup'), el('section', { className: 'panel' }, form, result));
  if (!query.userId && !query.username) return;

  show(result, loading('the assignments'));
  const search = query.userId
    ? `user_id=${encode(query.userId)}`
    : `username=${encode(query.username!)}`;
  try {
    const { assignments } = await getJson<{ assignments: AssignmentView[] }>(
      `/assignments?${search}`,
    );
    show(
      result,
      assignments.length === 0
        ? empty('No assignments for this learner.')
        : el('div', null, ...assignments.map(assignmentCard)),
    );
  } catch (error) {
    show(result, problemBox(error));
  }
}

function assignmentCard(assignment: AssignmentView): HTMLElement {
  return el(
    'section',
    {
      className: 'panel assignment',
      data: { experiment: assignment.experiment, bucket: String(assignment.bucket) },
    },
    el(
      'h2',
      null,
      link(`/experiment/${encode(assignment.experiment)}`, assignment.experiment),
      assignment.courseId !== null && ` — ${assignment.courseId}`,
    ),
    el(
      'p',
      { className: 'meta' },
      el(
        'span',
        { className: 'username' },
        `user ${assignment.userId}${assignment.username ? ` (${assignment.username})` : ''}`,
      ),
      el('span', null, `bucket ${assignment.bucket} (${assignment.reason})`),
      el('span', null, `first decided ${formatTime(assignment.firstDecidedAt)}`),
    ),
    el(
      'table',
      null,
      tableHead('Change', 'Bucket', 'Reason', 'At', 'Message id'),
      el(
        'tbody',
        null,
        ...assignment.history.map((change) =>
          el(
            'tr',
            null,
            el('td', null, change.version),
            el('td', null, change.bucket),
            el('td', null, change.reason),
            el('td', null, formatTime(change.at)),
            el('td', null, el('code', null, change.messageId)),
          ),
        ),
      ),
    ),
  );
}
