"""Outputs: each turns a :class:`~digestfeed.types.FeedSet` into files (relative path → bytes)."""
