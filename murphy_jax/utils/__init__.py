"""Small shared helpers (benchmark timing and machine description)."""
