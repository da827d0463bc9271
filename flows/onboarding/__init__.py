"""/start, language, privacy notice, main menu, /help, /cancel; replies to anything else."""
