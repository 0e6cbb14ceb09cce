"""Detects the language (fr/en) of each message inside the NLU pipeline.

Two opinions are averaged: lingua's offline n-gram models (general French and
English) and a character n-gram classifier fitted on this project's own training
examples, whose intent blocks carry `metadata: {language: fr|en}`. The second one
knows how customers write here: franglais ("c'est où le billing"), SMS French.

The decision is attached to the parse data as the `language` property:
``{"code": "fr" | "en" | None, "confidence": float, "locale": "fr" | "en" | None,
"words": int, "letters": int, "others": int, "distinct_letters": int}``.
`code` is None for messages that carry no language (emoji, "ok", "/intent"
payloads); the counts are what `support.language.measure` found in the text, so
that `support.language.choose_language` switches the conversation's language only
on a real sentence, never on "é" × 50,000 or ``1' AND sleep(5)#``.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence

from lingua import Language, LanguageDetectorBuilder
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from support.language import locale_language, measure

LANGUAGE_PROPERTY = "language"
LANGUAGES = ("en", "fr")
_LINGUA = {Language.ENGLISH: "en", Language.FRENCH: "fr"}
_MAX_CHARS = 2000  # the first sentences tell the language; keeps huge input cheap
_EXAMPLES_FILE = "language_examples.json"


def example_language(message: Message) -> Optional[str]:
    """The language a training example's intent block declares in its metadata."""
    metadata = message.get("metadata") or {}
    language = (metadata.get("intent") or {}).get(LANGUAGE_PROPERTY)
    return language if language in LANGUAGES else None


def fit_classifier(texts: Sequence[str], languages: Sequence[str]) -> Optional[Pipeline]:
    """A character n-gram language classifier; None without both languages to learn from."""
    if set(languages) != set(LANGUAGES):
        return None
    classifier = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True),
        LogisticRegression(C=10.0, max_iter=1000),
    )
    return classifier.fit(list(texts), list(languages))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class LanguageDetector(GraphComponent):
    """Adds the detected language of a message to its parse data."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Fewer letters than min_letters, or a confidence under min_confidence: no language."""
        return {"min_letters": 4, "min_confidence": 0.6}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: Optional[ModelStorage] = None,
        resource: Optional[Resource] = None,
        examples: Optional[Dict[str, List[str]]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._examples = examples or {"texts": [], "languages": []}
        self._classifier = fit_classifier(self._examples["texts"], self._examples["languages"])
        self._lingua = LanguageDetectorBuilder.from_languages(*_LINGUA).with_preloaded_language_models().build()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LanguageDetector:
        """Refits the small classifier from the stored examples (no pickled model)."""
        try:
            with model_storage.read_from(resource) as directory:
                examples = json.loads((directory / _EXAMPLES_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            examples = None
        return cls(config, model_storage, resource, examples)

    def train(self, training_data: TrainingData) -> Resource:
        pairs = [(m.get(TEXT), example_language(m)) for m in training_data.intent_examples]
        pairs = [(text, language) for text, language in pairs if text and language]
        self._examples = {"texts": [t for t, _ in pairs], "languages": [lang for _, lang in pairs]}
        self._classifier = fit_classifier(self._examples["texts"], self._examples["languages"])
        if self._model_storage is not None and self._resource is not None:
            with self._model_storage.write_to(self._resource) as directory:
                (directory / _EXAMPLES_FILE).write_text(json.dumps(self._examples), encoding="utf-8")
        return self._resource

    def probabilities(self, text: str) -> Dict[str, float]:
        """P(language) for 'en' and 'fr': lingua's, averaged with the project classifier's."""
        lingua = {_LINGUA[v.language]: v.value for v in self._lingua.compute_language_confidence_values(text)}
        if self._classifier is None:
            return {lang: lingua.get(lang, 0.0) for lang in LANGUAGES}
        learned = dict(zip(self._classifier.classes_, self._classifier.predict_proba([text])[0]))
        return {lang: (lingua.get(lang, 0.0) + learned[lang]) / 2 for lang in LANGUAGES}

    def detect(self, text: str) -> Dict[str, Any]:
        """Returns the language of `text` and its confidence (code None when it has none), with
        what `measure` counted in the same capped text (words, letters, others, distinct_letters)."""
        text = (text or "")[:_MAX_CHARS]
        measured = measure(text)
        if text.startswith("/") or sum(ch.isalpha() for ch in text) < self._config["min_letters"]:
            return {"code": None, "confidence": 0.0, **measured}
        probabilities = self.probabilities(text)
        best = max(probabilities, key=probabilities.get)
        confidence = round(probabilities[best], 3)
        if confidence < self._config["min_confidence"]:
            return {"code": None, "confidence": confidence, **measured}
        return {"code": best, "confidence": confidence, **measured}

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            result = self.detect(message.get(TEXT))
            result["locale"] = locale_language(message.get("metadata"))
            message.set(LANGUAGE_PROPERTY, result, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples need no language property: one classifier serves both."""
        return training_data
