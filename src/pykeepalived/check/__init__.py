"""Health checkers for real servers."""
