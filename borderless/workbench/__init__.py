"""The trainer workbench: review conversations, annotate messages, export NLU data, retrain.

``conversations`` reads Rasa's SQL tracker store (read-only), ``masking`` hides personal data,
``annotations`` keeps the trainers' work in its own table, ``export`` turns it into Rasa YAML,
``retrain`` trains, evaluates and activates a model, ``app`` is the Sanic web app. None of them
imports Rasa (evaluation runs ``borderless.nlu.evaluation`` in a subprocess).
"""
