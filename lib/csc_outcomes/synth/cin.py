"""The referral process: CIN episodes, assessments, plans, section 47s, and entries to
care, with the proportionality and re-referral models of ``synth_truth.json``.

Referrals come in generations: new children arrive as a Poisson process; each closed
episode may be followed by a re-referral within 12 months of closure (the re-referral
model) or, failing that, by a later one (1-4 years after closure). Each generation is one
vectorised step, so the Python loop runs over generations (about 10), never children.

Per referral (not NFA) with an assessment:

- factors ``x_f`` ~ Bernoulli(prevalence_f * LA multiplier);
- latent = sum(beta_f x_f) + la_effect + Logistic(0, 1) noise;
- level = 0 (no plan) if latent <= c1, 1 (CIN plan) if <= c2, 2 (CP plan, after a
  section 47) if <= c3, else 3 (looked after: ``RNE S`` within 60 days after the
  assessment's authorisation).

Per closed episode, child under 17 at closure and not adopted:
P(referred again within 12 months) = logistic(a + la_shift + b_level[level] + b_months * months),
la_shift the LA's own (``levers.rereferral_shift``: its level of the published LA spread).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import cla, config, people
from .dates import add_working_days, birthday

_DAYS_PER_MONTH = 365.25 / 12
#: No referral is made on or after a child's 18th birthday (children's services end).
MAX_REFERRAL_AGE = 18
#: The re-referral model applies to closures before the child's 17th birthday: only they
#: have a whole year in which a re-referral can come before 18 (the rule the kit's
#: modelling frame uses on real data, ``stats.frames.REREFERRAL_MAX_AGE``).
REREF_MAX_AGE = 17
#: Spread (log scale) of child protection plan lengths around the LA's median: about
#: 4-5% of plans last two years or more, as in England (4.4% in 2025).
CP_LEN_SIGMA = 0.62


def expit(x: np.ndarray) -> np.ndarray:
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def _choice(rng: np.random.Generator, codes: list[str], p: Any, n: int) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return np.array(codes, dtype=object)[rng.choice(len(codes), size=n, p=p / p.sum())]


def simulate(rng: np.random.Generator, prof: config.LAProfile, sim_start: np.datetime64,
             sim_end: np.datetime64, hols: np.ndarray) -> tuple[people.Children, pd.DataFrame]:
    """All referrals of an LA between ``sim_start`` and ``sim_end``."""
    span = int((sim_end - sim_start).astype(np.int64))
    rate = config.AVERAGE_REFERRALS * prof.volume * config.NEW_CHILD_SHARE * span / 365.25
    n0 = int(rng.poisson(rate))
    ref = np.sort(sim_start + rng.integers(0, span + 1, n0))
    dob = ref - people.draw_ages(rng, n0)
    kids = people.new_children(rng, dob)
    child = np.arange(n0)
    parts = []
    gen = 0
    while len(child):
        block = _generation(rng, prof, child, ref, kids.dob, hols, gen)
        parts.append(block)
        nd = block["next_date"].to_numpy().astype("datetime64[D]")
        adult = birthday(kids.dob[block["child"].to_numpy()], MAX_REFERRAL_AGE)
        ok = ~np.isnat(nd) & (nd <= sim_end) & (nd < adult)
        child = block["child"].to_numpy()[ok]
        ref = nd[ok]
        gen += 1
    if not parts:   # no referral at all (a tiny LA at a tiny scale): an empty block
        parts.append(_generation(rng, prof, child, ref, kids.dob, hols, 0))
    refs = pd.concat(parts, ignore_index=True)
    refs = refs.sort_values(["child", "ref_date"], kind="stable").reset_index(drop=True)
    refs["ref_id"] = np.arange(len(refs))
    # number of previous child protection plans (any time before, in this LA)
    has_cp = refs["cp_start"].notna()
    refs["n_prev_cpp"] = has_cp.astype(int).groupby(refs["child"]).cumsum() - has_cp.astype(int)
    # plans the LA's own history does not show (in another LA, or before its records
    # begin): DfE counts them through NumberOfPreviousCPP, about a fifth of plans being
    # second or subsequent nationally. A separate stream keeps every other draw as it was.
    elsewhere = _side_stream(rng, 7).random(len(refs)) < prof.prior_plan_elsewhere
    refs["n_prev_cpp"] += (has_cp.to_numpy() & elsewhere).astype(int)
    # unaccompanied asylum-seeking children: some boys entering care at 14+
    first_care = refs[refs["level"] == 3].drop_duplicates("child")
    age_c = (first_care["care_start"].to_numpy().astype("datetime64[D]")
             - kids.dob[first_care["child"].to_numpy()]).astype(np.int64) / 365.25
    uasc = first_care["child"].to_numpy()[(age_c >= 14) & (rng.random(len(first_care)) < 0.33)]
    kids.uasc[uasc] = True
    kids.male[uasc] = rng.random(len(uasc)) < 0.92
    kids.ethnic[uasc] = np.array(config.UASC_ETHNIC, dtype=object)[rng.integers(0, 5, len(uasc))]
    return kids, refs


def _side_stream(rng: np.random.Generator, key: int) -> np.random.Generator:
    """A generator of its own, derived from ``rng``'s seed: drawing from it leaves
    ``rng``'s sequence as it was."""
    base = rng.bit_generator.seed_seq
    if not isinstance(base, np.random.SeedSequence):
        raise TypeError("the LA's generator must be seeded from a SeedSequence (config.la_rng)")
    return np.random.default_rng(np.random.SeedSequence(base.entropy, spawn_key=(*base.spawn_key, key)))


def _nat(n: int) -> np.ndarray:
    return np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")


def _generation(rng: np.random.Generator, prof: config.LAProfile, child: np.ndarray,
                ref: np.ndarray, dob_all: np.ndarray, hols: np.ndarray, gen: int) -> pd.DataFrame:
    """One generation of referrals (child ``child[i]`` referred on ``ref[i]``): what
    followed each, to its closure, and the date of the child's next referral, if any."""
    n = len(child)
    dob = dob_all[child]
    nfa = rng.random(n) < prof.nfa_rate
    source = _choice(rng, config.REFERRAL_SOURCES, config.REFERRAL_SOURCE_P, n)
    need = _choice(rng, config.NEED_CODES, config.NEED_P, n)
    need_cin = need.copy()
    need = np.where(nfa & (rng.random(n) < 0.4), "N9", need)
    a_start, a_auth, x, latent, level = _assessment(rng, prof, ref, nfa, hols)
    s47_any, s47, icpc, target, not_required = _section47(rng, prof, ref, level, a_start, hols)
    care_start, care_end, route, care_rec = _care(rng, level, a_auth, dob)
    # a conference before care only when it falls before the care start
    icpc = np.where((level == 3) & ~(icpc < care_start), _nat(n), icpc)
    not_required = not_required | ((level == 3) & s47_any & np.isnat(icpc))
    cp_start, cp_end = _protection_plan(rng, prof, level, icpc, care_start)
    cinp_start, cinp_end, step = _cin_plan(rng, prof, level, a_auth, cp_end)
    lag = rng.integers(0, 15, n)
    closure = np.where(level == -1, ref + rng.integers(0, 8, n),
              np.where(level == 0, a_auth + rng.integers(0, 22, n),
              np.where(level == 1, cinp_end + lag,
              np.where(level == 2, np.where(step, cinp_end, cp_end) + lag,
                       care_end + np.where(np.isin(route, ["adopt", "long"]), 0, rng.integers(0, 29, n))))))
    # nothing runs past the 18th birthday
    closure = closure.astype("datetime64[D]")
    b18 = birthday(dob, 18)
    capped = closure > b18
    closure = np.where(capped, b18, closure)
    cp_start = np.where(cp_start > closure, _nat(n), cp_start)  # referred just before 18
    cp_end = np.where(np.isnat(cp_start), _nat(n), np.where(cp_end > closure, closure, cp_end))
    cinp_end = np.where(cinp_end > closure, closure, cinp_end)
    cinp_start = np.where(cinp_start > closure, _nat(n), cinp_start)
    cinp_end = np.where(np.isnat(cinp_start), _nat(n), cinp_end)
    rc = _reason_for_closure(rng, level, route, capped)
    months, p, eligible, early, next_date = _rereferral(rng, ref, closure, dob, level, rc, prof.reref_shift)
    cats, latest = _abuse_categories(rng, x)
    no_assess = level == -1
    no_cp = np.isnat(cp_start)
    out = pd.DataFrame({
        "child": child, "gen": gen, "ref_date": ref.astype("datetime64[D]"), "source": source,
        "need": need, "need_cin": need_cin, "nfa": nfa, "level": level, "latent": latent,
        "assess_start": np.where(no_assess, _nat(n), a_start),
        "assess_auth": np.where(no_assess, _nat(n), a_auth),
        "s47_start": s47, "icpc_target": target, "icpc": icpc, "icpc_not_required": not_required,
        "cp_start": cp_start, "cp_end": cp_end, "cp_cat": np.where(no_cp, "", cats),
        "cp_latest": np.where(no_cp, "", latest),
        "cinp_start": cinp_start, "cinp_end": cinp_end,
        "care_start": care_start, "care_end": care_end, "route": route, "care_rec": care_rec,
        "closure": closure, "rc": rc, "months": months, "p_reref": p, "eligible": eligible,
        "reref_12m": early, "next_date": next_date,
    })
    for j, code in enumerate(config.FACTORS):
        out[f"f_{code}"] = np.where(no_assess, False, x[:, j])
    return out


def _assessment(rng: np.random.Generator, prof: config.LAProfile, ref: np.ndarray, nfa: np.ndarray,
                hols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Start and authorisation of the assessment, its factors, and the level of
    intervention the proportionality model gives (-1 for no further action): (start,
    authorisation, factors, latent, level)."""
    n = len(ref)
    a_start = ref + np.minimum(rng.geometric(0.45, n) - 1, 6)
    wd = np.maximum(np.round(rng.lognormal(np.log(prof.assess_median_wd), 0.29, n)), 2).astype(np.int64)
    a_auth = add_working_days(a_start, wd, hols)
    prev = np.clip(config.FACTOR_PREVALENCE * np.array(prof.factor_prev_mult), 0, 0.9)
    x = rng.random((n, len(config.FACTORS))) < prev[None, :]
    latent = x.astype(float) @ config.FACTOR_BETA + prof.la_effect + rng.logistic(0, 1, n)
    level = (latent[:, None] > config.CUTPOINTS[None, :]).sum(axis=1)
    level = np.where(nfa, -1, level)
    return a_start, a_auth, x, latent, level


def _section47(rng: np.random.Generator, prof: config.LAProfile, ref: np.ndarray, level: np.ndarray,
               a_start: np.ndarray, hols: np.ndarray) -> tuple[np.ndarray, ...]:
    """Section 47 enquiries (all child protection plans, some others) and their initial
    conferences: (any, start, conference, conference target, conference not required)."""
    n = len(ref)
    nat = _nat(n)
    s47_any = (level == 2) | ((level == 3) & (rng.random(n) < 0.4)) \
        | ((level == 0) & (rng.random(n) < 0.10)) | ((level == 1) & (rng.random(n) < 0.25))
    s47 = np.where(s47_any, a_start + rng.integers(0, 6, n), nat)
    conf = (level == 2) | (level == 3)
    icpc_wd = np.maximum(np.round(rng.lognormal(np.log(prof.icpc_median_wd), 0.38, n)), 1).astype(np.int64)
    icpc = np.where(s47_any & conf, add_working_days(np.where(s47_any, s47, ref), icpc_wd, hols), nat)
    target = np.where(s47_any, add_working_days(np.where(s47_any, s47, ref), np.full(n, 15), hols), nat)
    return s47_any, s47, icpc, target, s47_any & ~conf


def _care(rng: np.random.Generator, level: np.ndarray, a_auth: np.ndarray,
          dob: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Periods of care (level 3), starting within 60 days after the assessment's
    authorisation: (start, end, route out, reason ceased)."""
    n = len(level)
    nat = _nat(n)
    care_start = np.where(level == 3, a_auth + rng.integers(0, 61, n), nat)
    lv3 = np.flatnonzero(level == 3)
    cp_care = cla.draw_care_periods(rng, care_start[lv3], dob[lv3])
    care_end = nat.copy()
    care_end[lv3] = cp_care["end"]
    route = np.full(n, "", dtype=object)
    route[lv3] = cp_care["route"]
    care_rec = np.full(n, "", dtype=object)
    care_rec[lv3] = cp_care["rec"]
    return care_start, care_end, route, care_rec


def _protection_plan(rng: np.random.Generator, prof: config.LAProfile, level: np.ndarray,
                     icpc: np.ndarray, care_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Child protection plans, from the initial conference to the end of the plan (or
    to the start of care): (start, end)."""
    n = len(level)
    nat = _nat(n)
    cp_start = np.where(~np.isnat(icpc), icpc, nat)
    cp_len = np.maximum(np.round(rng.lognormal(np.log(prof.cp_median_days), CP_LEN_SIGMA, n)), 14).astype(np.int64)
    cp_end = np.where(level == 2, cp_start + cp_len, nat)
    cp_end = np.where(level == 3, care_start, cp_end)
    cp_end = np.where(np.isnat(cp_start), nat, cp_end)
    return cp_start, cp_end


def _cin_plan(rng: np.random.Generator, prof: config.LAProfile, level: np.ndarray, a_auth: np.ndarray,
              cp_end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CIN plans: after the assessment (level 1), or stepping down from a child
    protection plan (60% of level 2): (start, end, stepped down)."""
    n = len(level)
    nat = _nat(n)
    cinp_start = np.where(level == 1, a_auth + rng.integers(0, 11, n), nat)
    cinp_len = np.maximum(np.round(rng.lognormal(np.log(prof.cin_plan_median_days), 0.7, n)), 14).astype(np.int64)
    cinp_end = np.where(level == 1, cinp_start + cinp_len, nat)
    step = (level == 2) & (rng.random(n) < 0.6)
    step_len = np.maximum(np.round(rng.lognormal(np.log(120), 0.6, n)), 14).astype(np.int64)
    cinp_start = np.where(step, cp_end, cinp_start)
    cinp_end = np.where(step, cp_end + step_len, cinp_end)
    return cinp_start, cinp_end, step


def _reason_for_closure(rng: np.random.Generator, level: np.ndarray, route: np.ndarray,
                        capped: np.ndarray) -> np.ndarray:
    """ReasonForClosure by level and route out of care; RC6 when closed at 18."""
    u = rng.random(len(level))
    rc = np.where(level == -1, "RC8",
         np.where(level == 0, np.where(u < 0.7, "RC8", "RC9"),
         np.where(level < 3, np.where(u < 0.85, "RC7", np.where(u < 0.9, "RC9", np.where(u < 0.94, "RC5", np.where(u < 0.97, "RC3", "RC4")))),
         np.where(route == "adopt", "RC1", np.where(route == "sgo", "RC4", np.where(route == "cao", "RC3",
         np.where(route == "long", np.where(u < 0.4, "RC6", "RC7"), "RC7"))))))).astype(object)
    return np.where(capped & (level < 3), "RC6", rc).astype(object)


def _rereferral(rng: np.random.Generator, ref: np.ndarray, closure: np.ndarray, dob: np.ndarray,
                level: np.ndarray, rc: np.ndarray, la_shift: float) -> tuple[np.ndarray, ...]:
    """The re-referral model, with the LA's own shift of its logit: (months open,
    P(re-referred within 12 months), eligible, re-referred within 12 months, date of the
    next referral or NaT)."""
    n = len(ref)
    months = (closure - ref).astype(np.int64) / _DAYS_PER_MONTH
    lvl_key = np.where(level == -1, "nfa", level.astype(str))
    b_level = np.vectorize(config.REREF_B_LEVEL.get, otypes=[float])(lvl_key) if n else np.zeros(0)
    p = expit(config.REREF_A + la_shift + b_level + config.REREF_B_MONTHS * months)
    eligible = (closure < birthday(dob, REREF_MAX_AGE)) & (rc != "RC1")
    early = eligible & (rng.random(n) < p)
    late = eligible & ~early & (rng.random(n) < config.LATE_REREFERRAL_P)
    d_early = 1 + np.floor(rng.beta(1.1, 1.7, n) * 364).astype(np.int64)
    d_late = rng.integers(367, 1461, n)
    next_date = np.where(early, closure + d_early, np.where(late, closure + d_late, _nat(n)))
    return months, p, eligible, early, next_date


def _abuse_categories(rng: np.random.Generator, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Initial and latest category of abuse of a plan (sexual abuse likelier with child
    sexual exploitation among the factors)."""
    n = len(x)
    cats = _choice(rng, config.CP_CATEGORIES, [0.50, 0.08, 0.04, 0.35, 0.03], n)
    cats = np.where(x[:, 6] & (rng.random(n) < 0.5), "SAB", cats)
    latest = np.where(rng.random(n) < 0.1, _choice(rng, config.CP_CATEGORIES, [0.5, 0.1, 0.05, 0.3, 0.05], n), cats)
    return cats, latest


#: Level written for the CIN episodes of short-break children: outside the models (no
#: assessment in the files, closed at 18 so outside the re-referral population).
SHORT_BREAK_LEVEL = -2


def short_break_referrals(rng: np.random.Generator, sb_ep: pd.DataFrame, dob: np.ndarray,
                          like: pd.DataFrame, first_ref_id: int) -> pd.DataFrame:
    """One CIN episode per short-break child (disabled children on an agreed series of
    short breaks are children in need): referred 30-120 days before the first break,
    primary need ``N1`` (disability), a CIN plan from 10-29 days after the referral, both
    open until the 18th birthday (then closed ``RC6``, transferred to adult services).

    The referral and its assessment come before the first collection year (every short
    break series starts then), so no ``Assessments`` element is written: the episodes are
    outside the proportionality population, and, closing at 18, outside the re-referral
    model's. ``sb_ep`` holds the short-break episodes (``child`` as in ``dob``'s index);
    ``like`` gives the columns (a frame of referrals, as ``simulate`` returns).
    """
    if len(sb_ep) == 0:
        return like.iloc[:0].copy()
    first = sb_ep.groupby("child")["DECOM"].min()
    child = first.index.to_numpy()
    n = len(child)
    first_d = first.to_numpy().astype("datetime64[D]")
    ref = first_d - rng.integers(30, 121, n)
    plan = ref + rng.integers(10, 30, n)
    close = birthday(dob[child], 18)
    source = _choice(rng, config.REFERRAL_SOURCES, config.REFERRAL_SOURCE_P, n)
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    out = pd.DataFrame({
        "child": child, "gen": 0, "ref_date": ref, "source": source, "need": "N1", "need_cin": "N1",
        "nfa": False, "level": SHORT_BREAK_LEVEL, "latent": np.nan,
        "assess_start": nat, "assess_auth": nat, "s47_start": nat, "icpc_target": nat, "icpc": nat,
        "icpc_not_required": False, "cp_start": nat, "cp_end": nat, "cp_cat": "", "cp_latest": "",
        "cinp_start": plan, "cinp_end": close, "care_start": nat, "care_end": nat, "route": "",
        "care_rec": "", "closure": close, "rc": "RC6",
        "months": (close - ref).astype(np.int64) / _DAYS_PER_MONTH, "p_reref": np.nan,
        "eligible": False, "reref_12m": False, "next_date": nat,
    })
    for code in config.FACTORS:
        out[f"f_{code}"] = False
    out["ref_id"] = first_ref_id + np.arange(n)
    out["n_prev_cpp"] = 0
    return out[list(like.columns)]
