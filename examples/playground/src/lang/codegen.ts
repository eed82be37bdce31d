import { type Node, parameterNames, quantityNames } from './ast.js';
import { BINARY_METHODS } from './build.js';
import { printFactor } from './print.js';

/** What {@link factorCode} prints. */
export interface ExportOptions {
  /** The exported constant's name (an identifier). */
  readonly exportName: string;
  /** The loss's name (`lossName`). */
  readonly lossName: string;
  /** The parameters' defaults, in the order the factor reads them. */
  readonly params: Readonly<Record<string, number>>;
}

interface Emitter {
  usesNum: boolean;
  usesWhere: boolean;
}

/** `node` as an argument of a method: a number stays a literal. */
function argument(node: Node, e: Emitter): string {
  return node.kind === 'num' ? String(node.value) : receiver(node, e);
}

/** `node` as the receiver of a method call: a number becomes `num(c)`. */
function receiver(node: Node, e: Emitter): string {
  switch (node.kind) {
    case 'num':
      e.usesNum = true;
      return `num(${node.value})`;
    case 'name':
      return node.name;
    case 'neg':
      return `${receiver(node.arg, e)}.neg()`;
    case 'binary':
      return `${receiver(node.left, e)}.${BINARY_METHODS[node.op]}(${argument(node.right, e)})`;
    case 'call': {
      const [a, b, c] = node.args;
      if (node.fn === 'where') {
        e.usesWhere = true;
        return `whereValue(${argument(a!, e)}, ${argument(b!, e)}, ${argument(c!, e)})`;
      }
      if (b !== undefined) return `${receiver(a!, e)}.${node.fn}(${argument(b, e)})`;
      return `${receiver(a!, e)}.${node.fn}()`;
    }
  }
}

/**
 * The TypeScript module defining the factor's loss with `defineModulatedLoss`: the factor is written with the
 * same `Value` method calls that {@link buildFactor} makes, so the exported loss computes what the page does.
 */
export function factorCode(node: Node, options: ExportOptions): string {
  const e: Emitter = { usesNum: false, usesWhere: false };
  const body = argument(node, e);
  const quantities = quantityNames(node);
  const params = parameterNames(node);
  const q = quantities.length > 0 ? `{ ${quantities.join(', ')} }` : params.length > 0 ? '_q' : '';
  const fnArgs = params.length > 0 ? `${q}, { ${params.join(', ')} }` : q;
  const lines: string[] = [];
  const autograd = [...(e.usesNum ? ['Value'] : []), ...(e.usesWhere ? ['whereValue'] : [])];
  if (autograd.length > 0) lines.push(`import { ${autograd.join(', ')} } from '@gradkit/autograd';`);
  if (e.usesNum) lines.push("import { constant } from '@gradkit/kernels';");
  lines.push("import { defineModulatedLoss } from '@gradkit/losses';", '');
  if (e.usesNum) {
    lines.push(
      '/** A number as a constant Value (a number on the left of an operator). */',
      'const num = (c: number): Value => new Value(constant(c), c, []);',
      '',
    );
  }
  lines.push(
    `// factor: ${printFactor(node)}`,
    `export const ${options.exportName} = defineModulatedLoss({`,
    `  name: '${options.lossName.replace(/[\\']/g, (c) => `\\${c}`)}',`,
    `  factor: (${fnArgs}) => ${body},`,
  );
  if (params.length > 0) {
    const defaults = params.map((p) => `${p}: ${String(options.params[p] ?? 1)}`).join(', ');
    lines.push(`  params: { ${defaults} },`);
  }
  lines.push('});', '');
  return lines.join('\n');
}
