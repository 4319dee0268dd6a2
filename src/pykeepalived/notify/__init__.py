"""Notify scripts, notify_fifo and SMTP alerts."""
