"""The Slack side: Bolt listeners, Block Kit builders, the Slack notifier."""
