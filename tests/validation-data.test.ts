// Issue 13 point 7: number[][] input is taken literally — no coercion of null, booleans, strings or
// nested cells, integer shapes only (R13) — and bad inputs get typed errors that say what to fix,
// not TypeErrors (R16). Every refusal leaves the model as it was.
import { beforeAll, describe, expect, it } from 'vitest';
import { OptionError, type Sequential, ShapeError, WasmfitError, init, matrix, sgd } from '../ts/index.js';
import { tinyModel } from './helpers.js';

beforeAll(async () => {
  await init();
});

const model = (): Sequential => tinyModel({ seed: 2, optimizer: sgd() }).model;

async function refused(m: Sequential, f: () => unknown, cls: typeof WasmfitError, msg: RegExp): Promise<void> {
  const before = m.getWeights();
  let err: unknown;
  try {
    await f();
  } catch (e) {
    err = e;
  }
  expect(err, String(msg)).toBeInstanceOf(cls);
  expect((err as Error).message).toMatch(msg);
  expect(m.getWeights()).toEqual(before);
}

describe('R13: number[][] cells are numbers, shapes are integers', () => {
  const cases: [string, unknown, RegExp][] = [
    ['null cell', [[1, null, 3, 4], [1, 2, 3, 4]], /^fit: x\[0\]\[1\] is null \(null\); every cell must be a number/],
    ['boolean cell', [[1, true, 3, 4], [1, 2, 3, 4]], /^fit: x\[0\]\[1\] is true \(boolean\); every cell must be a number/],
    ["'2' cell", [[1, '2', 3, 4], [1, 2, 3, 4]], /^fit: x\[0\]\[1\] is "2" \(string\); every cell must be a number/],
    ['nested cells', [[[1], [2], [3], [4]], [[1], [2], [3], [4]]], /^fit: x\[0\]\[0\] is \[1\] \(an array\); every cell must be a number/],
    ['undefined cell (hole)', [[1, , 3, 4], [1, 2, 3, 4]], /^fit: x\[0\]\[1\] is undefined/], // eslint-disable-line no-sparse-arrays
    ['a row that is not an array', [{ length: 4 }, [1, 2, 3, 4]], /^fit: x\[0\] is \{"length":4\}; number\[\]\[\] input needs every row to be an array/],
    ['a string row', ['1234', [1, 2, 3, 4]], /^fit: x\[0\] is "1234"/],
  ];
  for (const [name, x, msg] of cases) {
    it(`fit refuses a ${name} with ShapeError`, async () => {
      const m = model();
      await refused(m, () => m.fit(x as never, [0, 1]), ShapeError, msg);
      m.dispose();
    });
  }

  it('predict, evaluate and validationData check cells the same way', async () => {
    const m = model();
    const bad = [[1, '2', 3, 4]] as never;
    await refused(m, () => m.predict(bad), ShapeError, /^predict: x\[0\]\[1\] is "2"/);
    await refused(m, () => m.evaluate(bad, [0]), ShapeError, /^evaluate: x\[0\]\[1\] is "2"/);
    await refused(m, () => m.fit([[1, 2, 3, 4]], [0], { validationData: [bad, [0]] }), ShapeError, /^fit \(validationData\): x\[0\]\[1\] is "2"/);
    m.dispose();
  });

  it('fractional, negative and non-numeric row counts in { data, shape } are refused', async () => {
    const m = model();
    await refused(m, () => m.predict({ data: new Float32Array(10), shape: [2.5, 4] }), ShapeError, /^predict: x\.shape is \[2\.5,4\]; expected \[rows, cols\] with integers >= 0/);
    await refused(m, () => m.predict({ data: new Float32Array(8), shape: ['2', 4] as never }), ShapeError, /x\.shape is \["2",4\]/);
    await refused(m, () => m.predict({ data: new Float32Array(8), shape: [-2, -4] }), ShapeError, /x\.shape is \[-2,-4\]/);
    await refused(m, () => m.predict({ data: new Float32Array(8), shape: 8 as never }), ShapeError, /x\.shape is 8/);
    await refused(m, () => m.fit({ data: new Float32Array(10), shape: [2.5, 4] }, [0, 1]), ShapeError, /^fit: x\.shape is \[2\.5,4\]/);
    await refused(m, () => m.predict({ data: [1, 2, 3, 4] as never, shape: [1, 4] }), ShapeError, /^predict: x\.data is \[1,2,3,4\]; expected a Float32Array/);
    m.dispose();
  });

  it('one-hot label rows and matrices are checked the same way', async () => {
    const m = model();
    const x = [[1, 2, 3, 4], [1, 2, 3, 4]];
    await refused(m, () => m.fit(x, [[1, 0, 0], [0, '1', 0]] as never), ShapeError, /^fit: y\[1\]\[1\] is "1"; one-hot cells must be the numbers 0 or 1/);
    await refused(m, () => m.fit(x, [[1, 0, 0], [0, true, 0]] as never), ShapeError, /y\[1\]\[1\] is true/);
    await refused(m, () => m.fit(x, [[1, 0, 0], 1] as never), ShapeError, /^fit: y\[1\] is 1; one-hot labels are rows/);
    await refused(m, () => m.fit(x, { data: new Float32Array(6), shape: [1.5, 4] } as never), ShapeError, /^fit: y\.shape is \[1\.5,4\]/);
    m.dispose();
  });

  it('matrix() does not coerce either', () => {
    expect(() => matrix([1, null, 3, 4] as never, [2, 2])).toThrow(/^matrix: data\[1\] is null; every value must be a number/);
    expect(() => matrix([1, '2', 3, 4] as never, [2, 2])).toThrow(ShapeError);
    expect(() => matrix(new Float32Array(5), [2.5, 2])).toThrow(/^matrix: shape is \[2\.5,2\]/);
    expect(matrix([1, 2, 3, 4], [2, 2]).shape).toEqual([2, 2]);
  });

  it('well-formed number[][] input still trains', async () => {
    const m = model();
    const h = await m.fit([[1, 2, 3, 4], [-1, 0.5, 2, 0]], [0, 2], { epochs: 2 });
    expect(h.epoch).toEqual([0, 1]);
    expect(m.predict([[1, 2, 3, 4]]).shape).toEqual([1, 3]);
    m.dispose();
  });
});

describe('R16: typed errors for bad inputs', () => {
  it('fit({ validationData: {} }) and other malformed validationData give OptionError', async () => {
    const m = model();
    const x = new Float32Array(8);
    for (const v of [{}, [new Float32Array(4)], [new Float32Array(4), [0], 'extra'], [null, [0]], 'data', 1]) {
      await refused(m, () => m.fit(x, [0, 1], { validationData: v as never }), OptionError, /^fit: validationData = .*; expected a pair \[xVal, yVal\]/);
    }
    m.dispose();
  });

  it("string labels ['0', '1'] are class names (issue 15): too few for 3 outputs is an OptionError naming them, not a one-hot ShapeError", async () => {
    const m = model();
    const x = new Float32Array(8);
    await refused(m, () => m.fit(x, ['0', '1'] as never), OptionError, /^fit: y holds 2 distinct labels \["0","1"\] but the model has 3 classes/);
    expect(m.classes).toBeNull();
    await refused(m, () => m.fit(x, [0, '1'] as never), OptionError, /^fit: y\[1\] is "1" \(string\)/);
    await refused(m, () => m.fit(x, [0, null] as never), OptionError, /^fit: y\[1\] is null \(null\)/);
    await refused(m, () => m.fit(x, [0, true] as never), OptionError, /^fit: y\[1\] is true \(boolean\)/);
    await refused(m, () => m.fit(x, [0, 1.5]), OptionError, /^fit: y\[1\] = 1\.5; class ids must be integers/);
    await refused(m, () => m.fit(x, [0, 2 ** 40]), OptionError, /label 1099511627776 at index 1 is outside \[0, 3\)/);
    await refused(m, () => m.evaluate(x, ['a', 'b'] as never), OptionError, /^evaluate: y\[0\] is "a"/);
    m.dispose();
  });

  it('non-object inputs name what was received', async () => {
    const m = model();
    await refused(m, () => m.fit(42 as never, [0]), ShapeError, /^fit: x must be a Float32Array, Float64Array, number\[\] \(flat, row-major\), number\[\]\[\] or \{ data, shape \}; received 42 \(number\)/);
    await refused(m, () => m.fit(new Float32Array(4), 'abc' as never), ShapeError, /^fit: y must be class ids .*; received "abc"/);
    m.dispose();
  });
});
