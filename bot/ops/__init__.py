"""The operator's commands: ``backup``, ``restore``, ``check`` and ``rotate-key``.

Each works on the files named by the settings and reports in short lines; none needs Telegram.
"""
