"""Which two topics the clarifying question offers."""

from support.clarification import topics_to_offer


def ranking(*pairs):
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def test_two_likely_topics_are_offered_in_order() -> None:
    offered = topics_to_offer(
        ranking(("nlu_fallback", 0.35), ("delete_account", 0.31), ("cancel_subscription", 0.4), ("greet", 0.2))
    )
    assert offered == ["cancel_subscription", "delete_account"]


def test_small_talk_and_weak_candidates_are_not_offered() -> None:
    assert topics_to_offer(ranking(("thank", 0.5), ("greet", 0.4), ("refund_policy", 0.05))) == []
    assert topics_to_offer(ranking(("refund_policy", 0.2), ("billing_dispute", 0.19))) == []
    assert topics_to_offer(ranking(("refund_policy", 0.6), ("billing_dispute", 0.05))) == []
    assert topics_to_offer([]) == []
