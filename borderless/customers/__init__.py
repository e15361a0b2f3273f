"""Customers across channels: linking channel identities to the shop's customer once they have
proven an order (``identities``), and what an agent is shown about them (``api``).
Imports neither Rasa nor Sanic at package level."""
