// BatchNorm1d (PyTorch semantics) over x (B, C, L) row-major; L = 1 for the usual (B, C) input.
// Statistics per channel c over the n = B*L values x[b, c, l]. Sums are accumulated in f64.
// Train: batch mean and biased variance normalise; the running stats are updated with `momentum`
// and the UNBIASED variance (n/(n-1)), as PyTorch does. Eval: the running stats normalise.
// Backward ACCUMULATES into dw and db (+=) and OVERWRITES dx.

@inline function at(x: usize, C: i32, L: i32, b: i32, c: i32, l: i32): usize {
  return x + ((<usize>(b * C + c) * L + l) << 2);
}

/** Train forward. Saves per-channel mean and rstd = 1/sqrt(var + eps) for backward; updates rm, rv. */
export function batchnorm_train_forward(B: i32, C: i32, L: i32, eps: f32, momentum: f32, x: usize, w: usize, bias: usize,
                                        rm: usize, rv: usize, y: usize, mean: usize, rstd: usize): void {
  const n = <f64>(B * L);
  for (let c = 0; c < C; c++) {
    // batch mean
    let s: f64 = 0;
    for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) s += <f64>load<f32>(at(x, C, L, b, c, l));
    const m = s / n;
    // biased batch variance (two-pass)
    let ss: f64 = 0;
    for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) { const d = <f64>load<f32>(at(x, C, L, b, c, l)) - m; ss += d * d; }
    const v = ss / n;
    const r = 1.0 / Math.sqrt(v + <f64>eps);
    store<f32>(mean + (<usize>c << 2), <f32>m);
    store<f32>(rstd + (<usize>c << 2), <f32>r);
    // y = (x - m) * rstd * w + bias
    const g = <f64>load<f32>(w + (<usize>c << 2)) * r, bb = <f64>load<f32>(bias + (<usize>c << 2));
    for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) {
      const p = at(x, C, L, b, c, l);
      store<f32>(at(y, C, L, b, c, l), <f32>((<f64>load<f32>(p) - m) * g + bb));
    }
    // running stats: (1 - momentum) * old + momentum * batch (unbiased variance)
    const mo = <f64>momentum;
    const pm = rm + (<usize>c << 2), pv = rv + (<usize>c << 2);
    store<f32>(pm, <f32>((1 - mo) * <f64>load<f32>(pm) + mo * m));
    store<f32>(pv, <f32>((1 - mo) * <f64>load<f32>(pv) + mo * (ss / (n - 1))));
  }
}

/** Eval forward: y = (x - rm) / sqrt(rv + eps) * w + bias */
export function batchnorm_eval_forward(B: i32, C: i32, L: i32, eps: f32, x: usize, w: usize, bias: usize,
                                       rm: usize, rv: usize, y: usize): void {
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    const g = <f64>load<f32>(w + o) / Math.sqrt(<f64>load<f32>(rv + o) + <f64>eps);
    const m = <f64>load<f32>(rm + o), bb = <f64>load<f32>(bias + o);
    for (let b = 0; b < B; b++) for (let l = 0; l < L; l++)
      store<f32>(at(y, C, L, b, c, l), <f32>((<f64>load<f32>(at(x, C, L, b, c, l)) - m) * g + bb));
  }
}

/** Train backward: dx = w·rstd·(dy − mean(dy) − x̂·mean(dy·x̂)), dw += Σ dy·x̂, db += Σ dy. */
export function batchnorm_train_backward(B: i32, C: i32, L: i32, x: usize, w: usize, mean: usize, rstd: usize,
                                         dy: usize, dx: usize, dw: usize, db: usize): void {
  const n = <f64>(B * L);
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    const m = <f64>load<f32>(mean + o), r = <f64>load<f32>(rstd + o);
    // Σ dy and Σ dy·x̂ over the channel
    let sd: f64 = 0, sdx: f64 = 0;
    for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) {
      const g = <f64>load<f32>(at(dy, C, L, b, c, l));
      sd += g; sdx += g * (<f64>load<f32>(at(x, C, L, b, c, l)) - m) * r;
    }
    store<f32>(dw + o, load<f32>(dw + o) + <f32>sdx);
    store<f32>(db + o, load<f32>(db + o) + <f32>sd);
    // dx
    const k = <f64>load<f32>(w + o) * r, md = sd / n, mdx = sdx / n;
    for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) {
      const xh = (<f64>load<f32>(at(x, C, L, b, c, l)) - m) * r;
      store<f32>(at(dx, C, L, b, c, l), <f32>(k * (<f64>load<f32>(at(dy, C, L, b, c, l)) - md - xh * mdx)));
    }
  }
}

/** Eval backward (running stats are constants): dx = dy·w/sqrt(rv+eps), dw += Σ dy·x̂, db += Σ dy. */
export function batchnorm_eval_backward(B: i32, C: i32, L: i32, eps: f32, x: usize, w: usize, rm: usize, rv: usize,
                                        dy: usize, dx: usize, dw: usize, db: usize): void {
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    const r = 1.0 / Math.sqrt(<f64>load<f32>(rv + o) + <f64>eps), m = <f64>load<f32>(rm + o);
    const k = <f64>load<f32>(w + o) * r;
    let sd: f64 = 0, sdx: f64 = 0;
    for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) {
      const g = <f64>load<f32>(at(dy, C, L, b, c, l));
      sd += g; sdx += g * (<f64>load<f32>(at(x, C, L, b, c, l)) - m) * r;
      store<f32>(at(dx, C, L, b, c, l), <f32>(g * k));
    }
    store<f32>(dw + o, load<f32>(dw + o) + <f32>sdx);
    store<f32>(db + o, load<f32>(db + o) + <f32>sd);
  }
}
