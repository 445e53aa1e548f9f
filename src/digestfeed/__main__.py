"""``python -m digestfeed``."""

from .cli import run

run()
