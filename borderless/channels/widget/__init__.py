"""The web widget: an embeddable chat for any shop page, over Rasa's socket.io channel.

* ``borderless.channels.widget.channel.WebWidgetInput`` — the Rasa input channel (Rasa's
  ``socketio`` connector with the holes closed: see its docstring); it also serves the widget's
  static files at ``/webhooks/socketio/widget.js`` and ``widget.css``.
* ``borderless.channels.widget.storefront`` — the demo storefront page with the widget on it
  (``make run`` starts it; no Rasa import, so it starts in a second).
* ``static/`` — ``widget.js`` (UI plus a small Engine.IO v4 / Socket.IO v5 client over
  WebSocket, no build step, no CDN) and ``widget.css``.

Nothing heavy is imported here.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
