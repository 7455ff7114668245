"""Slack side: Bolt listeners, Block Kit builders and the Slack notifier."""
