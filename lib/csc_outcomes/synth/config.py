"""Constants of the synthetic generator: code lists by year, England targets, the true
model parameters, and each synthetic LA's profile (size, rates, file style).

Everything random is drawn from a ``numpy.random.Generator`` seeded from
``(seed, la_index)``, except each LA's size and levels of the published rates: those are
stratified over the set of LAs generated together (``spread.stratified_set``), so they
depend on ``(seed, n_las)`` too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from . import levers, spread

# --------------------------------------------------------------------------- volumes
#: England (docs/sources.md): 153 LAs, ~82k children looked after at 31 March, ~633k
#: referrals a year. An average LA at scale 1 has ~535 CLA and ~4,100 referrals a year.
AVERAGE_REFERRALS = 4100.0
AVERAGE_CLA = 535.0
#: Spread (log scale) of LA sizes, as the published children looked after at 31 March
#: 2025 spread between the 10th and 90th percentiles (215 to 999):
#: ``benchmarks/measures/calibrate_synth.py``; ``tests/synth/test_spread.py`` checks it.
SIZE_SIGMA = 0.60
#: Scale the demo uses (3 LAs in a couple of seconds).
DEMO_SCALE = 0.15
#: Years of underlying life history simulated before ``first_year``: long enough for
#: a child in care on the first 31 March to have entered at birth.
HISTORY_YEARS = 18

# Calibration constants (tuned so that scale 1 gives England-like volumes).
#: Share of referrals that are a child's first (the rest come from the re-referral
#: process), used to set the rate of new children.
NEW_CHILD_SHARE = 0.60
#: Probability that a closed episode not re-referred within 12 months is followed by a
#: referral 1-4 years after closure (outside the re-referral model's 12 months).
LATE_REREFERRAL_P = 0.22

# ------------------------------------------------------------------ true model effects
#: Assessment factor codes in the proportionality model (CIN census guide labels).
FACTORS: dict[str, str] = {
    "1B": "alcohol misuse: parent or carer",
    "2B": "drug misuse: parent or carer",
    "3A": "domestic abuse: the child",
    "3B": "domestic abuse: parent or carer",
    "4A": "mental health: the child",
    "4B": "mental health: parent or carer",
    "11A": "child sexual exploitation",
    "24A": "child criminal exploitation",
}
FACTOR_BETA = np.array([0.45, 0.85, 0.75, 0.55, 0.30, 0.40, 1.20, 1.00])
FACTOR_PREVALENCE = np.array([0.12, 0.12, 0.18, 0.30, 0.12, 0.22, 0.04, 0.04])
#: Ordered-logit cutpoints c1 < c2 < c3 (levels 0 | 1 | 2 | 3).
CUTPOINTS = np.array([1.20, 2.55, 3.85])
LA_EFFECT_SD = 0.30
#: Code written when an assessment records none of the factors ("no factors identified").
NO_FACTOR_CODE = "21"

#: Re-referral model: logit P(re-referred within 12 months of closure)
#:   = a + b_level[level] + b_months * months(referral -> closure).
REREF_A = -0.55
REREF_B_LEVEL = {"nfa": 0.25, "0": 0.0, "1": -0.35, "2": -0.60, "3": -0.90}
REREF_B_MONTHS = -0.04

#: Attendance model: proportion = base_i - delta * moves_365 + noise. base_i is drawn
#: from a mixture: most children ~ N(the LA's high mean, ATT_BASE_SD), the LA's share of
#: low attenders ~ N(ATT_LOW_MEAN, ATT_LOW_SD). Real LAs' attendance is low through
#: more children attending little, not everyone attending a little less: that is how
#: persistent absence and attendance move together as they do (levers.attendance_mix).
ATT_DELTA = 0.03
ATT_BASE_MEAN = 0.935
ATT_BASE_SD = 0.035
ATT_NOISE_SD = 0.025
ATT_LOW_MEAN = 0.60
ATT_LOW_SD = 0.12

# ------------------------------------------------------------------------ code lists
ETHNIC = ["WBRI", "WIRI", "WOTH", "WIRT", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND",
          "APKN", "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT"]
ETHNIC_P = np.array([0.70, 0.005, 0.06, 0.004, 0.004, 0.03, 0.01, 0.01, 0.03, 0.01,
                     0.015, 0.005, 0.01, 0.01, 0.03, 0.02, 0.002, 0.02, 0.005, 0.02])
UASC_ETHNIC = ["OOTH", "AOTH", "BAFR", "BOTH", "WOTH"]
DISABILITIES = ["MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS", "BEH", "CON", "AUT"]
REFERRAL_SOURCES = ["1A", "1B", "1C", "1D", "2A", "2B", "3A", "3B", "3C", "3D", "3E", "3F",
                    "4", "5A", "5B", "5C", "5D", "6", "7", "8", "9", "10"]
REFERRAL_SOURCE_P = np.array([0.03, 0.02, 0.02, 0.01, 0.17, 0.03, 0.03, 0.05, 0.03, 0.02,
                              0.02, 0.01, 0.02, 0.05, 0.04, 0.02, 0.02, 0.29, 0.03, 0.06,
                              0.01, 0.01])
NEED_CODES = ["N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8"]
NEED_P = np.array([0.57, 0.09, 0.04, 0.14, 0.09, 0.02, 0.01, 0.04])
CP_CATEGORIES = ["NEG", "PHY", "SAB", "EMO", "MUL"]
PN_CODES = ["PN1", "PN2", "PN3", "PN4", "PN5", "PN6", "PN7"]
REASON_PLACE_CHANGE = ["CARPL", "CLOSE", "ALLEG", "STAND", "APPRR", "CREQB", "CREQO",
                       "CHILD", "LAREQ", "PLACE", "CUSTOD", "OTHER"]
REASON_PLACE_CHANGE_P = np.array([0.22, 0.05, 0.03, 0.08, 0.10, 0.06, 0.05, 0.10, 0.14,
                                  0.07, 0.01, 0.09])
SW_REASONS = ["MANAGE", "FIXEDTERM", "LEFTROLE", "ORGRESTRUC", "OTHER"]

def sex_codes(year: int) -> tuple[str, str]:
    """(male, female) SEX codes in the SSDA903 for ``year``: 1/2 up to 2025, then M/F."""
    return ("1", "2") if year <= 2025 else ("M", "F")


def cin_sex_element(year: int) -> str:
    """Element name of sex in the CIN census: GenderCurrent up to 2024, Sex from 2025."""
    return "GenderCurrent" if year <= 2024 else "Sex"


def cin_sex_codes(year: int) -> tuple[str, str]:
    """(male, female) codes in the CIN census: 1/2 for GenderCurrent, M/F for Sex."""
    return ("1", "2") if year <= 2024 else ("M", "F")


#: SSDA903 tables: file columns in order (docs/input-formats.md).
SSDA903_COLUMNS: dict[str, list[str]] = {
    "header": ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"],
    "episodes": ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                 "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"],
    "uasc": ["CHILD", "SEX", "DOB", "DUC"],
    "reviews": ["CHILD", "DOB", "REVIEW", "REVIEW_CODE"],
    "oc2": ["CHILD", "DOB", "SDQ_SCORE", "SDQ_REASON", "CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS",
            "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED",
            "INTERVENTION_OFFERED"],
    "oc3": ["CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"],
    "ad1": ["CHILD", "DOB", "DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR",
            "LS_ADOPTR"],
    "placed_for_adoption": ["CHILD", "DOB", "DATE_PLACED", "DATE_PLACED_CEASED",
                            "REASON_PLACED_CEASED"],
    "previous_permanence": ["CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"],
    "missing": ["CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"],
    "sw_episodes": ["CHILD", "DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"],
}
#: Date columns of each SSDA903 table (written dd/mm/yyyy).
SSDA903_DATES: dict[str, list[str]] = {
    "header": ["DOB", "MC_DOB"],
    "episodes": ["DECOM", "DEC"],
    "uasc": ["DOB", "DUC"],
    "reviews": ["DOB", "REVIEW"],
    "oc2": ["DOB"],
    "oc3": ["DOB"],
    "ad1": ["DOB", "DATE_INT", "DATE_MATCH"],
    "placed_for_adoption": ["DOB", "DATE_PLACED", "DATE_PLACED_CEASED"],
    "previous_permanence": ["DOB", "DATE_PERM"],
    "missing": ["DOB", "MIS_START", "MIS_END"],
    "sw_episodes": ["DOB", "SW_DECOM", "SW_DEC"],
}
#: First collection year of a table (sw_episodes from 2023-24).
SSDA903_FIRST_YEAR = {"sw_episodes": 2024}


def la_code(index: int, n_las: int) -> str:
    """``SYN01``... (``SYN001``... when there are more than 99 LAs)."""
    width = 2 if n_las <= 99 else 3
    return f"SYN{index + 1:0{width}d}"


# ---------------------------------------------------------------------- LA profiles
@dataclass
class LAProfile:
    """One synthetic LA: its size, its own rates and the style of its exports."""

    code: str
    index: int
    size: float                 # relative to an average English LA
    scale: float
    la_effect: float            # proportionality: shift of the latent intervention level
    nfa_rate: float
    assess_median_wd: float
    icpc_median_wd: float
    cp_median_days: float
    cin_plan_median_days: float
    move_rate: float            # placement moves per year (mean, settled phase)
    sw_change_rate: float       # social-worker changes per year (mean)
    factor_prev_mult: list[float] = field(default_factory=list)
    health_check: float = 0.9
    eet_19_21: float = 0.56
    suitable_accom: float = 0.87
    in_touch: float = 0.92
    # export style
    xml_namespace: bool = False
    xml_pretty: bool = True
    xml_bools: str = "01"       # "01" or "truefalse"
    child_id_style: str = "numeric"
    upn_blank_share: float = 0.05
    # the LA's own levels of the published rates (spread.py) and the levers they set
    levels: dict[str, float] = field(default_factory=dict)
    reref_shift: float = 0.0
    prior_plan_elsewhere: float = 0.16
    settled_move_mult: float = 1.0
    settled_extra: float = 0.0  # moves per year every child has after six months (cla.py)
    missing_mult: float = 1.0
    att_low_share: float = 0.0
    att_high_mean: float = ATT_BASE_MEAN
    teeth_check: float = 0.81
    immunisations: float = 0.85
    sdq_recorded: float = 0.78

    @property
    def volume(self) -> float:
        return self.size * self.scale

    def as_dict(self) -> dict:
        d = asdict(self)
        d["levels"] = {k: round(v, 4) for k, v in self.levels.items()}
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}


def la_rng(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """The random generator of one LA (and one stream within it)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index), int(stream)]))


def draw_profile(seed: int, index: int, n_las: int, scale: float) -> LAProfile:
    """Draw LA ``index``'s profile: its size (log-normal, mean 1) and its own level of
    each published rate, both its share of the set of ``n_las`` LAs stratified over
    their distributions (``spread.stratified_set``), the mechanisms' parameters those
    levels set (``levers``), and its other rates and export style."""
    rng = la_rng(seed, index, 99)
    rng.lognormal()   # the size's draw before sizes were stratified: the others stay as they were
    log_size, levels = spread.stratified_set(seed, n_las, SIZE_SIGMA)
    size = float(np.clip(np.exp(-SIZE_SIGMA**2 / 2 + log_size[index]), 0.12, 3.8))
    prof = _base_profile(rng, index, n_las, size, scale)
    prof.levels = {mid: float(v[index]) for mid, v in levels.items()}
    apply_levels(prof)
    return prof


def apply_levels(prof: LAProfile) -> None:
    """Set the parameters of ``prof``'s mechanisms from its levels."""
    lv = prof.levels
    prof.reref_shift = levers.rereferral_shift(lv["rereferrals_within_12m"])
    prof.nfa_rate = lv["referrals_nfa"]
    prof.prior_plan_elsewhere = levers.prior_plan_elsewhere(lv["cpp_second_or_subsequent"])
    prof.move_rate, prof.settled_move_mult, prof.settled_extra = levers.placement_moves(
        lv["cla_3plus_placements"], lv["cla_long_term_stability"])
    prof.sw_change_rate = levers.sw_change_rate(lv["cla_3plus_social_workers"])
    prof.missing_mult = levers.missing_mult(lv["cla_missing"])
    prof.health_check = lv["oc2_health_check"]
    prof.teeth_check = lv["oc2_teeth_check"]
    prof.immunisations = lv["oc2_immunisations"]
    prof.sdq_recorded = lv["oc2_sdq_recorded"]
    prof.eet_19_21 = levers.among_known(lv["care_leavers_eet_19_21"], prof.in_touch)
    prof.suitable_accom = levers.among_known(lv["care_leavers_suitable_accom_19_21"], prof.in_touch)
    prof.att_low_share, prof.att_high_mean = levers.attendance_mix(
        lv["cla_attendance_rate"], lv["cla_persistent_absence"], ATT_LOW_MEAN)


def _base_profile(rng: np.random.Generator, index: int, n_las: int, size: float,
                  scale: float) -> LAProfile:
    """The profile's draws from the LA's main stream (kept in their order, so that the
    LAs' other draws are as they were before levels came in)."""
    return LAProfile(
        code=la_code(index, n_las),
        index=index,
        size=size,
        scale=float(scale),
        la_effect=float(rng.normal(0, LA_EFFECT_SD)),
        nfa_rate=float(np.clip(rng.normal(0.075, 0.025), 0.01, 0.2)),
        assess_median_wd=float(np.clip(rng.normal(33, 4.5), 22, 44)),
        icpc_median_wd=float(np.clip(rng.normal(11, 2.0), 7, 15)),
        cp_median_days=float(np.clip(rng.normal(255, 35), 160, 360)),
        cin_plan_median_days=float(np.clip(rng.normal(180, 30), 100, 300)),
        move_rate=float(np.clip(rng.normal(0.70, 0.10), 0.4, 1.0)),
        sw_change_rate=float(np.clip(rng.normal(1.3, 0.2), 0.7, 2.0)),
        factor_prev_mult=[float(x) for x in np.clip(rng.normal(1, 0.15, len(FACTORS)), 0.6, 1.5)],
        health_check=float(np.clip(rng.normal(0.89, 0.04), 0.7, 0.99)),
        eet_19_21=float(np.clip(rng.normal(0.56, 0.06), 0.35, 0.75)),
        suitable_accom=float(np.clip(rng.normal(0.87, 0.04), 0.7, 0.97)),
        in_touch=float(np.clip(rng.normal(0.92, 0.03), 0.8, 0.99)),
        xml_namespace=bool(rng.random() < 0.5),
        xml_pretty=bool(rng.random() < 0.6),
        xml_bools="01" if rng.random() < 0.5 else "truefalse",
        child_id_style=str(rng.choice(["numeric", "prefixed", "long"])),
        upn_blank_share=float(np.clip(rng.normal(0.05, 0.02), 0.0, 0.12)),
    )
