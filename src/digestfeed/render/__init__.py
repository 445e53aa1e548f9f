"""Outputs: each turns a :class:`~digestfeed.plan.FeedSet` into files (relative path → bytes)."""
