"""The measure catalogue: pure, vectorised functions from canonical tables to a tidy table."""
