"""Where looked-after children live: placement codes by age, providers, homes, postcodes.

The episodes (``cla.py``) decide *when* a child's placement changes; this module
decides *what* the new placement is. Codes that DfE changed over the years (supported
accommodation, independent living, "other") are drawn as placeholders and resolved to
the code valid in the collection year the placement starts, so a return never holds a
code its year does not allow. Postcodes are in ``ZZ``/``ZY`` areas, which do not exist:
no real place is ever named.
"""

from __future__ import annotations

import numpy as np

from .dates import year_bounds

_SUPPORTED = "SUPP"   # placeholder: H5 before 2024-25, K3 from 2024-25
_INDEP = "INDEP"      # placeholder: P2 before 2025-26, K3 from 2025-26
_OTHER = "OTHER"      # placeholder: Z1, Z11-Z14 from 2026-27

#: PLACE codes (some placeholders) and their shares for a new placement, by age band:
#: under 5, 5-11, 12-15, 16-17 (``band_of``).
PLACE_BY_BAND = [
    (["U4", "U5", "U6", "U1", "U2", "U3", "P1", "R3", _OTHER], [0.40, 0.12, 0.10, 0.15, 0.05, 0.05, 0.08, 0.02, 0.03]),
    (["U4", "U5", "U6", "U1", "U2", "U3", "P1", "K2", "R1", "S1", _OTHER],
     [0.40, 0.12, 0.10, 0.12, 0.04, 0.04, 0.07, 0.07, 0.01, 0.01, 0.02]),
    (["U4", "U5", "U6", "U1", "U2", "U3", "P1", "K2", "K1", "R1", "S1", _OTHER],
     [0.33, 0.10, 0.09, 0.10, 0.03, 0.02, 0.05, 0.21, 0.01, 0.02, 0.02, 0.02]),
    (["U4", "U5", "U6", "U1", "U2", "U3", "P1", "K2", _SUPPORTED, _INDEP, "R1", "R5", _OTHER],
     [0.22, 0.06, 0.05, 0.07, 0.02, 0.02, 0.03, 0.17, 0.24, 0.05, 0.02, 0.01, 0.04]),
]
#: Placements in a home with an Ofsted URN (the others are written ``XXXXXXX``).
HOMES = {"K1", "K2", "K3", "H5", "R1", "S1", _SUPPORTED}
#: Foster placements (an adoption by the current carer follows one of these).
FOSTER = ["U1", "U2", "U3", "U4", "U5", "U6"]
#: Temporary absences (a few days away; the child returns to the same placement).
ABSENCES = ["T0", "T1", "T2", "T3", "T4"]
#: URN written for a placement that is not in a registered home.
NO_URN = "XXXXXXX"


def band_of(age_years: np.ndarray) -> np.ndarray:
    """Index into ``PLACE_BY_BAND`` of each age in whole years."""
    return np.digitize(age_years, [5, 12, 16])


def draw_places(rng: np.random.Generator, new: np.ndarray, band: np.ndarray) -> np.ndarray:
    """A PLACE code (or placeholder) for each row flagged ``new``; None elsewhere."""
    place = np.full(len(new), None, dtype=object)
    for b in range(len(PLACE_BY_BAND)):
        m = new & (band == b)
        codes, p = PLACE_BY_BAND[b]
        place[m] = np.array(codes, dtype=object)[rng.choice(len(codes), int(m.sum()), p=np.array(p) / sum(p))]
    return place


def resolve_place(place: np.ndarray, decom: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Turn placeholders into the code valid in the collection year the placement starts."""
    place = place.copy()
    k3_from = year_bounds(2025)[0]
    p2_to = year_bounds(2026)[0]
    z_from = year_bounds(2027)[0]
    m = place == _SUPPORTED
    place[m] = np.where(decom[m] >= k3_from, "K3", "H5")
    m = place == _INDEP
    place[m] = np.where(decom[m] >= p2_to, "K3", "P2")
    m = place == _OTHER
    zz = np.array(["Z11", "Z12", "Z13", "Z14"], dtype=object)[rng.integers(0, 4, int(m.sum()))]
    place[m] = np.where(decom[m] >= z_from, zz, "Z1")
    return place


def is_home(place: np.ndarray) -> np.ndarray:
    """Is each placement in a registered home (so it has a URN)?"""
    return np.isin(place, list(HOMES | {"K3"}))


def provider(place: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """PLACE_PROVIDER of each placement, with shares depending on the kind of placement."""
    n = len(place)
    u = rng.random(n)
    prov = np.where(u < 0.6, "PR1", np.where(u < 0.93, "PR4", "PR5")).astype(object)
    prov = np.where(is_home(place), np.where(u < 0.25, "PR1", np.where(u < 0.9, "PR4", "PR5")), prov)
    prov = np.where(np.isin(place, ["U1", "U2", "U3", "P2", "R3"]), "PR1", prov)
    prov = np.where(place == "P1", "PR0", prov)
    prov = np.where(np.isin(place, ["R2", "R5"]), "PR3", prov)
    prov = np.where(np.isin(place, ["A3", "A4", "A5", "A6"]), np.where(u < 0.8, "PR1", "PR5"), prov)
    return prov.astype(object)


class Postcodes:
    """Partial postcodes (outward code and sector) of a synthetic LA: ``ZZ`` areas (the
    LA's own) and ``ZY`` areas (elsewhere) do not exist, so no real place is named."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        dist = rng.integers(1, 99, 12)
        self.local = np.array([f"ZZ{d} {s}" for d in dist for s in range(1, 10)], dtype=object)
        other = rng.integers(1, 99, 30)
        self.away = np.array([f"ZY{d} {rng.integers(1, 10)}" for d in other], dtype=object)

    def draw(self, n: int, local_share: float = 0.8) -> np.ndarray:
        """``n`` postcodes, a share ``local_share`` of them in the LA."""
        loc = self.rng.random(n) < local_share
        return np.where(loc, self.local[self.rng.integers(0, len(self.local), n)],
                        self.away[self.rng.integers(0, len(self.away), n)]).astype(object)


def homes_pool(rng: np.random.Generator, postcodes: Postcodes, n_homes: int) -> tuple[np.ndarray, np.ndarray]:
    """URNs and postcodes of the registered homes an LA places children in."""
    urns = np.array([f"SC{x:06d}" for x in rng.choice(900_000, n_homes, replace=False) + 100_000],
                    dtype=object)
    return urns, postcodes.draw(n_homes, 0.6)
