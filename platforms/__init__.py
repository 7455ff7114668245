"""Platform adapters: read posts past a cursor and carry out moderation actions."""
