"""Municipalities, sectors, units, memberships and roles; access.py decides who sees what."""
