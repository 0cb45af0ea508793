import { ApiProblem } from './api';
import { el } from './dom';

/** An error as the page shows it: the API's problem title and detail, and each problem listed. */
export function problemBox(error: unknown): HTMLElement {
  const problem =
    error instanceof ApiProblem
      ? error
      : new ApiProblem(
          0,
          'The page failed',
          error instanceof Error ? error.message : String(error),
        );
  return el(
    'div',
    { className: 'error', attributes: { role: 'alert' } },
    el('strong', { className: 'problem-title' }, problem.title),
    el('span', { className: 'problem-detail' }, problem.detail),
    problem.problems.length > 0 &&
      el('ul', null, ...problem.problems.map((text) => el('li', null, text))),
  );
}
