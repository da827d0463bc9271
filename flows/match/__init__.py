"""Finding coworkers: the enterprise, consent, anonymous circles, mutual reveal, invite links."""
