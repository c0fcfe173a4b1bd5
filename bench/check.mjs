// The correctness check beside every timing: a fast wrong answer is not a result. Each
// contender's first output is compared with the reference kernels' (float64 accumulation) answer.

/** Largest error allowed, relative to the largest magnitude in the reference answer. */
export const RELATIVE_TOLERANCE = 1e-4;

/** Returns { verdict: 'ok' | 'wrong' | 'unchecked', detail? }. */
export function compareToReference(output, reference) {
  if (!reference) return { verdict: 'unchecked', detail: 'no reference answer (the js backend did not run)' };
  if (output.length !== reference.length) {
    return { verdict: 'wrong', detail: `${output.length} values, reference has ${reference.length}` };
  }
  let scale = 0;
  for (let i = 0; i < reference.length; i++) scale = Math.max(scale, Math.abs(reference[i]));
  let worst = 0;
  let worstAt = -1;
  let mismatched = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(output[i] - reference[i]);
    const bad = !(d <= RELATIVE_TOLERANCE * scale) && !(Number.isNaN(output[i]) && Number.isNaN(reference[i]));
    if (bad) mismatched++;
    if (bad && !(d <= worst)) {
      worst = d;
      worstAt = i;
    }
  }
  if (mismatched === 0) return { verdict: 'ok' };
  return {
    verdict: 'wrong',
    detail: `${mismatched} of ${reference.length} values off by more than ${RELATIVE_TOLERANCE} × max|ref| ` +
      `(worst at ${worstAt}: ${output[worstAt]} vs ${reference[worstAt]})`,
  };
}
