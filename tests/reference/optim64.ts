// PyTorch's single-tensor optimizer updates (torch/optim/{sgd,adagrad,rmsprop,adam,adamw}.py)
// re-implemented in float64, with L1/L2 penalties folded into the gradient (Keras convention).

const KIND = { sgd: 0, adagrad: 1, rmsprop: 2, adam: 3, adamw: 4 } as const;
export type Kind = keyof typeof KIND;
export interface Cfg {
  kind: Kind;
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  alpha?: number; // RMSProp
  betas?: [number, number];
  eps?: number;
  centered?: boolean;
  amsgrad?: boolean;
  maximize?: boolean;
  lrDecay?: number;
  initialAccumulatorValue?: number;
  l1?: number;
  l2?: number;
}

/** Float64 reference state: w and up to three state buffers, PyTorch's names in comments. */
export class Ref {
  w: Float64Array;
  s = [new Float64Array(0), new Float64Array(0), new Float64Array(0)];
  constructor(w0: Float32Array, private c: Cfg) {
    const n = w0.length;
    this.w = Float64Array.from(w0);
    this.s = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
    if (c.kind === 'adagrad') this.s[0]!.fill(c.initialAccumulatorValue ?? 0); // state_sum
  }
  step(t: number, g: Float32Array): void {
    const c = this.c;
    const [s0, s1, s2] = this.s as [Float64Array, Float64Array, Float64Array];
    const wd = c.weightDecay ?? 0;
    const [b1, b2] = c.betas ?? [0.9, 0.999];
    for (let i = 0; i < this.w.length; i++) {
      let p = this.w[i]!;
      let d = c.maximize ? -g[i]! : g[i]!;
      if (wd !== 0 && c.kind !== 'adamw') d += wd * p; // grad.add(param, alpha=weight_decay)
      if (c.l1) d += c.l1 * Math.sign(p);
      if (c.l2) d += 2 * c.l2 * p;
      switch (c.kind) {
        case 'sgd': {
          const m = c.momentum ?? 0;
          if (m !== 0) {
            s0[i] = t === 1 ? d : m * s0[i]! + (1 - (c.dampening ?? 0)) * d; // momentum_buffer
            d = c.nesterov ? d + m * s0[i]! : s0[i]!;
          }
          p -= c.lr * d;
          break;
        }
        case 'adagrad': {
          const clr = c.lr / (1 + (t - 1) * (c.lrDecay ?? 0));
          s0[i]! += d * d; // state_sum
          p -= (clr * d) / (Math.sqrt(s0[i]!) + c.eps!);
          break;
        }
        case 'rmsprop': {
          const a = c.alpha!;
          s0[i] = a * s0[i]! + (1 - a) * d * d; // square_avg
          let avg: number;
          if (c.centered) {
            s2[i] = a * s2[i]! + (1 - a) * d; // grad_avg
            avg = Math.sqrt(s0[i]! - s2[i]! * s2[i]!) + c.eps!;
          } else avg = Math.sqrt(s0[i]!) + c.eps!;
          if ((c.momentum ?? 0) > 0) {
            s1[i] = c.momentum! * s1[i]! + d / avg; // momentum_buffer
            p -= c.lr * s1[i]!;
          } else p -= (c.lr * d) / avg;
          break;
        }
        case 'adam':
        case 'adamw': {
          if (c.kind === 'adamw') p *= 1 - c.lr * wd;
          s0[i] = b1 * s0[i]! + (1 - b1) * d; // exp_avg
          s1[i] = b2 * s1[i]! + (1 - b2) * d * d; // exp_avg_sq
          let v = s1[i]!;
          if (c.amsgrad) v = s2[i] = Math.max(s2[i]!, s1[i]!); // max_exp_avg_sq, uncorrected
          const denom = Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + c.eps!;
          p -= ((c.lr / (1 - b1 ** t)) * s0[i]!) / denom;
          break;
        }
      }
      this.w[i] = p;
    }
  }
}
