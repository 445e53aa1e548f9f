"""``python -m digestfeed``."""

from .cli import main

main(prog_name="digestfeed")
