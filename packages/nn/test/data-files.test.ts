import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';

const DATA = new URL('../../../examples/data/', import.meta.url);

/** The `| \`file\` | … | \`sha256\` |` rows of the DATASETS.md table. */
async function listedSums(): Promise<Map<string, string>> {
  const md = await readFile(new URL('DATASETS.md', DATA), 'utf8');
  const sums = new Map<string, string>();
  for (const m of md.matchAll(/^\| `([\w.]+)` \|.*\| `([0-9a-f]{64})` \|$/gm)) sums.set(m[1]!, m[2]!);
  return sums;
}

describe('examples/data', () => {
  test('every file listed in DATASETS.md has its published sha256', async () => {
    const sums = await listedSums();
    expect([...sums.keys()].sort()).toEqual([
      'breast_cancer.csv',
      'digits.csv',
      'make_datasets.py',
      'spambase.csv',
    ]);
    for (const [file, sum] of sums) {
      const bytes = await readFile(new URL(file, DATA));
      expect(createHash('sha256').update(bytes).digest('hex'), file).toBe(sum);
    }
  });

  test('DATASETS.md keeps the provenance, licence and citations', async () => {
    const md = await readFile(new URL('DATASETS.md', DATA), 'utf8');
    for (const needle of [
      'CC BY 4.0',
      'Nuclear feature extraction for breast tumor diagnosis',
      'Cascading Classifiers',
      'Hewlett-Packard Labs',
      'python3-sklearn',
      'r-cran-kernlab',
      '## About this copy',
    ]) {
      expect(md).toContain(needle);
    }
  });
});
