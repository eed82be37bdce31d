import { StateError } from '@gradkit/kernels';
import { expect, test, vi } from 'vitest';

// What a browser bundle sees: bundlers replace node:fs/promises with an empty module (no readFile).
vi.mock('node:fs/promises', () => ({ readFile: undefined }));

test('loadCsv without node:fs says to use parseCsv; parseCsv itself needs no Node module', async () => {
  const { loadCsv, parseCsv } = await import('@gradkit/nn');
  await expect(loadCsv('data.csv')).rejects.toThrow(StateError);
  await expect(loadCsv('data.csv')).rejects.toThrow(/needs Node .* call parseCsv/);
  expect([...parseCsv('a,label\n1,0\n').features.data]).toEqual([1]);
});
