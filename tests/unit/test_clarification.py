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


def test_a_short_follow_up_stays_on_the_previous_topic() -> None:
    from support.clarification import follow_up_topic

    unsure = ranking(("nlu_fallback", 0.35), ("change_plan", 0.3), ("refund_policy", 0.2), ("greet", 0.1))
    assert follow_up_topic("and for the annual plan?", unsure, "refund_policy") == "refund_policy"
    assert follow_up_topic("et pour l'abonnement annuel ?", unsure, "refund_policy") == "refund_policy"
    # the NLU's own topic when the previous one is not a candidate and the new one is likely enough
    assert follow_up_topic("ok and the invoices?", unsure, "grace_period") == "change_plan"
    assert follow_up_topic("and storage?", ranking(("greet", 0.4)), "free_plan_limits") == "free_plan_limits"


def test_only_short_continuations_after_a_topic_are_follow_ups() -> None:
    from support.clarification import follow_up_topic

    unsure = ranking(("refund_policy", 0.3))
    assert follow_up_topic("and for the annual plan?", unsure, None) is None
    assert follow_up_topic("the annual plan?", unsure, "refund_policy") is None
    long = "and also I wanted to tell you that our whole team is very unhappy with the way this went today"
    assert follow_up_topic(long, unsure, "refund_policy") is None


def test_a_confident_other_topic_gives_way_to_the_previous_one_only_in_a_follow_up() -> None:
    from support.clarification import stays_on_previous_topic

    other = ranking(("change_plan", 0.6), ("refund_policy", 0.25), ("greet", 0.1))
    assert stays_on_previous_topic("et en mensuel ?", "change_plan", other, "refund_policy")
    assert not stays_on_previous_topic("how do I change plans?", "change_plan", other, "refund_policy")
    sure = ranking(("change_plan", 0.85), ("grace_period", 0.05))
    assert not stays_on_previous_topic("and in monthly?", "change_plan", sure, "refund_policy")  # not a candidate
    # a follow-up that names no topic of its own: a weak reading as small talk or another topic gives way
    vague = ranking(("how_are_you", 0.46), ("subscription_status", 0.21), ("refund_policy", 0.11))
    assert stays_on_previous_topic("and if we'd been on monthly?", "how_are_you", vague, "refund_policy")
    assert stays_on_previous_topic("and storage?", "change_plan", ranking(("change_plan", 0.42)), "free_plan_limits")
    # a topic of its own read with some confidence is kept ("and how do we move up to the professional plan?")
    own = ranking(("change_plan", 0.73), ("reactivate_subscription", 0.12))
    assert not stays_on_previous_topic("and how do we move up to professional?", "change_plan", own, "invoice_request")
    assert not stays_on_previous_topic("and the invoices?", "invoice_request", [], "refund_policy")  # no ranking
    person = ranking(("human_handoff", 0.5), ("refund_policy", 0.3))
    assert not stays_on_previous_topic("and can I talk to someone?", "human_handoff", person, "refund_policy")
    # once re-read as the previous topic, the message is that topic: never re-read again
    assert not stays_on_previous_topic("et en mensuel ?", "refund_policy", other, "refund_policy")
    weak = ranking(("change_plan", 0.9), ("refund_policy", 0.05))
    assert not stays_on_previous_topic("and in monthly?", "change_plan", weak, "refund_policy")
    thanks = ranking(("thank", 0.9), ("refund_policy", 0.1))
    assert not stays_on_previous_topic("and thanks", "thank", thanks, "refund_policy")


def test_the_previous_topic_is_the_latest_earlier_one_in_the_session() -> None:
    from support.clarification import previous_topic_of

    def user(intent):
        return {"event": "user", "parse_data": {"intent": {"name": intent}}}

    assert previous_topic_of([user("refund_policy"), user("thank"), user("nlu_fallback")]) == "refund_policy"
    assert previous_topic_of([user("refund_policy"), {"event": "session_started"}, user("greet")]) is None
    assert previous_topic_of([user("refund_policy")]) is None  # the message being answered is not "previous"


def test_the_topic_the_nlu_was_unsure_of_is_offered_first() -> None:
    unsure = ranking(("nlu_fallback", 0.86), ("billing_dispute", 0.86), ("subscription_status", 0.11), ("greet", 0.02))
    assert topics_to_offer(unsure, unsure_of="billing_dispute") == ["billing_dispute", "subscription_status"]
    assert topics_to_offer(ranking(("billing_dispute", 0.8)), unsure_of="billing_dispute") == ["billing_dispute"]
