// The live chart of training loss (left axis) and accuracy (right axis) against the step, drawn
// by uPlot at most once per animation frame however fast the steps arrive.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface TrainingChart {
  step(step: number, loss: number, trainAccuracy: number): void;
  evaluation(step: number, accuracy: number): void;
}

export function trainingChart(target: HTMLElement): TrainingChart {
  const steps: number[] = [];
  const loss: (number | null)[] = [];
  const trainAccuracy: (number | null)[] = [];
  const testAccuracy: (number | null)[] = [];
  const data = [steps, loss, trainAccuracy, testAccuracy] as uPlot.AlignedData;
  const plot = new uPlot({
    width: Math.max(320, target.clientWidth),
    height: 300,
    scales: { x: { time: false }, loss: { range: (_u, _min, max) => [0, Math.max(0.5, max)] }, accuracy: { range: [0, 1] } },
    axes: [
      { label: 'step' },
      { scale: 'loss', label: 'loss' },
      { scale: 'accuracy', label: 'accuracy', side: 1, grid: { show: false } },
    ],
    series: [
      { label: 'step' },
      { label: 'training loss', scale: 'loss', stroke: '#d9480f', width: 1.5, value: (_u, v) => v?.toFixed(3) ?? '–' },
      { label: 'batch accuracy', scale: 'accuracy', stroke: '#a5b4d4', width: 1, value: (_u, v) => v?.toFixed(3) ?? '–' },
      { label: 'held-out accuracy', scale: 'accuracy', stroke: '#2f6fde', width: 2.5, spanGaps: true,
        points: { show: true, size: 5 }, value: (_u, v) => v?.toFixed(4) ?? '–' },
    ],
  }, data, target);
  new ResizeObserver(() => plot.setSize({ width: Math.max(320, target.clientWidth), height: 300 })).observe(target);

  let pending = false;
  const redraw = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      plot.setData(data);
    });
  };
  return {
    step(step, l, acc) {
      steps.push(step);
      loss.push(l);
      trainAccuracy.push(Number.isFinite(acc) ? acc : null);
      testAccuracy.push(null);
      redraw();
    },
    evaluation(step, accuracy) {
      const i = steps.lastIndexOf(step);
      if (i >= 0) testAccuracy[i] = accuracy;
      else {
        // The evaluation before the first step, or after a loaded weights file.
        steps.push(step);
        loss.push(null);
        trainAccuracy.push(null);
        testAccuracy.push(accuracy);
      }
      redraw();
    },
  };
}
