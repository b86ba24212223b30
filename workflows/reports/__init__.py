"""The governors' termly report: counts and charts from the stored cases, never names."""
