import type { StructuredInputItem, StructuredInputSubmission } from '../protocol/index.js';

/**
 * A pending structured input with the user's answers applied, as the reference records them:
 * a question with no answer, an empty answer or one marked skipped (or a submission skipped as a
 * whole) is recorded as skipped; a single-choice question keeps only the first value. Answers to
 * questions the item does not ask are ignored.
 */
export function answerStructuredInput(item: StructuredInputItem, submission: StructuredInputSubmission): StructuredInputItem {
  return {
    ...item,
    status: submission.status,
    inputs: item.inputs.map((question) => {
      const answer = submission.answers[question.id];
      if (submission.status === 'skipped' || !answer || answer.skipped || answer.values.length === 0) {
        return { ...question, answer: { values: [], skipped: true } };
      }
      const values = question.type === 'multiple_choice' && !question.multiple ? answer.values.slice(0, 1) : answer.values;
      return { ...question, answer: { values, skipped: false } };
    }),
  };
}
