-- A volunteer's Telegram id, sealed with AES-GCM and bound to their key, as users.chat_ref is.
-- Volunteers act in the group without ever starting the bot, so without it `rotate-key` could
-- not compute their key under a new secret: their cases, alias and grant would be orphaned.
ALTER TABLE volunteers ADD COLUMN ref BLOB;
