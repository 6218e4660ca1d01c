"""One module per `tagshare` command; each parses its arguments and calls services."""
