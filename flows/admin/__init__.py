"""Admins' commands: granting and revoking the volunteer and coordinator roles."""
