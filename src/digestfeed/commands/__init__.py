"""One module per CLI command; each exports ``COMMANDS`` (click commands) for :mod:`digestfeed.cli`."""
