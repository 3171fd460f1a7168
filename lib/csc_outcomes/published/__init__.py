"""DfE's published statistics: England, every region and LA, and statistical neighbours.

In: the Explore Education Statistics CSVs and the statistical neighbour model kept in
``published/`` (Open Government Licence v3.0), read against
``data_contracts/published/``. Out: a tidy table in the catalogue's vocabulary
(``geographic_level, area_code, area_name, year, measure_id, numerator, denominator,
value, symbol``), each LA's ten statistical neighbours, and ``update`` to add a newer
release. Most users hold only their own LA's returns: these figures are how they
compare with England, their region and their neighbours.
"""

from csc_outcomes.published.contract import ATTRIBUTION, PublishedFileError
from csc_outcomes.published.neighbours import statistical_neighbours
from csc_outcomes.published.tidy import TIDY_COLUMNS, published_measures

__all__ = ["ATTRIBUTION", "TIDY_COLUMNS", "PublishedFileError", "published_measures",
           "statistical_neighbours"]
