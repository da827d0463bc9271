"""Privacy: what is stored (/mydata), forgetting everything (/forget), wiping the chat (/wipe),
staying safe, and the retention job that deletes what is no longer needed."""
