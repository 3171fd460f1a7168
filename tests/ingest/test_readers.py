"""CIN census XML variants and the SSDA903 XML form."""

from __future__ import annotations

import pandas as pd

from csc_outcomes.ingest.pipeline import ingest_folder

from .conftest import FIXTURES, TODAY, one_la, problems_of

CIN_PRETTY = (FIXTURES / "clean/E1/cin/2024/cin.xml").read_text()


def _no_ns(text: str) -> str:
    return text.replace(' xmlns="http://www.dcsf.gov.uk/schemas/cbds"', "")


def _one_line(text: str) -> str:
    return "".join(line.strip() for line in text.splitlines())


def _bools(text: str) -> str:
    for tag in ("ReferralNFA", "ICPCnotRequired"):
        text = text.replace(f"<{tag}>0</{tag}>", f"<{tag}>false</{tag}>").replace(f"<{tag}>1</{tag}>", f"<{tag}>true</{tag}>")
    return text


def _tables(tmp_path, text, name):
    root = one_la(tmp_path / name, {"cin/2024/census.xml": text})
    r = ingest_folder(root, today=TODAY)
    assert r.exit_code == 0 and r.rejects.empty
    return {t: r.tables[t].drop(columns=["source_line", "source_file"]).reset_index(drop=True)
            for t in ("cin_children", "cin_episodes", "assessments", "assessment_factors", "cin_plans",
                      "section47", "cp_plans")}


def test_cin_variants_give_the_same_tables(tmp_path):
    base = _tables(tmp_path, CIN_PRETTY, "a")
    for i, variant in enumerate([_no_ns(CIN_PRETTY), _one_line(CIN_PRETTY), _bools(CIN_PRETTY),
                                 _one_line(_bools(_no_ns(CIN_PRETTY)))]):
        got = _tables(tmp_path, variant, f"v{i}")
        for t in base:
            pd.testing.assert_frame_equal(got[t], base[t])
    assert base["cin_episodes"]["ReferralNFA"].tolist() == [False, True]


def test_cin_problems_point_at_element_lines(tmp_path):
    bad = CIN_PRETTY.replace("<PrimaryNeedCode>N2</PrimaryNeedCode>", "<PrimaryNeedCode>N12</PrimaryNeedCode>")
    bad = bad.replace("<CPPendDate>2023-11-30</CPPendDate>", "<CPPendDate>2023-01-30</CPPendDate>")
    bad = bad.replace("<Ethnicity>WBRI</Ethnicity>", "<Ethnicity>WBRI</Ethnicity><Religion>X</Religion>")
    root = one_la(tmp_path, {"cin/2024/census.xml": bad})
    r = ingest_folder(root, today=TODAY)
    assert problems_of(r, "census.xml", "cin_episodes") == [(73, "PrimaryNeedCode", "N12", "code_list")]
    assert problems_of(r, "census.xml", "cp_plans") == [(51, "CPPendDate", "2023-01-30", "date_order")]
    assert problems_of(r, "census.xml", "cin_children") == [(1, "childcharacteristics/religion", None, "extra_columns")]
    for f in r.qa["files"]:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_rejected"]


def test_cin_wrong_root_rejected(tmp_path):
    root = one_la(tmp_path, {"cin/2024/census.xml": "<EXPSSDA903><CHILD/></EXPSSDA903>"})
    r = ingest_folder(root, today=TODAY)
    assert r.exit_code == 1
    assert r.qa["files"][0]["problems"][0]["rule"] == "not_expected_table"


XML_903 = """<?xml version="1.0" encoding="utf-8"?>
<EXPSSDA903>
  <CHILD>
    <HEADER>
      <CHILDID>C1</CHILDID>
      <SEX>m</SEX>
      <DOB>01/02/2010</DOB>
      <ETHNIC>WBRI</ETHNIC>
      <UPN>A123456789012</UPN>
      <DUC>01/02/2028</DUC>
      <AREVIEW>
        <REVIEW>01/06/2025</REVIEW>
        <REVIEW_CODE>PN1</REVIEW_CODE>
      </AREVIEW>
      <OC2>
        <SDQ_SCORE>12</SDQ_SCORE>
        <HEALTH_CHECK>1</HEALTH_CHECK>
      </OC2>
    </HEADER>
    <EPISODE>
      <DECOM>01/05/2025</DECOM>
      <RNE>S</RNE>
      <LS>C2</LS>
      <CIN>N1</CIN>
      <PL>Z11</PL>
      <PLACE_PROVIDER>PR1</PLACE_PROVIDER>
    </EPISODE>
    <EPISODE>
      <DECOM>01/06/2025</DECOM>
      <RNE>P</RNE>
      <LS>C2</LS>
      <CIN>N1</CIN>
      <PL>U1</PL>
      <COLOUR>red</COLOUR>
    </EPISODE>
    <MISSING_EPISODE>
      <MISSING>M</MISSING>
      <MIS_START>02/06/2025</MIS_START>
    </MISSING_EPISODE>
  </CHILD>
  <CHILD>
    <CHILDID>C2</CHILDID><SEX>F</SEX><DOB>2012-01-01</DOB><ETHNIC>BAFR</ETHNIC>
    <EPISODE><DECOM>01/07/2025</DECOM><RNE>S</RNE><LS>C2</LS><CIN>N1</CIN><PL>U1</PL></EPISODE>
  </CHILD>
</EXPSSDA903>
"""


def test_ssda903_xml_form(tmp_path):
    root = one_la(tmp_path, {"ssda903/2026/export.xml": XML_903})
    r = ingest_folder(root, today=TODAY)
    t = r.tables
    assert t["header"][["CHILD", "SEX"]].values.tolist() == [["C1", "M"], ["C2", "F"]]
    # Z11 is valid only from 2027: rejected here, reported with the line of its EPISODE element
    assert t["episodes"][["CHILD", "PLACE", "source_line"]].values.tolist() == [["C1", "U1", 28], ["C2", "U1", 43]]
    assert t["reviews"]["REVIEW"].tolist() == [pd.Timestamp("2025-06-01")]
    assert t["oc2"][["CHILD", "SDQ_SCORE", "HEALTH_CHECK"]].values.tolist() == [["C1", 12, 1]]
    assert t["uasc"][["CHILD", "SEX"]].values.tolist() == [["C1", "M"]]
    assert t["missing"]["DOB"].tolist() == [pd.Timestamp("2010-02-01")]
    assert (20, "PLACE", "Z11", "code_list") in problems_of(r, "export.xml", "episodes")
    assert any(p[3] == "extra_columns" and "EPISODE/COLOUR" in p[1] for p in problems_of(r, "export.xml"))


def test_lines_past_65535_are_the_start_tag_lines(tmp_path) -> None:
    # libxml2 keeps 16-bit lines: past 65,535 a record was quoted at its next line
    from lxml import etree

    from csc_outcomes.ingest.sources.text import start_line

    body = "<r>\n" + "".join("  <a>\n    <b>x</b>\n  </a>\n" for _ in range(30000)) + "</r>\n"
    root = etree.fromstring(body.encode())
    assert root[-1].sourceline == 90000  # lxml's own figure: one line late
    assert [start_line(root[i]) for i in (0, -1)] == [2, 2 + 3 * 29999]
    assert start_line(root[-1][0]) == 90000  # a leaf keeps its own line
