"""Chorus core: the post and cluster records, configuration, and the poll pipeline."""
