"""Text of the files: CSVs (SSDA903, school census, contacts) and the CIN census XML.

The CIN XML is built from vectorised string fragments (one per record, joined per
episode and per child), not from an element tree: it is several times faster and the
output is the same. Each LA has its own style: with or without the DfE namespace, on
one line or indented, booleans ``0``/``1`` or ``false``/``true``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import config
from .dates import fmt, year_bounds, years
from .history import History

CIN_NAMESPACE = "http://www.dcsf.gov.uk/schemas/cs"


def csv_text(df: pd.DataFrame) -> str:
    """CSV text: header line, one line per row, ``\\n`` line endings, blanks empty."""
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n", na_rep="")
    return buf.getvalue()


class _X:
    def __init__(self, pretty: bool):
        self.pretty = pretty

    def nl(self, depth: int) -> str:
        return ("\n" + "  " * depth) if self.pretty else ""

    def el(self, tag: str, values: np.ndarray, depth: int) -> np.ndarray:
        """``<tag>value</tag>`` per value; empty where the value is empty."""
        v = np.asarray(values, dtype=object)
        pre, post = f"{self.nl(depth)}<{tag}>", f"</{tag}>"
        return np.where(v == "", "", pre + v + post).astype(object)

    def wrap(self, tag: str, inner: np.ndarray, depth: int) -> np.ndarray:
        return (f"{self.nl(depth)}<{tag}>" + np.asarray(inner, dtype=object)
                + f"{self.nl(depth)}</{tag}>").astype(object)


def _join_by(keys: np.ndarray, parts: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Concatenate ``parts`` per key, in order; '' for keys of ``index`` without parts."""
    out = np.full(len(index), "", dtype=object)
    if len(parts) == 0:
        return out
    keys = np.asarray(keys)
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    p = np.asarray(parts, dtype=object)[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    joined = np.add.reduceat(p, starts)          # string concatenation per group
    uk = k[starts]
    pos = np.minimum(np.searchsorted(uk, index), len(uk) - 1)
    found = uk[pos] == index
    out[found] = joined[pos[found]]
    return out


def cin_xml(h: History, year: int) -> str:
    """The CIN census XML of collection ``year``: episodes open at any time in the year."""
    p = h.prof
    ys, ye = year_bounds(year)
    r = h.refs
    c = _Census(x=_X(p.xml_pretty), r=r[(r["ref_date"] <= ye) & (r["closure"] >= ys)], ye=ye,
                t_f=("1", "0") if p.xml_bools == "01" else ("true", "false"))
    details = _cin_details(c, _assessments(c) + _cin_plans(c) + _section47(c)
                           + _protection_plans(c, h.cp_reviews))
    child_xml = _children(c, h, year, details)
    x = c.x
    ns = f' xmlns="{CIN_NAMESPACE}"' if p.xml_namespace else ""
    body = "".join(child_xml.tolist())
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<Message{ns}>{_header(x, year, p.code)}'
            f"{x.nl(1)}<Children>{body}{x.nl(1)}</Children>\n</Message>\n")


@dataclass
class _Census:
    """One year's CIN census as it is written: the episodes in it (``r``, open at any
    time in the year), the year's last day and the LA's style (``x``, booleans)."""

    x: _X
    r: pd.DataFrame
    ye: np.datetime64
    t_f: tuple[str, str]        # how the LA writes true and false

    def date(self, col: str) -> np.ndarray:
        """A date column of the episodes; dates after the year's end are not yet known."""
        v = self.r[col].to_numpy().astype("datetime64[D]")
        return np.where(v <= self.ye, v, np.datetime64("NaT")).astype("datetime64[D]")

    def iso(self, col: str) -> np.ndarray:
        return fmt(self.date(col), "iso")

    def bool(self, values: np.ndarray) -> np.ndarray:
        return np.where(values, *self.t_f)


def _assessments(c: _Census) -> np.ndarray:
    """The ``Assessments`` element of each episode (factors once authorised; code 21,
    no factors identified, when none of the modelled factors applies)."""
    x, r = c.x, c.r
    n = len(r)
    has_a = ~np.isnat(c.date("assess_start"))
    authorised = has_a & ~np.isnat(c.date("assess_auth"))
    fx = r[[f"f_{code}" for code in config.FACTORS]].to_numpy()
    factors = np.full(n, "", dtype=object)
    for j, code in enumerate(config.FACTORS):
        factors = np.where(fx[:, j], factors + x.el("AssessmentFactor", np.full(n, code, dtype=object), 6), factors)
    none = x.el("AssessmentFactor", np.full(n, config.NO_FACTOR_CODE, dtype=object), 6)
    factors = np.where(factors == "", none, factors)
    factors = np.where(authorised, x.wrap("AssessmentFactors", factors, 5), "")
    assess = x.wrap("Assessments",
                    x.el("AssessmentActualStartDate", c.iso("assess_start"), 5)
                    + x.el("AssessmentAuthorisationDate", c.iso("assess_auth"), 5) + factors, 4)
    return np.where(has_a, assess, "")


def _cin_plans(c: _Census) -> np.ndarray:
    """The ``CINPlanDates`` element of each episode with a CIN plan."""
    x = c.x
    plan = x.wrap("CINPlanDates", x.el("CINPlanStartDate", c.iso("cinp_start"), 5)
                  + x.el("CINPlanEndDate", c.iso("cinp_end"), 5), 4)
    return np.where(~np.isnat(c.date("cinp_start")), plan, "")


def _section47(c: _Census) -> np.ndarray:
    """The ``Section47`` element of each episode with an enquiry (``ICPCnotRequired``
    true only once the enquiry has had 10 days to reach its decision)."""
    x, ye = c.x, c.ye
    s47 = c.date("s47_start")
    has_s47 = ~np.isnat(s47)
    s47_done = np.where(has_s47, (s47 + 10) <= ye, False)
    notreq = c.r["icpc_not_required"].to_numpy() & s47_done
    sec47 = x.wrap("Section47", x.el("S47ActualStartDate", c.iso("s47_start"), 5)
                   + x.el("InitialCPCtarget", c.iso("icpc_target"), 5)
                   + x.el("DateOfInitialCPC", c.iso("icpc"), 5)
                   + x.el("ICPCnotRequired", c.bool(notreq), 5), 4)
    return np.where(has_s47, sec47, "")


def _protection_plans(c: _Census, cp_reviews: pd.DataFrame) -> np.ndarray:
    """The ``ChildProtectionPlans`` element of each episode with a plan, with the
    review conferences held by the year's end."""
    x, r = c.x, c.r
    ref_id = r["ref_id"].to_numpy()
    cpr = cp_reviews[(cp_reviews["date"] <= c.ye) & cp_reviews["ref_id"].isin(ref_id)]
    review_dates = fmt(cpr["date"].to_numpy().astype("datetime64[D]"), "iso")
    rv = _join_by(cpr["ref_id"].to_numpy(), x.el("CPPreviewDate", review_dates, 6), ref_id)
    rv = np.where(rv != "", x.wrap("Reviews", rv, 5), "")
    cpp = x.wrap("ChildProtectionPlans",
                 x.el("CPPstartDate", c.iso("cp_start"), 5) + x.el("CPPendDate", c.iso("cp_end"), 5)
                 + x.el("InitialCategoryOfAbuse", r["cp_cat"].to_numpy(), 5)
                 + x.el("LatestCategoryOfAbuse", r["cp_latest"].to_numpy(), 5)
                 + x.el("NumberOfPreviousCPP", r["n_prev_cpp"].to_numpy().astype(str), 5) + rv, 4)
    return np.where(~np.isnat(c.date("cp_start")), cpp, "")


def _cin_details(c: _Census, groups: np.ndarray) -> np.ndarray:
    """The ``CINdetails`` element of each episode, holding ``groups`` (assessments,
    plans, section 47) after the episode's own fields."""
    x, r = c.x, c.r
    closed = ~np.isnat(c.date("closure"))
    ref_date = fmt(r["ref_date"].to_numpy().astype("datetime64[D]"), "iso")
    return x.wrap("CINdetails",
                  x.el("CINreferralDate", ref_date, 4)
                  + x.el("ReferralSource", r["source"].to_numpy(), 4)
                  + x.el("PrimaryNeedCode", r["need"].to_numpy(), 4)
                  + x.el("CINclosureDate", c.iso("closure"), 4)
                  + x.el("ReasonForClosure", np.where(closed, r["rc"].to_numpy(), ""), 4)
                  + x.el("DateOfInitialCPC", c.iso("icpc"), 4)
                  + x.el("ReferralNFA", c.bool(r["nfa"].to_numpy()), 4)
                  + groups, 3)


def _children(c: _Census, h: History, year: int, details: np.ndarray) -> np.ndarray:
    """One ``Child`` element per child with an episode in the year, holding its
    identifiers, characteristics and episodes (UPN blank, and UPNunknown, for some
    children and for every child under 4)."""
    x = c.x
    t = c.t_f[0]
    ch = c.r["child"].to_numpy()
    uc = np.unique(ch)
    kids = h.kids
    dob = kids.dob[uc]
    age = years(dob, np.full(len(uc), c.ye))
    upn_blank = h.upn_blank[uc] | (age < 4)
    m_code, f_code = config.cin_sex_codes(year)
    sex = np.where(kids.male[uc], m_code, f_code).astype(object)
    dis = kids.disability[uc]
    ident = x.wrap("ChildIdentifiers",
                   x.el("LAchildID", h.child_id[uc], 4)
                   + x.el("UPN", np.where(upn_blank, "", kids.upn[uc]), 4)
                   + x.el("UPNunknown", np.where(upn_blank, t, ""), 4)
                   + x.el("PersonBirthDate", fmt(dob, "iso"), 4)
                   + x.el(config.cin_sex_element(year), sex, 4), 3)
    chars = x.wrap("ChildCharacteristics",
                   x.el("Ethnicity", kids.ethnic[uc], 4)
                   + x.wrap("Disabilities", x.el("Disability", np.where(dis == "", "NONE", dis), 5), 4), 3)
    return x.wrap("Child", ident + chars + _join_by(ch, details, uc), 2)


def _header(x: _X, year: int, la_code: str) -> str:
    """The ``Header`` element: the collection, its year and reference date, the LA."""
    return (f"{x.nl(1)}<Header>{x.nl(2)}<CollectionDetails>{x.nl(3)}<Collection>CIN</Collection>"
            f"{x.nl(3)}<Year>{year}</Year>{x.nl(3)}<ReferenceDate>{year}-03-31</ReferenceDate>"
            f"{x.nl(2)}</CollectionDetails>{x.nl(2)}<Source>{x.nl(3)}<SourceLevel>L</SourceLevel>"
            f"{x.nl(3)}<LEA>{la_code}</LEA>{x.nl(3)}<SoftwareCode>csc-outcomes-synth</SoftwareCode>"
            f"{x.nl(3)}<Release>1</Release>{x.nl(3)}<SerialNo>1</SerialNo>"
            f"{x.nl(3)}<DateTime>{year}-05-02T09:00:00</DateTime>{x.nl(2)}</Source>{x.nl(1)}</Header>")
