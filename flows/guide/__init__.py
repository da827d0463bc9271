"""The step-by-step guide: steps, contents, personal checklist, documents and FAQ."""
