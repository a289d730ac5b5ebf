"""The grounding check, with a table of cases: what an invented name, number or quotation looks like."""

from __future__ import annotations

import pytest

from bot.grounding import faithfulness, ungrounded

ARTICLE = (
    "The city council of Springfield voted 7-2 on Tuesday to spend $4.5 million on new buses. "
    'Mayor Ana Ruiz called it "a long overdue step" and said 1,200 riders a day would benefit.'
)


@pytest.mark.parametrize(
    ("sentence", "missing"),
    [
        ("Springfield's council voted 7-2 to buy buses.", []),
        ("The council will spend $4.5 million.", []),
        ("Mayor Ana Ruiz praised the plan.", []),
        ("About 1200 riders a day would benefit.", []),  # 1,200 spelled without the comma
        ('Ruiz called the vote "a long overdue step".', []),
        ("The council voted 8-1 to buy buses.", ["8", "1"]),  # an invented figure
        ("Governor Tom Baker opposed the plan.", ["Tom", "Baker"]),  # invented names (a first word is not one)
        ('Ruiz said it was "a historic victory".', ["a historic victory"]),  # an invented quotation
        ("the buses will run on 3 new routes.", ["3"]),
    ],
)
def test_claims_missing_from_the_article_are_found(sentence: str, missing: list[str]) -> None:
    assert ungrounded(sentence, ARTICLE) == missing


def test_faithfulness_is_the_share_of_grounded_sentences() -> None:
    assert faithfulness("The council voted 7-2. Governor Tom Baker objected.", ARTICLE) == 0.5
    assert faithfulness(ARTICLE, ARTICLE) == 1.0
