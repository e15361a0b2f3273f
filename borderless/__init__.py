"""Borderless: a multilingual customer-service assistant for cross-border shops.

Importing the package is cheap: sub-packages load what they need themselves, so rasa-sdk's
start-up scan of ``actions/`` and the reference shop service stay light.
"""

__version__ = "0.1.0"
