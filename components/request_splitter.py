"""Splits a message into its parts with spaCy and keeps the request when small talk surrounds it.

"merci ! et il me reste combien de jours ?" or "hi, why did my payment fail?" hold a greeting or a thank-you
next to the real request; read whole, the small talk may win the classification. spaCy's rule-based
sentencizer and tokenizer (blank French or English pipelines: no weights to load) cut the message at
sentence ends, commas and a few conjunctions ("et", "and", "mais"...); the parts at either end that are
small talk, as the training data knows it, are set aside and the intent classifier reads what is left.
A message that is only small talk, or only a request, is left as it is.

Small talk is learnt in `train`: the examples of the small-talk intents (as phrases) and the words found
mostly in them. The text set aside is kept in the parse data as `small_talk`; the tracker's event keeps
the customer's whole message.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set

import spacy
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from spacy.language import Language
from spacy.tokens import Span

from components.language_detector import LANGUAGE_PROPERTY

SMALL_TALK_PROPERTY = "small_talk"
_FILE = "small_talk.json"
_CONJUNCTIONS = {"et", "and", "mais", "but", "also", "aussi", "sinon", "puis", "then", "btw"}
_MAX_CHARS = 500  # a long message is a request: not worth cutting


def _pipelines() -> Dict[str, Language]:
    pipelines = {}
    for code in ("fr", "en"):
        nlp = spacy.blank(code)
        nlp.add_pipe("sentencizer")
        pipelines[code] = nlp
    return pipelines


def words_of(tokens: Iterable[Any]) -> List[str]:
    """The lower-cased words of a span, punctuation left out."""
    return [token.lower_ for token in tokens if not (token.is_punct or token.is_space)]


def parts_of(sentences: Iterable[Span]) -> List[Span]:
    """Sentences cut again at commas, semicolons, dashes and before a conjunction."""
    parts = []
    for sentence in sentences:
        start = sentence.start
        for token in sentence:
            cut_after = token.is_punct and token.i > start
            cut_before = token.lower_ in _CONJUNCTIONS and token.i > start
            if cut_before:
                parts.append(sentence.doc[start : token.i])
                start = token.i
            elif cut_after:
                parts.append(sentence.doc[start : token.i + 1])
                start = token.i + 1
        if start < sentence.end:
            parts.append(sentence.doc[start : sentence.end])
    return [part for part in parts if words_of(part)]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class RequestSplitter(GraphComponent):
    """Sets small talk aside from a message that also holds a request."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """small_talk_intents: learnt from; max_words: a longer part is never small talk; min_request_words: what is
        left after a greeting must be that long; min_sentence_words: a request before a closing "thanks" must be
        a question or that long."""
        return {
            "small_talk_intents": ["greet", "thank", "goodbye", "how_are_you"],
            "max_words": 6,
            "min_request_words": 4,
            "min_sentence_words": 6,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        phrases: Optional[Set[str]] = None,
        words: Optional[Set[str]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._phrases = phrases or set()
        self._words = words or set()
        self._nlp = _pipelines()

    @classmethod
    def create(
        cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> "RequestSplitter":
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "RequestSplitter":
        try:
            with model_storage.read_from(resource) as folder:
                learnt = json.loads((folder / _FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, set(learnt["phrases"]), set(learnt["words"]))

    def train(self, training_data: TrainingData) -> Resource:
        small, other = Counter(), Counter()
        phrases = set()
        chosen = set(self._config["small_talk_intents"])
        for example in training_data.intent_examples:
            words = words_of(self._nlp["en"].tokenizer(example.get(TEXT) or ""))
            if example.get(INTENT) in chosen:
                phrases.add(" ".join(words))
                small.update(set(words))
            else:
                other.update(set(words))
        self._phrases = phrases
        self._words = {word for word, count in small.items() if count >= 2 and count >= other[word]}
        with self._storage.write_to(self._resource) as folder:
            learnt = {"phrases": sorted(self._phrases), "words": sorted(self._words)}
            (folder / _FILE).write_text(json.dumps(learnt, ensure_ascii=False), encoding="utf-8")
        return self._resource

    def is_small_talk(self, words: Sequence[str]) -> bool:
        if not words or len(words) > self._config["max_words"]:
            return False
        return " ".join(words) in self._phrases or all(word in self._words for word in words)

    def request_of(self, text: str, language: Optional[str]) -> Optional[Dict[str, str]]:
        """The request and the small talk around it, or None when there is nothing to set aside."""
        if not text or len(text) > _MAX_CHARS or text.startswith("/"):
            return None
        doc = self._nlp.get(language or "en", self._nlp["en"])(text)
        parts = parts_of(doc.sents)
        small = [self.is_small_talk(words_of(part)) for part in parts]
        if all(small) or not any(small):
            return None
        first = small.index(False)
        last = len(small) - 1 - small[::-1].index(False)
        if len(words_of(doc[parts[first].start : doc[-1].i + 1])) < self._config["min_request_words"]:
            first = 0  # "bonjour madame, monsieur", "hey, what's up": a greeting, not a request
        if not self._clear_request(doc[parts[first].start : parts[last].end]):
            last = len(parts) - 1  # "c'est tout pour moi, au revoir": small talk, not a request
        if first == 0 and last == len(parts) - 1:
            return None
        request = doc[parts[first].start : parts[last].end].text
        aside = " ".join(part.text for part in parts[:first] + parts[last + 1 :])
        return {"request": re.sub(r"^\W+", "", request) or request, "small_talk": aside}

    def _clear_request(self, part: Span) -> bool:
        """A request that stands on its own once the small talk after it is set aside: a question, a full sentence."""
        return part.text.rstrip().endswith(("?", ".")) or len(words_of(part)) >= self._config["min_sentence_words"]

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            language = (message.get(LANGUAGE_PROPERTY) or {}).get("code")
            found = self.request_of(message.get(TEXT) or "", language)
            if found:
                message.set(TEXT, found["request"])
                message.set(SMALL_TALK_PROPERTY, found["small_talk"], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
