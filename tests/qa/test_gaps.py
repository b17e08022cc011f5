"""Gaps: a question's number, name or negation that the text read for it lacks."""

from qa.gaps import Gaps

WINDOW = "The Armenian government froze its participation in the CSTO on Feb. 23, 2024, Pashinyan said."
PASSAGE = "Nikol Pashinyan spoke in Yerevan. " + WINDOW


def gaps(question: str, window: str = WINDOW, passage: str = PASSAGE, title: str = "") -> Gaps:
    return Gaps.between(question, window, passage, title)


def test_a_question_the_text_covers_has_no_gaps():
    assert gaps("When did the government of Armenia freeze its CSTO participation in 2024?") == Gaps(0.0, 0.0, 0.0)


def test_a_number_the_window_lacks_is_a_gap_commas_aside():
    assert gaps("What happened on Feb. 23, 2025?").number == 1.0
    assert gaps("What happened in 1,850?", window="It was founded in 1850.").number == 0.0
    assert gaps("What is 1/200th of the volume?", window="It is 1/2000th of the volume.").number == 1.0


def test_a_name_in_neither_the_passage_nor_the_title_is_a_gap():
    assert gaps("When did Georgia freeze its CSTO participation?").name == 1.0
    assert gaps("Where did Pashinyan speak?", window="He spoke there.").name == 0.0  # in the passage
    assert gaps("When was Tesla born?", window="He was born in 1856.", passage="He was born in 1856.",
                title="Nikola Tesla").name == 0.0
    assert gaps("Who froze it?").name == 0.0  # the first word is capitalized whatever it is


def test_a_negation_the_window_does_not_make_is_a_gap():
    assert gaps("Who did not freeze its participation?").negation == 1.0
    assert gaps("Which country didn't freeze it?").negation == 1.0
    assert gaps("Who did not sign?", window="Armenia did not sign the treaty.").negation == 0.0
    assert gaps("Who never signed?", window="Armenia hasn't signed the treaty.").negation == 0.0
    assert gaps("Who froze its participation?", window="Nobody did not freeze it.").negation == 0.0


def test_values_follow_the_field_order():
    assert Gaps(number=1.0, name=0.0, negation=1.0).values() == [1.0, 0.0, 1.0]


def test_a_name_that_starts_a_word_of_the_passage_or_is_started_by_one_is_no_gap():
    assert gaps("What did Armenia freeze?", passage="The Armenian government froze it.").name == 0.0
    assert gaps("What did the Armenians freeze?", passage="Armenia froze it.").name == 0.0
    assert gaps("What did the US freeze?", passage="Officials use it.").name == 1.0  # too short to match a start


def test_capitalized_function_words_are_no_names():
    assert gaps("Can I freeze it?", passage="Armenia froze it.").name == 0.0
    assert gaps("Who froze it? When did The Economist say so?", passage="Armenia froze it.").name == 1.0  # Economist
    assert gaps("Who froze it? When did they?", passage="Armenia froze it.").name == 0.0
