"""Human handoff: agent teams and business hours, routing, and the ticket queue.

``teams`` (who works when, from ``demo/teams.yml``), ``routing`` (which team and language a
handoff gets, and its priority) and ``tickets`` (the SQL queue agents work from). None of them
imports Rasa, and this package imports none of them, so importing it costs nothing.
"""
