"""Tagshare: a people database for coalitions, with tag sharing between nations."""
