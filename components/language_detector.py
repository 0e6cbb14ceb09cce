"""Detects the language (fr/en) of each message inside the NLU pipeline.

The raw decision is attached to the parse data as the `language` property:
``{"code": "fr" | "en" | None, "confidence": float, "locale": "fr" | "en" | None}``.
`code` is None for messages that carry no language (emoji, "ok", "/intent"
payloads); the slot logic in `actions/language.py` then keeps the
conversation's language.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from lingua import Language, LanguageDetectorBuilder
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

LANGUAGE_PROPERTY = "language"
_CODES = {Language.FRENCH: "fr", Language.ENGLISH: "en"}
_MAX_CHARS = 2000  # the first sentences tell the language; keeps huge input cheap


def locale_language(metadata: Optional[Dict[Text, Any]]) -> Optional[Text]:
    """Maps a channel locale such as 'fr-CA' or 'en_US' to 'fr' or 'en'."""
    locale = str((metadata or {}).get("locale") or "").lower()[:2]
    return locale if locale in ("fr", "en") else None


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class LanguageDetector(GraphComponent):
    """Adds the detected language of a message, using lingua offline models."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Messages with fewer letters than this carry no reliable language."""
        return {"min_letters": 4, "min_confidence": 0.6}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._min_letters = int(config["min_letters"])
        self._min_confidence = float(config["min_confidence"])
        self._detector = (
            LanguageDetectorBuilder.from_languages(*_CODES)
            .with_preloaded_language_models()
            .build()
        )

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageDetector":
        return cls(config)

    def detect(self, text: Text) -> Dict[Text, Any]:
        """Returns the best language of `text` and its confidence (0 to 1)."""
        text = (text or "")[:_MAX_CHARS]
        letters = sum(ch.isalpha() for ch in text)
        if text.startswith("/") or letters < self._min_letters:
            return {"code": None, "confidence": 0.0}
        values = self._detector.compute_language_confidence_values(text)
        best = values[0] if values else None
        if best is None or best.value < self._min_confidence:
            return {"code": None, "confidence": best.value if best else 0.0}
        return {"code": _CODES[best.language], "confidence": round(best.value, 3)}

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            result = self.detect(message.get(TEXT))
            result["locale"] = locale_language(message.get("metadata"))
            message.set(LANGUAGE_PROPERTY, result, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data needs no language: the classifier is shared by both."""
        return training_data
