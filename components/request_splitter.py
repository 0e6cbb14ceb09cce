"""Splits a message into its requests with spaCy and classifies each, so that small talk or context around
a request does not decide its intent.

"merci ! et il me reste combien de jours ?", "hi, why did my payment fail?" or "sorry, my colleague is taking
over. how many days do we have left?" hold a request next to small talk or context; read whole, the rest may
win the classification. spaCy's rule-based sentencizer and tokenizer (blank French and English pipelines: no
weights to load) cut the message at sentence ends, commas and a few conjunctions ("et", "and", "mais"...).
`RequestSplitter` adds, after the whole message, the message without the small talk at either end (small
talk as learnt in `train` from the examples of greet, thank, goodbye and how_are_you) and each sentence of a
longer request; the rest of the pipeline classifies them all, and `RequestChooser` (after the
FallbackClassifier) keeps the whole message only, with the intent of its clearest part when the whole
reading was small talk, out of scope, a miss or a weaker request. The whole text is never changed.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import spacy
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from spacy.language import Language
from spacy.tokens import Doc, Span

from components.language_detector import LANGUAGE_PROPERTY
from components.stateless import StatelessComponent

SMALL_TALK_PROPERTY = "small_talk"
PART_PROPERTY = "request_part"  # set on the extra per-sentence messages
CHOSEN_PROPERTY = "request_chosen"  # the sentence whose intent the whole message took
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


def _request_text(request: Span) -> str:
    """The request's text without the punctuation it may start with."""
    return re.sub(r"^\W+", "", request.text) or request.text


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
        """small_talk_intents: learnt from; max_words: a longer part is never small talk; min_request_words: a
        sentence shorter than that is not classified apart."""
        return {
            "small_talk_intents": ["greet", "thank", "goodbye", "how_are_you"],
            "max_words": 6,
            "min_request_words": 4,
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
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RequestSplitter:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> RequestSplitter:
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

    def _doc(self, text: str, language: Optional[str]) -> Optional[Doc]:
        """The message parsed once by spaCy, or None when it is not worth cutting (empty, long, a payload)."""
        if not text or len(text) > _MAX_CHARS or text.startswith("/"):
            return None
        return self._nlp.get(language or "en", self._nlp["en"])(text)

    def _split(self, doc: Doc) -> Optional[Tuple[Span, str]]:
        """The request and the small talk around it, or None when there is nothing to set aside."""
        parts = parts_of(doc.sents)
        small = [self.is_small_talk(words_of(part)) for part in parts]
        if all(small) or not any(small):
            return None
        first = small.index(False)
        last = len(small) - 1 - small[::-1].index(False)
        if first == 0 and last == len(parts) - 1:
            return None
        aside = " ".join(part.text for part in parts[:first] + parts[last + 1 :])
        return doc[parts[first].start : parts[last].end], aside

    def _sentences(self, span: Span) -> List[str]:
        """The sentences of a request that has several, each long enough to be a request of its own."""
        doc = span.doc
        clipped = [doc[max(s.start, span.start) : min(s.end, span.end)] for s in span.sents]
        sentences = [s.text.strip() for s in clipped if len(words_of(s)) >= self._config["min_request_words"]]
        return sentences if len(sentences) >= 2 else []

    def request_of(self, text: str, language: Optional[str]) -> Optional[Dict[str, str]]:
        """The request and the small talk around it, or None when there is nothing to set aside."""
        doc = self._doc(text, language)
        found = self._split(doc) if doc is not None else None
        return {"request": _request_text(found[0]), "small_talk": found[1]} if found else None

    def sentences_of(self, text: str, language: Optional[str]) -> List[str]:
        """The sentences of a message that has several, each long enough to be a request of its own."""
        doc = self._doc(text, language)
        return self._sentences(doc[:]) if doc is not None else []

    def process(self, messages: List[Message]) -> List[Message]:
        processed = []
        for message in messages:
            processed.append(message)
            for text in self.requests_in(message):
                processed.append(Message(data={TEXT: text, PART_PROPERTY: True}))
        return processed

    def requests_in(self, message: Message) -> List[str]:
        """The message without its small talk, and its sentences: each to be classified apart (one parse)."""
        doc = self._doc(message.get(TEXT) or "", (message.get(LANGUAGE_PROPERTY) or {}).get("code"))
        if doc is None:
            return []
        found = self._split(doc)
        if found is None:
            return self._sentences(doc[:])
        request, aside = found
        message.set(SMALL_TALK_PROPERTY, aside, add_to_output=True)
        return list(dict.fromkeys([_request_text(request), *self._sentences(request)]))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RequestChooser(StatelessComponent):
    """Gives a message of several sentences the intent of its clearest sentence, and drops the sentences.

    A whole reading as small talk, out of scope or a miss gives way to a sentence read as a request; a whole
    reading as another request gives way only when it is not confident and the sentence's is surer. A yes
    or a no is never replaced: it may answer a pending question."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """confident: a whole reading at least this sure stands; sentence_at_least: the least a sentence's
        reading must have to replace it."""
        return {"confident": 0.8, "sentence_at_least": 0.5}

    def process(self, messages: List[Message]) -> List[Message]:
        wholes: List[Message] = []
        for message in messages:
            if not message.get(PART_PROPERTY):
                wholes.append(message)
            elif wholes and self.replaces(wholes[-1].get(INTENT) or {}, message.get(INTENT) or {}):
                wholes[-1].set(INTENT, message.get(INTENT), add_to_output=True)
                wholes[-1].set(INTENT_RANKING_KEY, message.get(INTENT_RANKING_KEY) or [], add_to_output=True)
                wholes[-1].set(CHOSEN_PROPERTY, message.get(TEXT), add_to_output=True)
        return wholes

    def replaces(self, whole: Dict[str, Any], sentence: Dict[str, Any]) -> bool:
        name, confidence = sentence.get("name"), float(sentence.get("confidence") or 0.0)
        if name in NOT_REQUESTS or name is None or confidence < self._config["sentence_at_least"]:
            return False
        if whole.get("name") in ANSWERS:
            return False
        if whole.get("name") in NOT_REQUESTS:
            return True
        return float(whole.get("confidence") or 0.0) < min(confidence, self._config["confident"])


ANSWERS = {"affirm", "deny"}
NOT_REQUESTS = {"greet", "goodbye", "thank", "how_are_you", "out_of_scope", "nlu_fallback"} | ANSWERS
