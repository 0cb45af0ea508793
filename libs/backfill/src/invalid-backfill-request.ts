/** A backfill asked for something it cannot do (e.g. an experiment not in force): every reason. */
export class InvalidBackfillRequest extends Error {
  override readonly name = 'InvalidBackfillRequest';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}
