"""The PyTorch peer for bench/studies/peer-accuracy.ts: the seed's model trained on OUR windows for a wall-clock budget.

The model, its loss (Huber delta 1 + 0.1 * smoothness) and one training step (forward, loss, backward,
global-norm clip 1.0, Adam) come from the peer's seed_model.py, loaded from the path given (not copied).
Its fit() needs every window in memory (a year of 240-minute windows is ~10 GB), so this script runs
fit()'s schedule itself over windows cut on the fly from the exported features: linear warm-up over
5 epochs, then ReduceLROnPlateau (factor 0.5, patience 3) on the validation loss, early stopping after 8
epochs without improvement, best weights restored -- and a deadline. An "epoch" is --epoch-samples
windows drawn without replacement from the training origins (the full pass of fit() would not end
once in a short budget).

Input (written by bench/studies/peer-accuracy.ts into --data DIR): header.json, x.f32 (rows, F) features scaled
by our trainer's scaler (fitted on the training rows), busy.f32 (rows), train.i32 / valid.i32 / test.i32
origins. A sample at origin t reads rows t-T+1..t (zeros before the first row: the seed model has no
masking) and predicts busy(t+1..t+H) / capacity (the seed's absolute target, scaled to capacity).

Output: pred.f32 (test origins, H) busy nodes clipped to [0, capacity], and result.json.

  /usr/bin/python3 bench/studies/peer_train.py --seed-model PEER/seed_model.py --data DIR --minutes 8
"""
from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import math
import os
import sys
import time

import numpy as np
import torch


def load_module(path: str):
    spec = importlib.util.spec_from_file_location("seed_model", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"peer_train: cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["seed_model"] = mod  # dataclasses look their module up here
    spec.loader.exec_module(mod)
    return mod


def windows(x: np.ndarray, busy: np.ndarray, origins: np.ndarray, T: int, H: int, cap: float):
    """x (rows, F), origins (B) -> inputs (B, T, F) left-padded with zeros, targets (B, H) / capacity."""
    idx = origins[:, None] + np.arange(-T + 1, 1)[None, :]  # (B, T) rows of each window
    pad = idx < 0
    xb = x[np.maximum(idx, 0)]  # (B, T, F)
    xb[pad] = 0.0
    yi = origins[:, None] + np.arange(1, H + 1)[None, :]  # (B, H) target rows
    yb = busy[yi] / cap
    return torch.from_numpy(np.ascontiguousarray(xb)), torch.from_numpy(yb.astype(np.float32))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed-model", required=True, help="path of the peer's seed_model.py")
    ap.add_argument("--data", required=True, help="directory written by bench/studies/peer-accuracy.ts")
    ap.add_argument("--minutes", type=float, required=True, help="wall-clock budget for training")
    ap.add_argument("--epoch-samples", type=int, default=4096)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup-epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    t0 = time.perf_counter()
    sm = load_module(a.seed_model)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    hd = json.load(open(os.path.join(a.data, "header.json")))
    rows, F, T, H, cap = hd["rows"], hd["F"], hd["lookback"], hd["horizon"], float(hd["capacity"])
    x = np.fromfile(os.path.join(a.data, "x.f32"), dtype="<f4").reshape(rows, F)
    busy = np.fromfile(os.path.join(a.data, "busy.f32"), dtype="<f4")
    org = {k: np.fromfile(os.path.join(a.data, f"{k}.i32"), dtype="<i4").astype(np.int64)
           for k in ("train", "valid", "test")}

    # the seed's model with our F features (n_features = the sum of the three counts)
    cfg = sm.SeedConfig(lookback=T, horizon=H, n_cluster_features=F, n_time_features=0, n_history_features=0)
    model = sm.SeedForecaster(cfg)
    opt = sm.make_optimizer(model, a.lr)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=3)
    xv, yv = windows(x, busy, org["valid"], T, H, cap)

    def val_loss() -> float:
        model.eval()
        tot = 0.0
        with torch.no_grad():
            for i in range(0, len(org["valid"]), 256):
                tot += float(sm.seed_loss(model(xv[i:i + 256]), yv[i:i + 256])) * len(xv[i:i + 256])
        return tot / len(org["valid"])

    deadline = t0 + 60 * a.minutes
    best, best_state, bad = math.inf, None, 0
    history = []
    samples = 0
    stopped = "time"
    ep = 0
    t_train = time.perf_counter()
    while time.perf_counter() < deadline:
        # fit()'s schedule: linear warm-up, then plateau on the validation loss
        if ep < a.warmup_epochs:
            for g in opt.param_groups:
                g["lr"] = a.lr * (ep + 1) / a.warmup_epochs
        te = time.perf_counter()
        pick = rng.choice(org["train"], size=min(a.epoch_samples, len(org["train"])), replace=False)
        tot, n, out_of_time = 0.0, 0, False
        for i in range(0, len(pick) - 1, a.batch):
            xb, yb = windows(x, busy, pick[i:i + a.batch], T, H, cap)
            if len(xb) < 2:  # BatchNorm needs > 1 sample in train mode
                continue
            tot += float(sm.train_step(model, opt, xb, yb)) * len(xb)
            n += len(xb)
            samples += len(xb)
            if time.perf_counter() > deadline:
                out_of_time = True
                break
        if out_of_time:  # like pcm train: a partial epoch is not validated
            break
        val = val_loss()
        if ep >= a.warmup_epochs:
            plateau.step(val)
        lr = opt.param_groups[0]["lr"]
        history.append({"epoch": ep, "train_loss": tot / max(1, n), "val_loss": val, "lr": lr,
                        "seconds": time.perf_counter() - te, "samples_per_s": n / (time.perf_counter() - te)})
        print(f"peer epoch {ep} train {tot / max(1, n):.5f} val {val:.5f} lr {lr:.1e} "
              f"{n / (time.perf_counter() - te):.1f} samples/s", flush=True)
        if val < best - 1e-6:
            best, best_state, bad = val, copy.deepcopy(model.state_dict()), 0
        else:
            bad += 1
            if bad >= 8:
                stopped = "early-stop"
                break
        ep += 1
    train_seconds = time.perf_counter() - t_train
    if best_state is not None:
        model.load_state_dict(best_state)

    # test predictions (eval mode), busy nodes clipped to [0, capacity]
    tp = time.perf_counter()
    model.eval()
    test = org["test"]
    pred = np.zeros((len(test), H), dtype="<f4")
    with torch.no_grad():
        for i in range(0, len(test), 256):
            xb, _ = windows(x, busy, test[i:i + 256], T, H, cap)
            pred[i:i + len(xb)] = np.clip(model(xb).numpy() * cap, 0, cap)
    pred.tofile(os.path.join(a.data, "pred.f32"))
    res = {
        "epochs_validated": len(history), "best_val_loss": best if math.isfinite(best) else None,
        "stopped_by": stopped,
        "train_seconds": train_seconds, "predict_seconds": time.perf_counter() - tp,
        "samples": samples, "samples_per_s": samples / max(1e-9, train_seconds),
        "params": sm.count_params(model), "threads": torch.get_num_threads(),
        "torch": torch.__version__, "history": history,
    }
    with open(os.path.join(a.data, "result.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(f"peer: {samples} samples in {train_seconds:.0f} s ({res['samples_per_s']:.1f}/s), "
          f"{len(history)} epochs validated, predicted {len(test)} origins in {res['predict_seconds']:.0f} s",
          flush=True)


if __name__ == "__main__":
    main()
