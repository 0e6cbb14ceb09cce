"""`rasa train` as `make train` runs it: Rasa's own command and progress, without the wall of warnings.

Filtered one by one, never all warnings: the validator's "The utterance '...' is not used in any story or
rule" for the responses that only code sends (declared in actions/responses.yml), and the deprecation
notices that Rasa 3.6's pinned dependencies print at import time (pkg_resources, matplotlib's pyparsing,
TensorFlow's jax shim). Any other warning still shows.

    python -m scripts.train [rasa train options]
"""

from __future__ import annotations

import sys
import warnings

import yaml

from support.settings import ROOT

THIRD_PARTY_DEPRECATIONS = r"pkg_resources(\..*)?|matplotlib\..*|tensorflow\..*|rasa\.shared\.utils\.validation"


def responses_sent_by_code() -> list[str]:
    declared = yaml.safe_load((ROOT / "actions" / "responses.yml").read_text(encoding="utf-8"))
    return [*declared["sent_by_actions"], *declared["sent_by_channels"]]


def main(arguments: list[str]) -> None:
    import rasa.utils.common
    from rasa.__main__ import main as rasa_main

    # after the imports: one of Rasa's dependencies puts "once" for every DeprecationWarning first
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=THIRD_PARTY_DEPRECATIONS)
    # Rasa installs its own warning filters when it starts; its list of expected warnings gets ours.
    rasa.utils.common.EXPECTED_WARNINGS.extend(
        (UserWarning, f"The utterance '{name}' is not used in any story or rule") for name in responses_sent_by_code()
    )
    # matplotlib's use of pyparsing 3 (PyparsingDeprecationWarning is also a UserWarning, which Rasa shows once)
    rasa.utils.common.EXPECTED_WARNINGS.append((DeprecationWarning, r"'\w+' deprecated - use '\w+'"))
    sys.argv = ["rasa", "train", "--domain", "domain", *arguments]
    rasa_main()


if __name__ == "__main__":
    main(sys.argv[1:])
