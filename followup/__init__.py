"""Step 4: the 6- and 12-month follow-ups and the reminder outbox."""
