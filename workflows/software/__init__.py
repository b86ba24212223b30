"""New software approval (DOMAIN.md 5): request, DPIA screening, decision, register."""
