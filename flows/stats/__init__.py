"""The coordinators' weekly report: text, chart and CSV, aggregates only."""
