"""Chorus entry point (placeholder until the CLI lands in the foundation commit)."""


def main() -> int:
    """Run the Chorus command line."""
    return 0
