"""Writes for meetings: scheduling, invitations and joining, one module each."""
