"""One module per CLI command (or a few related ones); each exports ``COMMANDS``.

Register a new command in :data:`digestfeed.cli.COMMAND_MODULES`.
"""
