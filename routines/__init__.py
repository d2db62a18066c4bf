"""Step 3: routine templates, documents, versions, approval and PDF."""
