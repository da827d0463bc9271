"""Hand-off: a worker talks to a volunteer; neither learns who the other is."""
