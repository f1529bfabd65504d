"""The viewing side's rules: catalogue titles, heartbeats, sessions, trending, recommendations.

Pure rules, unit-tested, but for the trending board (:mod:`app.viewing.trending_board`),
which reads the top lists every worker shares from Kafka. ``docs/viewing.md`` tells the story.
"""
