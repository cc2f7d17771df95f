// Adamax, NAdam, RAdam, Adadelta (PyTorch torch/optim/{adamax,nadam,radam,adadelta}.py) and Lion
// (Chen et al. 2023, Algorithm 2; lucidrains/lion-pytorch) written out in float64 from their
// published definitions, with L1/L2 penalties folded into the gradient (Keras convention: l2·Σw²
// has gradient 2·l2·w). NAdam: μ_t = β1·(1 − ½·0.96^(t·ψ)), Π_t = μ_1⋯μ_t, the second step size
// over 1 − Π_t·μ_{t+1} (PyTorch ≥ 2.0; 1.13's foreach path).

export interface MoreCfg {
  kind: 'adamax' | 'nadam' | 'radam' | 'adadelta' | 'lion';
  lr: number;
  betas?: [number, number];
  rho?: number;
  eps?: number;
  weightDecay?: number;
  momentumDecay?: number;
  maximize?: boolean;
  l1?: number;
  l2?: number;
}

export class RefMore {
  w: Float64Array;
  s: [Float64Array, Float64Array];
  private prod = 1;
  constructor(w0: ArrayLike<number>, private c: MoreCfg) {
    this.w = Float64Array.from(w0);
    this.s = [new Float64Array(w0.length), new Float64Array(w0.length)];
  }
  step(t: number, g: ArrayLike<number>): void {
    const c = this.c;
    const [b1, b2] = c.betas ?? [0.9, 0.999];
    const wd = c.weightDecay ?? 0;
    const eps = c.eps ?? 0;
    const lr = c.lr;
    const psi = c.momentumDecay ?? 4e-3;
    const mu = (k: number) => b1 * (1 - 0.5 * 0.96 ** (k * psi));
    if (c.kind === 'nadam') this.prod *= mu(t);
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    const rhoInf = 2 / (1 - b2) - 1;
    const rhoT = rhoInf - (2 * t * b2 ** t) / bc2;
    const [m, v] = this.s;
    for (let i = 0; i < this.w.length; i++) {
      const x = this.w[i]!;
      let d = c.maximize ? -g[i]! : g[i]!;
      if (c.kind !== 'lion') d += wd * x;
      if (c.l1) d += c.l1 * Math.sign(x);
      if (c.l2) d += 2 * c.l2 * x;
      let p = x;
      switch (c.kind) {
        case 'adamax':
          m[i] = b1 * m[i]! + (1 - b1) * d; // exp_avg
          v[i] = Math.max(b2 * v[i]!, Math.abs(d) + eps); // exp_inf
          p -= ((lr / bc1) * m[i]!) / v[i]!;
          break;
        case 'nadam': {
          m[i] = b1 * m[i]! + (1 - b1) * d;
          v[i] = b2 * v[i]! + (1 - b2) * d * d;
          const den = Math.sqrt(v[i]! / bc2) + eps;
          const next = mu(t + 1);
          p -= ((lr * (1 - mu(t))) / (1 - this.prod)) * (d / den) + ((lr * next) / (1 - this.prod * next)) * (m[i]! / den);
          break;
        }
        case 'radam': {
          m[i] = b1 * m[i]! + (1 - b1) * d;
          v[i] = b2 * v[i]! + (1 - b2) * d * d;
          const mh = m[i]! / bc1;
          if (rhoT > 5) {
            const r = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
            p -= mh * lr * (Math.sqrt(bc2) / (Math.sqrt(v[i]!) + eps)) * r;
          } else p -= mh * lr;
          break;
        }
        case 'adadelta': {
          const rho = c.rho ?? 0.9;
          m[i] = rho * m[i]! + (1 - rho) * d * d; // square_avg
          const delta = (Math.sqrt(v[i]! + eps) / Math.sqrt(m[i]! + eps)) * d;
          v[i] = rho * v[i]! + (1 - rho) * delta * delta; // acc_delta
          p -= lr * delta;
          break;
        }
        case 'lion': {
          const u = Math.sign(b1 * m[i]! + (1 - b1) * d);
          m[i] = b2 * m[i]! + (1 - b2) * d;
          p = p * (1 - lr * wd) - lr * u;
          break;
        }
      }
      this.w[i] = p;
    }
  }
}
