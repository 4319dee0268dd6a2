"""JSON status, Prometheus metrics and the control command."""
