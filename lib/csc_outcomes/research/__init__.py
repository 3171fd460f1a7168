"""Step 8, research: pseudonymised extracts of the warehouse for a research partner.

In: the warehouse's canonical tables and an LA's pseudonym key. Out: one parquet file per
table with identifiers replaced by keyed pseudonyms, dates of birth coarsened to month
and postcodes cut to district, plus a data dictionary (``export``).
"""
