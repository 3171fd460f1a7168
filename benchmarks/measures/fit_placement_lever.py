"""Fit the placement-moves lever (``synth.levers.PLACEMENTS_FIT``, ``STABILITY_FIT``).

    .nox/tests/bin/python benchmarks/measures/fit_placement_lever.py [--seeds 5,6,7,8] [--out F]

Builds single England-sized LAs' histories (``synth.history.build``, size 3.8, collection
years 2024-2026) with the move parameters set by hand over a grid (mean move rate,
settled-phase multiplier, even settled hazard), measures 3+ placements and long-term
stability at 31 March 2026 with the measures' own functions on the history's episodes
(no files, no ingest: about 4 s a point and seed on one core), and fits

    logit(rate) = a + b log(move rate) + c log(mult) + d log(mult)^2 + e log(move rate)^2

for both at no even hazard, weighted by their binomial information; then the even
hazard's effect (3+ placements + k h; stability x exp(-c h)) against the fitted lines.
Prints the constants for ``levers.py`` and the worst residuals. ``--out`` keeps the
grid's measured rates (JSON lines), ``--rows`` refits from such files. ``--sets 1,7``
measures sets of 60 LAs as ``generate`` draws them against the stored fit: their logit
offsets are what the stored intercepts took off the fitted ones (RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from csc_outcomes.measures import stability
from csc_outcomes.measures.periods import make_periods
from csc_outcomes.synth import config, history, levers
from csc_outcomes.synth.spread import expit, logit

PERIODS = make_periods(["2026-03-31"])
SIZE = 3.8
#: (move rate, log multiplier, even hazard): no even hazard over the multiplier's range,
#: then the even hazard at the highest multiplier (where the lever uses it).
GRID = ([(r, lm, 0.0) for r in (0.3, 0.55, 1.0, 1.8) for lm in (-1.2, -0.4, 0.5)]
        + [(r, levers.MAX_LOG_MULT, h) for r in (0.2, 0.35, 0.6, 1.0) for h in (0.1, 0.25)])


def measured(h: history.History) -> dict[str, tuple[float, float]]:
    """(numerator, denominator) of 3+ placements and long-term stability in ``h``."""
    e = h.episodes
    code = h.prof.code
    eps = pd.DataFrame({"la_code": code, "CHILD": h.child_id[e["child"].to_numpy()],
                        **{c: e[c] for c in ("DECOM", "DEC", "RNE", "LS", "PLACE", "URN", "PL_POST")}})
    header = pd.DataFrame({"la_code": code, "CHILD": h.child_id, "DOB": h.kids.dob, "UPN": "x"})
    tables = {"episodes": eps, "header": header}
    out = {}
    for name, f in (("three", stability.cla_3plus_placements), ("stab", stability.cla_long_term_stability)):
        r = f(tables, PERIODS)
        out[name] = (float(r["numerator"].iloc[0]), float(r["denominator"].iloc[0]))
    return out


def point(rate: float, log_mult: float, extra: float, seed: int) -> dict:
    """One grid point's measured rates for one seed's LA."""
    prof = config.draw_profile(seed, 0, 1, 1.0)
    prof.size, prof.move_rate = SIZE, rate
    prof.settled_move_mult, prof.settled_extra = float(np.exp(log_mult)), extra
    m = measured(history.build(prof, seed, 2024, 2026))
    return {"rate": rate, "lm": log_mult, "h": extra, "seed": seed,
            "n3": m["three"][1], "three": m["three"][0] / m["three"][1],
            "ns": m["stab"][1], "stab": m["stab"][0] / m["stab"][1]}


def design(rows: pd.DataFrame) -> np.ndarray:
    lr, lm = np.log(rows["rate"].to_numpy()), rows["lm"].to_numpy()
    return np.column_stack([np.ones(len(rows)), lr, lm, lm**2, lr**2])


def fit_line(rows: pd.DataFrame, col: str, n: str) -> np.ndarray:
    """Weighted least squares of logit(``col``) on ``design``."""
    p = rows[col].to_numpy()
    w = np.sqrt(rows[n].to_numpy() * p * (1 - p))
    beta, *_ = np.linalg.lstsq(design(rows) * w[:, None], logit(p) * w, rcond=None)
    return beta


def report(rows: pd.DataFrame) -> None:
    """Print the fitted constants and the residuals."""
    flat = rows[rows["h"] == 0]
    three, stab = fit_line(flat, "three", "n3"), fit_line(flat, "stab", "ns")
    print("PLACEMENTS_FIT =", tuple(round(float(x), 3) for x in three))
    print("STABILITY_FIT =", tuple(round(float(x), 3) for x in stab))
    ex = rows[rows["h"] > 0]
    base3, bases = expit(design(ex) @ three), expit(design(ex) @ stab)
    h = ex["h"].to_numpy()
    k = float(np.sum((ex["three"] - base3) * h * ex["n3"]) / np.sum(h**2 * ex["n3"]))
    c = float(np.sum(np.log(bases / ex["stab"]) * h * ex["ns"]) / np.sum(h**2 * ex["ns"]))
    print(f"EXTRA_THREE_PLUS = {k:.3f}, EXTRA_STABILITY = {c:.3f}")
    for col, n, line in (("three", "n3", three), ("stab", "ns", stab)):
        pred = expit(design(rows) @ line)
        pred = pred + k * rows["h"] if col == "three" else pred * np.exp(-c * rows["h"])
        se = np.sqrt(pred * (1 - pred) / rows[n])
        z = (rows[col] - pred) / se
        print(f"{col}: residual rms {np.sqrt(np.mean((rows[col] - pred) ** 2)):.4f}, "
              f"worst {np.abs(rows[col] - pred).max():.4f}, z rms {np.sqrt(np.mean(z**2)):.2f}")


def set_offsets(seeds: list[int], n_las: int = 60) -> None:
    """Print how far sets of ``n_las`` LAs drawn as ``generate`` draws them (their own
    levels, sizes and other parameters) measure from ``levers.placement_fit`` at the
    parameters the lever gave them: the weighted mean logit difference, which the
    stored intercepts take off."""
    for seed in seeds:
        rows = []
        for i in range(n_las):
            prof = config.draw_profile(seed, i, n_las, 1.0)
            m = measured(history.build(prof, seed, 2024, 2026))
            rows.append((np.log(prof.move_rate), np.log(prof.settled_move_mult), prof.settled_extra,
                         *m["three"], *m["stab"]))
        lr, lm, h, t_num, t_den, s_num, s_den = np.array(rows).T
        three, stab = levers.placement_fit(lr, lm, h)
        for name, pred, num, den in (("three", three, t_num, t_den), ("stab", stab, s_num, s_den)):
            w = den * pred * (1 - pred)
            diff = logit(np.clip(num / den, 0.005, 0.995)) - logit(pred)
            print(f"seed {seed} {name}: logit offset {np.average(diff, weights=w):+.3f} "
                  f"(SE {1 / np.sqrt(w.sum()):.3f}), rate {np.average(num / den - pred, weights=den):+.4f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="5,6,7,8")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--rows", type=Path, nargs="*", help="refit from earlier --out files")
    ap.add_argument("--sets", help="seeds of sets of 60 LAs to measure against the stored fit")
    args = ap.parse_args()
    if args.sets:
        set_offsets([int(s) for s in args.sets.split(",")])
        return
    if args.rows:
        rows = pd.concat([pd.read_json(f, lines=True) for f in args.rows], ignore_index=True)
    else:
        found = []
        for rate, lm, h in GRID:
            found += [point(rate, lm, h, int(s)) for s in args.seeds.split(",")]
            print(json.dumps(found[-1]), flush=True)
            if args.out:
                args.out.write_text("".join(json.dumps(r) + "\n" for r in found), encoding="utf-8")
        rows = pd.DataFrame(found)
    agg = rows.assign(t=rows["three"] * rows["n3"], s=rows["stab"] * rows["ns"]).groupby(
        ["rate", "lm", "h"], as_index=False)[["t", "n3", "s", "ns"]].sum()
    report(agg.assign(three=agg["t"] / agg["n3"], stab=agg["s"] / agg["ns"]))


if __name__ == "__main__":
    main()
