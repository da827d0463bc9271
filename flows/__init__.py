"""Conversations: one package per journey, each with ``create_router()``."""
