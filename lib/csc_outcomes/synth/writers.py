"""Text of the files: CSVs (SSDA903, school census, contacts) and the CIN census XML.

The CIN XML is built from vectorised string fragments (one per record, joined per
episode and per child), not from an element tree: it is several times faster and the
output is the same. Each LA has its own style: with or without the DfE namespace, on
one line or indented, booleans ``0``/``1`` or ``false``/``true``.
"""

from __future__ import annotations

import io

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
    x = _X(p.xml_pretty)
    ys, ye = year_bounds(year)
    t, f = ("1", "0") if p.xml_bools == "01" else ("true", "false")
    r = h.refs
    r = r[(r["ref_date"] <= ye) & (r["closure"] >= ys)]
    ref_id = r["ref_id"].to_numpy()
    NaT = np.datetime64("NaT")

    def d(col, src=r):
        v = src[col].to_numpy().astype("datetime64[D]")
        return np.where(v <= ye, v, NaT).astype("datetime64[D]")

    def iso(v):
        return fmt(v, "iso")

    closure = d("closure")
    closed = ~np.isnat(closure)
    depth_ep = 3  # Message/Children/Child/CINdetails children at depth 4
    # Assessments
    a_start = d("assess_start")
    has_a = ~np.isnat(a_start)
    a_auth = d("assess_auth")
    authorised = has_a & ~np.isnat(a_auth)
    fcols = [f"f_{c}" for c in config.FACTORS]
    fx = r[fcols].to_numpy()
    factors = np.full(len(r), "", dtype=object)
    for j, code in enumerate(config.FACTORS):
        factors = np.where(fx[:, j], factors + x.el("AssessmentFactor", np.full(len(r), code, dtype=object), 6), factors)
    factors = np.where(factors == "", x.el("AssessmentFactor", np.full(len(r), config.NO_FACTOR_CODE, dtype=object), 6), factors)
    factors = np.where(authorised, x.wrap("AssessmentFactors", factors, 5), "")
    assess = x.wrap("Assessments",
                    x.el("AssessmentActualStartDate", iso(a_start), 5)
                    + x.el("AssessmentAuthorisationDate", iso(a_auth), 5) + factors, 4)
    assess = np.where(has_a, assess, "")
    # CIN plans
    cps = d("cinp_start")
    cinplan = np.where(~np.isnat(cps), x.wrap("CINPlanDates", x.el("CINPlanStartDate", iso(cps), 5)
                                              + x.el("CINPlanEndDate", iso(d("cinp_end")), 5), 4), "")
    # Section 47
    s47 = d("s47_start")
    has_s47 = ~np.isnat(s47)
    icpc = d("icpc")
    s47_done = np.where(has_s47, (s47 + 10) <= ye, False)
    notreq = r["icpc_not_required"].to_numpy() & s47_done
    sec47 = x.wrap("Section47", x.el("S47ActualStartDate", iso(s47), 5)
                   + x.el("InitialCPCtarget", iso(d("icpc_target")), 5)
                   + x.el("DateOfInitialCPC", iso(icpc), 5)
                   + x.el("ICPCnotRequired", np.where(notreq, t, f), 5), 4)
    sec47 = np.where(has_s47, sec47, "")
    # Child protection plans
    cpp_s = d("cp_start")
    has_cp = ~np.isnat(cpp_s)
    cpr = h.cp_reviews
    cpr = cpr[(cpr["date"] <= ye) & cpr["ref_id"].isin(ref_id)]
    rv = _join_by(cpr["ref_id"].to_numpy(), x.el("CPPreviewDate", iso(cpr["date"].to_numpy().astype("datetime64[D]")), 6),
                  ref_id)
    rv = np.where(rv != "", x.wrap("Reviews", rv, 5), "")
    cpp = x.wrap("ChildProtectionPlans",
                 x.el("CPPstartDate", iso(cpp_s), 5) + x.el("CPPendDate", iso(d("cp_end")), 5)
                 + x.el("InitialCategoryOfAbuse", r["cp_cat"].to_numpy(), 5)
                 + x.el("LatestCategoryOfAbuse", r["cp_latest"].to_numpy(), 5)
                 + x.el("NumberOfPreviousCPP", r["n_prev_cpp"].to_numpy().astype(str), 5) + rv, 4)
    cpp = np.where(has_cp, cpp, "")

    details = x.wrap("CINdetails",
                     x.el("CINreferralDate", iso(r["ref_date"].to_numpy().astype("datetime64[D]")), depth_ep + 1)
                     + x.el("ReferralSource", r["source"].to_numpy(), 4)
                     + x.el("PrimaryNeedCode", r["need"].to_numpy(), 4)
                     + x.el("CINclosureDate", iso(closure), 4)
                     + x.el("ReasonForClosure", np.where(closed, r["rc"].to_numpy(), ""), 4)
                     + x.el("DateOfInitialCPC", iso(icpc), 4)
                     + x.el("ReferralNFA", np.where(r["nfa"].to_numpy(), t, f), 4)
                     + assess + cinplan + sec47 + cpp, depth_ep)

    # children
    c = r["child"].to_numpy()
    uc = np.unique(c)
    kids = h.kids
    dob = kids.dob[uc]
    age = years(dob, np.full(len(uc), ye))
    upn_blank = h.upn_blank[uc] | (age < 4)
    m_code, f_code = config.cin_sex_codes(year)
    sex = np.where(kids.male[uc], m_code, f_code).astype(object)
    dis = kids.disability[uc]
    ident = x.wrap("ChildIdentifiers",
                   x.el("LAchildID", h.child_id[uc], 4)
                   + x.el("UPN", np.where(upn_blank, "", kids.upn[uc]), 4)
                   + x.el("UPNunknown", np.where(upn_blank, t, ""), 4)
                   + x.el("PersonBirthDate", iso(dob), 4)
                   + x.el(config.cin_sex_element(year), sex, 4), 3)
    chars = x.wrap("ChildCharacteristics",
                   x.el("Ethnicity", kids.ethnic[uc], 4)
                   + x.wrap("Disabilities", x.el("Disability", np.where(dis == "", "NONE", dis), 5), 4), 3)
    det = _join_by(c, details, uc)
    child_xml = x.wrap("Child", ident + chars + det, 2)
    header = (f"{x.nl(1)}<Header>{x.nl(2)}<CollectionDetails>{x.nl(3)}<Collection>CIN</Collection>"
              f"{x.nl(3)}<Year>{year}</Year>{x.nl(3)}<ReferenceDate>{year}-03-31</ReferenceDate>"
              f"{x.nl(2)}</CollectionDetails>{x.nl(2)}<Source>{x.nl(3)}<SourceLevel>L</SourceLevel>"
              f"{x.nl(3)}<LEA>{p.code}</LEA>{x.nl(3)}<SoftwareCode>csc-outcomes-synth</SoftwareCode>"
              f"{x.nl(3)}<Release>1</Release>{x.nl(3)}<SerialNo>1</SerialNo>"
              f"{x.nl(3)}<DateTime>{year}-05-02T09:00:00</DateTime>{x.nl(2)}</Source>{x.nl(1)}</Header>")
    ns = f' xmlns="{CIN_NAMESPACE}"' if p.xml_namespace else ""
    body = "".join(child_xml.tolist())
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<Message{ns}>{header}{x.nl(1)}<Children>'
            f"{body}{x.nl(1)}</Children>\n</Message>\n")
