"""Synthetic local authorities written in the official formats, with the true effects.

``generate(out_dir, n_las=3, seed=0, ...)`` writes the input folder layout of
``docs/input-formats.md`` (SSDA903 CSVs per collection year, the CIN
census XML per year, the school census feed and front-door contacts) for LAs coded
``SYN01``, ``SYN02``, ... and ``synth_truth.json`` at the top, holding the true effect
sizes of the proportionality, re-referral and attendance models and any faults
injected. ``DEMO_SCALE`` is the scale the demo uses.

Modules: ``config`` (code lists by year, parameters, LA profiles), ``spread`` (how LAs
differ: each published rate's LA spread, one LA's levels), ``levers`` (levels turned into
the mechanisms' parameters), ``dates`` (day
arithmetic), ``people`` (children), ``cin`` (referral process), ``cla`` (periods of care
and episodes), ``placements`` (placement codes, providers, homes, postcodes),
``care_records`` (reviews, missing incidents, social workers), ``history`` (one LA's
life history), ``returns`` (yearly SSDA903 returns), ``writers`` (CSV text and CIN XML),
``education`` (school census, contacts), ``faults`` and ``xml_faults`` (fault injection
into the CSVs and the CIN XML), ``truth`` (the truth file), ``generate`` (orchestration).
"""

from .config import DEMO_SCALE
from .generate import SynthError, generate, is_synth_output

__all__ = ["DEMO_SCALE", "SynthError", "generate", "is_synth_output"]
