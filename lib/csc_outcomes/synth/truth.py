"""``synth_truth.json``: the true effect sizes, how the data were generated, each LA's
profile and realised volumes, and the faults injected.

The three models are stated exactly as the generator uses them, so that the
``stats`` step can check that it recovers them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import config
from .dates import year_bounds
from .history import History

MARKER = "csc-outcomes synth"
TRUTH_FILE = "synth_truth.json"


def models(profiles: list[config.LAProfile], first_year: int) -> dict:
    """The three models as the generator uses them, with their true parameters."""
    return {
        "proportionality": _proportionality(profiles, first_year),
        "rereferral": _rereferral(profiles),
        "attendance": _attendance(profiles, first_year),
    }


def _proportionality(profiles: list[config.LAProfile], first_year: int) -> dict:
    codes = list(config.FACTORS)
    return {
        "description": (
            "Ordered logit of the level of intervention after an assessment. For each "
            "referral with an assessment (ReferralNFA false), binary indicators x_f for the "
            "listed assessment factor codes are drawn independently (prevalence_f times an "
            "LA multiplier); latent = sum_f beta_f * x_f + la_effect[LA] + e, e ~ standard "
            "logistic; level = 0 if latent <= c1, 1 if <= c2, 2 if <= c3, else 3."),
        "model": "P(level <= k) = logistic(c_{k+1} - sum_f beta_f x_f - la_effect)",
        "levels": {
            "0": "assessment, then no plan (closed)",
            "1": "CIN plan (CINPlanDates in the episode), no child protection plan",
            "2": "child protection plan (ChildProtectionPlans in the episode, after a Section47 "
                 "whose DateOfInitialCPC starts the plan)",
            "3": "looked after: an SSDA903 episode with RNE S and DECOM 0-60 days after "
                 "AssessmentAuthorisationDate (40% also had a section 47 and a plan first)",
        },
        "level_rule": ("take the highest that applies: 3 if an RNE S episode starts 0-60 days "
                       "after AssessmentAuthorisationDate, else 2 if the episode has a "
                       "CPPstartDate, else 1 if it has a CINPlanStartDate, else 0. Some level 0 "
                       "and 1 episodes have a Section47 with ICPCnotRequired true (no conference)."),
        "factor_codes": dict(config.FACTORS),
        "no_factor_code": config.NO_FACTOR_CODE,
        "betas": {c: float(b) for c, b in zip(codes, config.FACTOR_BETA, strict=True)},
        "cutpoints": [float(c) for c in config.CUTPOINTS],
        "la_effects": {p.code: round(p.la_effect, 6) for p in profiles},
        "la_effect_sd": config.LA_EFFECT_SD,
        "factor_prevalence": {
            p.code: {c: round(float(min(0.9, config.FACTOR_PREVALENCE[j] * p.factor_prev_mult[j])), 6)
                     for j, c in enumerate(codes)} for p in profiles},
        "population": ("CIN episodes with an Assessments element whose AssessmentAuthorisationDate "
                       "is present; the assessment's factors are in AssessmentFactors (code "
                       f"'{config.NO_FACTOR_CODE}' when none of the listed factors applies). To "
                       "classify level 3 completely, use assessments authorised from the first "
                       "collection year's 1 April (earlier entries to care may predate the first "
                       "SSDA903 return) to 60 days before the last year's 31 March."),
        "assessed_window": [str(year_bounds(first_year)[0]), "last 31 March minus 60 days"],
    }


def _rereferral(profiles: list[config.LAProfile]) -> dict:
    return {
        "description": (
            "For each closed CIN episode closed before the child's 17th birthday and "
            "ReasonForClosure not RC1 (adopted): P(the child is referred again 1-365 days "
            "after CINclosureDate) = logistic(a + b_level[level] + b_months * months), months = "
            "(CINclosureDate - CINreferralDate) in days / (365.25 / 12). Level as in "
            "'proportionality'; 'nfa' for referrals with ReferralNFA true (no assessment). "
            f"Otherwise, with probability {config.LATE_REREFERRAL_P}, a later referral 367-1460 "
            "days after closure (never within 12 months). No other referral of the child "
            "falls in the 12 months after a closure."),
        "model": ("logit P(rereferred within 12 months) = a + la_shift[LA] + b_level[level] "
                  "+ b_months * months"),
        "a": config.REREF_A,
        "la_shifts": {p.code: round(p.reref_shift, 6) for p in profiles},
        "la_shifts_note": ("each LA's own shift, set so that its re-referral rate is its level "
                           "of the published LA spread (synth/spread.py); a model without LA "
                           "terms estimates a + the shifts' (weighted) mean, slightly attenuated"),
        "b_level": dict(config.REREF_B_LEVEL),
        "b_months": config.REREF_B_MONTHS,
        "follow_up": ("use closures at least 12 months before the end of the last collection "
                      "year; later re-referrals are not in the data. No referral is made on or "
                      "after a child's 18th birthday. The level of an episode referred before the "
                      "first collection year may be misread as below 3 when its entry to care "
                      "predates the first SSDA903 return."),
    }


def _attendance(profiles: list[config.LAProfile], first_year: int) -> dict:
    means = {p.code: round(p.att_low_share * config.ATT_LOW_MEAN + (1 - p.att_low_share) * p.att_high_mean, 6)
             for p in profiles}
    return {
        "description": (
            "For looked-after children matched to the school census, each term's attendance "
            "proportion = base_i - delta * moves + noise, base_i per child ~ Normal(low_mean, "
            "low_sd) for the LA's share of low attenders (la_low_shares), else Normal(the LA's "
            "high mean (la_high_means), base_sd); noise ~ Normal(0, noise_sd) per term, clipped to [0.2, 1], then written as "
            "whole sessions (absence = round((1 - proportion) * sessions_possible), split into "
            "authorised and unauthorised). moves = the child's placement changes with "
            "term_start - 365 days <= DECOM < term_start: episodes that start a new placement "
            "under the catalogue's placement rules (temporary absences T0-T4 skipped; A3/A5 after "
            "U1-U6 and a return to the same placement after an absence are not changes), other "
            "than episodes with RNE S. Each LA's mean of base_i (la_base_means) sets its "
            "attendance, and its low share its persistent absence, at its levels of the "
            "published LA spread (synth/spread.py); base_mean is the LAs' unweighted mean."),
        "model": "proportion = base_i - delta * moves + noise",
        "delta": config.ATT_DELTA,
        "base_mean": round(float(np.mean(list(means.values()))), 6),
        "la_base_means": means,
        "la_low_shares": {p.code: round(p.att_low_share, 6) for p in profiles},
        "la_high_means": {p.code: round(p.att_high_mean, 6) for p in profiles},
        "base_sd": config.ATT_BASE_SD,
        "low_mean": config.ATT_LOW_MEAN,
        "low_sd": config.ATT_LOW_SD,
        "noise_sd": config.ATT_NOISE_SD,
        "terms": "term_start early September, early January, mid April (weekday)",
        "rows": ("terms starting while the child is looked after (not a short break), aged 4-15 "
                 "on the 31 August before, with a UPN"),
        "recoverable_from": str(year_bounds(first_year)[0] + 365),
        "note": ("from 'recoverable_from' on, every move in the 365-day window is in the supplied "
                 "SSDA903 returns; earlier terms' windows reach before the first return."),
    }


def la_summary(h: History, frame: pd.DataFrame) -> dict:
    """Realised volumes of one LA (for plausibility checks and the report)."""
    ys, ye = year_bounds(h.last_year)
    ep = h.episodes
    open_ = (ep["DECOM"] <= ye) & (ep["DEC"] > ye) & ~ep["LS"].isin(["V3", "V4"])
    r = h.refs
    in_year = (r["ref_date"] >= ys) & (r["ref_date"] <= ye)
    assessed = r[in_year & (r["level"] >= 0)]
    return {
        "cla_at_31_march_last_year": int(ep.loc[open_, "child"].nunique()),
        "referrals_last_year": int(in_year.sum()),
        "levels_last_year": {str(k): int(v) for k, v in assessed["level"].value_counts().sort_index().items()},
        "children": len(h.kids),
        "attendance_rows": len(frame),
        "attendance_mean_moves": round(float(frame["moves_365"].mean()), 4) if len(frame) else None,
    }


def jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
