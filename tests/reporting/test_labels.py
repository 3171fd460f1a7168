"""Readable names for assessment factor codes come from data_contracts/."""

from csc_outcomes.reporting.labels import assessment_factor_labels, factor_term_labels


def test_known_factor_codes_have_names() -> None:
    labels = assessment_factor_labels()
    assert labels["3B"] == "Domestic abuse: parent or carer"
    assert labels["21"] == "No factors identified"


def test_model_terms_get_name_and_code_or_a_plain_fallback() -> None:
    out = factor_term_labels(["factor_11A", "factor_99Z"])
    assert out == {"factor_11A": "Child sexual exploitation (11A)", "factor_99Z": "Factor 99Z"}
