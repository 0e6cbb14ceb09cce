"""The bases of components that learn nothing: NLU components that only read their configuration, and dialogue
policies that decide from the tracker alone. Nothing is trained, stored or loaded."""

from __future__ import annotations

import abc
from typing import Any, Dict, List, Optional

from rasa.core.constants import POLICY_PRIORITY
from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker


class StatelessComponent(GraphComponent):
    """Its configuration: the defaults of `get_default_config` with what config.yml sets."""

    def __init__(self, config: Dict[str, Any]) -> None:
        self._config = {**self.get_default_config(), **config}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> StatelessComponent:
        return cls(config)


class StatelessPolicy(Policy):
    """A dialogue policy with nothing to learn, so that each one holds only what is its own: its default priority
    (`DEFAULT_PRIORITY`, config.yml may set another) and `predicted_action`. Rasa's training and loading need
    nothing more than what is here; register each subclass with DefaultV1Recipe (`is_trainable=True`)."""

    DEFAULT_PRIORITY: int

    @classmethod
    def get_default_config(cls) -> Dict[str, Any]:
        return {POLICY_PRIORITY: cls.DEFAULT_PRIORITY}

    @staticmethod
    def supported_data() -> SupportedData:
        return SupportedData.ML_DATA

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource  # nothing to learn

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Certainty for the action `predicted_action` names, no prediction (all zeros) when it names none."""
        probabilities = self._default_predictions(domain)
        action = self.predicted_action(tracker, domain)
        if action is not None:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)

    @abc.abstractmethod
    def predicted_action(self, tracker: DialogueStateTracker, domain: Domain) -> Optional[str]:
        """The action that must come next (one of `domain`'s), or None to leave the turn to the other policies."""
