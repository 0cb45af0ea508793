import type {
  ExplainAnswer,
  ExplanationStepView,
  LearnerAttributesView,
} from '@assigner/contracts';
import { el, formatTime, link } from '../dom';
import { encode } from '../api';

/** An explain answer: the decision, each check in order, and the stored assignment. */
export function explanationList(answer: ExplainAnswer): HTMLElement {
  const { decision, stored } = answer;
  return el(
    'div',
    null,
    el(
      'p',
      {
        className: 'decision',
        data: {
          bucketed: String(decision.bucketed),
          bucket: decision.bucketed ? String(decision.bucket) : '',
        },
      },
      el('strong', null, decision.bucketed ? `Bucket ${decision.bucket}` : 'Not bucketed'),
      ` (${decision.reason}) for user ${answer.userId}`,
      answer.username !== null && ` (${answer.username})`,
      answer.courseId !== null && ` in ${answer.courseId}`,
      `, at ${formatTime(answer.at)}, revision ${answer.revision}.`,
      !answer.learnerKnown && ' No event of this learner was applied yet.',
    ),
    el('p', { className: 'attributes' }, describeAttributes(answer.learnerAttributes)),
    el(
      'ol',
      { className: 'steps' },
      ...answer.steps.map((step) => el('li', null, describeStep(step))),
    ),
    el(
      'p',
      { className: 'stored', data: { bucket: stored ? String(stored.bucket) : '' } },
      stored
        ? `Stored: bucket ${stored.bucket} (${stored.reason}), decided ${formatTime(stored.lastDecidedAt)}, ${stored.history.length} change(s). `
        : 'Stored: no assignment. ',
      link(`/learner/${encode(String(answer.userId))}`, 'This learner\u2019s assignments'),
    ),
  );
}

function describeStep(step: ExplanationStepView): string {
  switch (step.check) {
    case 'learner':
      return step.result === 'known'
        ? `Learner: known as ${step.username ?? ''}`
        : `Learner: ${step.result === 'anonymous' ? 'anonymous' : 'no username known'}`;
    case 'main_flag':
      return `Main flag ${step.flag}: ${step.on ? 'on' : 'off'}, decided by ${step.decidedBy}${step.defined ? '' : ' (not defined)'}; rules consulted: ${rulesOf(step.rules)}`;
    case 'enrollment_window':
      return step.verdict === 'not_applicable'
        ? `Enrollment window: not applicable${step.skipped ? ` (${step.skipped})` : ''}`
        : `Enrollment window [${step.enrollmentStart ?? '—'}, ${step.enrollmentEnd ?? '—'}): ${step.verdict}${step.bound ? ` (${step.bound})` : ''}, enrolled ${formatTime(step.enrolledAt)}${step.usedDecisionTime ? ' (no enrollment known: the decision time stood in)' : ''}`;
    case 'bucket_flag':
      return `Bucket ${step.bucket} flag ${step.flag}: ${step.on ? 'on' : 'off'}, decided by ${step.decidedBy}; rules consulted: ${rulesOf(step.rules)}`;
    case 'layer':
      return `Layer ${step.layer}: the learner's share ${step.share.toFixed(2)} against [${step.range.join(', ')}): ${step.verdict.replaceAll('_', ' ')}${step.heldBy ? ` (assigned in ${step.heldBy})` : ''}`;
    case 'holdout':
      return `Holdout ${step.name} (${step.percent}%): the learner's share ${step.share.toFixed(2)}, ${step.heldOut ? 'held out' : 'not held out'}`;
    case 'hash':
      return `Hash: group ${step.group} over ${step.numBuckets} buckets → bucket ${step.bucket}${step.bucketVersion ? ` (bucket version ${step.bucketVersion})` : ''}`;
  }
}

const rulesOf = (rules: readonly { rule: string; result: string }[]): string =>
  rules.length === 0 ? 'none' : rules.map(({ rule, result }) => `${rule} ${result}`).join(', ');

function describeAttributes(attributes: LearnerAttributesView): string {
  const what = `staff ${attributes.isStaff ? 'yes' : 'no'}, superuser ${attributes.isSuperuser ? 'yes' : 'no'}`;
  switch (attributes.source) {
    case 'lms_export':
      return `Learner attributes: ${what}, from the LMS export ${attributes.loadedFrom ?? ''} loaded ${formatTime(attributes.loadedAt)} by ${attributes.loadedBy ?? '—'}.`;
    case 'query':
      return `Learner attributes: ${what} (staff as asked in the query).`;
    case 'none':
      return `Learner attributes: ${what} (no LMS export names this learner).`;
  }
}
