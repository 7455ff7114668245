"""The domain, Chorus's bottom layer: posts and clusters, the read models moderators see, and the
decision statuses with their allowed moves. It imports no other Chorus package."""
