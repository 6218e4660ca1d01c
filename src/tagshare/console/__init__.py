"""The `tagshare` command line: management commands that parse arguments and call services."""
