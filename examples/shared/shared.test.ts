import { describe, expect, test } from 'vitest';
import { EpochProgress, formatStats, formatTable, lineChart, renderSvg } from './index.js';

describe('examples-shared', () => {
  test('formatTable aligns a header rule, left first column, right-aligned numbers', () => {
    expect(
      formatTable(
        ['model', 'AP'],
        [
          ['a', 0.5],
          ['longer', '–'],
        ],
      ),
    ).toBe('model      AP\n──────  ─────\na       0.500\nlonger      –');
  });

  test('without a terminal, EpochProgress prints one plain line per epoch', () => {
    const lines: string[] = [];
    const p = new EpochProgress({ log: (l) => lines.push(l), tty: false, outDir: null }, 'run', 12);
    p.update(1, { loss: 0.123456, acc: 0.5 });
    p.update(12, { loss: 0.1, acc: 0.75 });
    p.stop();
    expect(lines).toEqual([
      'run epoch  1/12  loss 0.1235  acc 0.500',
      'run epoch 12/12  loss 0.1000  acc 0.750',
    ]);
    expect(formatStats({ 'test loss': 1, auc: 1 })).toBe('test loss 1.0000  auc 1.000');
  });

  test('lineChart renders to SVG in Node, one legend entry per series', async () => {
    const svg = await renderSvg(
      lineChart(
        [
          { name: 'first', x: [0, 1, 0.5], y: [0, 1, 0.2] },
          { name: 'second', x: [0, 1], y: [1, 0] },
        ],
        { title: 'a title', xTitle: 'x', yTitle: 'y', unitSquare: true },
      ),
    );
    expect(svg).toMatch(/^<svg/);
    for (const text of ['a title', 'first', 'second']) expect(svg).toContain(text);
  });
});
