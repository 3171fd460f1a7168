"""Children: identifiers, dates of birth, sex, ethnicity, UPN, disability.

A child is a row of a ``Children`` table (numpy arrays); the index is the child's
internal number, used by every other module. Identifiers are unique within an LA and
shared by the SSDA903 (``CHILD``) and the CIN census (``LAchildID``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import config

#: Age at first referral (years): bands and their shares (children in need statistics).
AGE_BANDS = np.array([[0, 1], [1, 5], [5, 10], [10, 16], [16, 17.6]])
AGE_BAND_P = np.array([0.13, 0.20, 0.26, 0.33, 0.08])


@dataclass
class Children:
    """The children of an LA, one array per attribute, indexed by the child's number."""

    dob: np.ndarray            # datetime64[D]
    male: np.ndarray           # bool
    ethnic: np.ndarray         # object (str)
    upn: np.ndarray            # object (str, 13 characters)
    disability: np.ndarray     # object: '' or a code
    uasc: np.ndarray           # bool (set when a child enters care as an UASC)

    def __len__(self) -> int:
        return len(self.dob)


def draw_ages(rng: np.random.Generator, n: int) -> np.ndarray:
    """Age in days at first referral."""
    band = rng.choice(len(AGE_BANDS), size=n, p=AGE_BAND_P)
    lo, hi = AGE_BANDS[band, 0], AGE_BANDS[band, 1]
    return np.floor((lo + rng.random(n) * (hi - lo)) * 365.25).astype(np.int64)


def new_children(rng: np.random.Generator, dob: np.ndarray) -> Children:
    """Children born on ``dob``, with sex, ethnicity, UPN and disability drawn."""
    n = len(dob)
    ethnic = np.array(config.ETHNIC, dtype=object)[
        rng.choice(len(config.ETHNIC), size=n, p=config.ETHNIC_P / config.ETHNIC_P.sum())]
    disabled = rng.random(n) < 0.08
    dis = np.where(disabled, np.array(config.DISABILITIES, dtype=object)[
        rng.integers(0, len(config.DISABILITIES), n)], "")
    return Children(dob=dob, male=rng.random(n) < 0.52, ethnic=ethnic,
                    upn=make_upns(rng, n), disability=dis.astype(object),
                    uasc=np.zeros(n, dtype=bool))


def concat(parts: list[Children]) -> Children:
    """One table of the children of ``parts``, in order."""
    return Children(*(np.concatenate([getattr(p, f) for p in parts])
                      for f in ("dob", "male", "ethnic", "upn", "disability", "uasc")))


_LETTERS = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"), dtype=object)


def make_upns(rng: np.random.Generator, n: int) -> np.ndarray:
    """UPN-like strings: a check letter and 12 digits (13 characters).

    The three digits after the letter are ``999`` (no real LA number), so a synthetic
    UPN never equals a real pupil's.
    """
    letters = _LETTERS[rng.integers(0, len(_LETTERS), n)]
    # unique 9-digit tails: a random permutation of a sparse draw
    tails = _unique_ints(rng, n, 10**9)
    digits = np.array([f"{t:09d}" for t in tails.tolist()], dtype=object)
    return (letters + "999" + digits).astype(object) if n else np.array([], dtype=object)


def _unique_ints(rng: np.random.Generator, n: int, high: int) -> np.ndarray:
    """``n`` distinct integers in [0, high) in random order (deterministic)."""
    out = np.unique(rng.integers(0, high, int(n * 1.1) + 16))
    while len(out) < n:
        out = np.unique(np.concatenate([out, rng.integers(0, high, n)]))
    out = rng.permutation(out)[:n]
    return out


def make_child_ids(rng: np.random.Generator, n: int, style: str) -> np.ndarray:
    """LA child identifiers in one of three local styles."""
    if style == "numeric":
        nums = _unique_ints(rng, n, 9_000_000) + 1_000_000
        return np.array([str(x) for x in nums.tolist()], dtype=object)
    if style == "prefixed":
        nums = _unique_ints(rng, n, 9_000_000) + 1_000_000
        return np.array([f"C{x}" for x in nums.tolist()], dtype=object)
    nums = _unique_ints(rng, n, 10**10)
    return np.array([f"{x:010d}" for x in nums.tolist()], dtype=object)
