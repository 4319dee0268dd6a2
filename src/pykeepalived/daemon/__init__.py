"""Command line, process model, signals, pid files."""
