"""Step 1 (Webbkurs Heder reports) and step 2 (targeted training sessions)."""
