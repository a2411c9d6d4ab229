"""Development tooling that lives with the code (not shipped)."""
