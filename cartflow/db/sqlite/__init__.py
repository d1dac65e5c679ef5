"""SQLite whose writers queue for the write lock instead of polling for it (see ``base``)."""
