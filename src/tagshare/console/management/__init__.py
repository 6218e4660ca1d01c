"""Management commands of the Tagshare console app."""
