"""Follow-ups: the expander adds earlier turns' words; the raw question still counts; Chat keeps turns."""

from __future__ import annotations

import json

from qa import Chat, answer
from qa.cli import main
from qa.converse import NOT_FOUND, Expander, Query


def test_no_history_adds_nothing(seed_engine):
    assert Expander(seed_engine.store).expand("Who is Armenia's Prime Minister?", None) == Query(
        "Who is Armenia's Prime Minister?"
    )


def test_follow_up_gets_the_subject_of_the_topic_setting_question(seed_engine):
    expander = Expander(seed_engine.store)
    query = expander.expand("And when was it founded?", [("Which countries are in the CSTO?", NOT_FOUND)])
    assert "CSTO" in query.added and "documents" not in query.added
    assert query.text.startswith("And when was it founded?")
    chain = [("Who is Armenia's foreign minister?", "Ararat Mirzoyan said so."), ("When did he speak?", "On March 8.")]
    named = expander.expand("What did he say?", chain)
    assert {"foreign", "minister"} <= set(named.added) and "Ararat" not in named.added


def test_and_another_name_takes_the_place_of_the_earlier_names(seed_engine):
    expander = Expander(seed_engine.store)
    turn = [("Did the CSTO act when Azerbaijan seized Armenian land?", "in Sept. 2023")]
    replaced = expander.expand("And Russia?", turn)
    assert "seized" in replaced.added and not {"CSTO", "Azerbaijan", "Armenian"} & set(replaced.added)
    numbered = expander.expand("What about Apollo 12?", [("Who were the astronauts aboard Apollo 11?", "")])
    assert "astronauts" in numbered.added and "11" not in numbered.added
    asked = expander.expand("And when did Pashinyan say it?", turn)  # a question of its own keeps them
    assert {"CSTO", "Azerbaijan"} <= set(asked.added)


def test_unrelated_turns_leave_a_standalone_question_as_asked(seed_engine):
    query = Expander(seed_engine.store).expand("Who is Armenia's Prime Minister?", [("What is the capital of France?", "")])
    assert query.added == ()


def test_words_already_asked_are_not_added(seed_engine):
    query = Expander(seed_engine.store).expand("What did the CSTO do?", [("What is the CSTO?", "")])
    assert "CSTO" not in query.added


def test_questions_without_content_words_are_answered_or_refused_never_crash(seed_engine):
    assert answer("Why?", index=seed_engine).text
    assert answer("Why?", history=[("What did Armenia threaten to do?", "withdraw")], index=seed_engine).added


def test_chat_keeps_the_history_and_the_answer_says_what_was_searched(seed_engine):
    chat = Chat(seed_engine)
    first = chat.ask("Who is Armenia's Prime Minister?")
    second = chat.ask("When did he freeze the country's CSTO participation?")
    assert first.found and second.found and "Feb. 23" in second.citations[0].quote
    assert second.added and second.query.startswith(second.question) and len(chat.history) == 2


def test_ask_reads_a_history_file(seed_index, tmp_path, capsys):
    docs, index = seed_index
    history = tmp_path / "history.json"
    history.write_text(json.dumps([["Who is Armenia's Prime Minister?", "Nikol Pashinyan"]]))
    args = ["ask", "When did he freeze the CSTO participation?", "--docs", str(docs), "--index", str(index)]
    assert main([*args, "--history", str(history), "--json"]) == 0
    assert "Prime" in json.loads(capsys.readouterr().out)["query"]
    history.write_text("{broken")
    assert main([*args, "--history", str(history)]) == 2
    assert "history file" in capsys.readouterr().err


def test_short_follow_ups_are_answered_like_the_question_in_full(seed_engine):
    """"Why?" and "When was that?" name nothing: they are read with the earlier turns' words, and a follow-up with
    one content word ("Who controls it?") is judged by the vector of the expanded question (all three were "The
    documents don't say." when read and judged as asked, though the best span was right)."""
    for conversation, expected in [
        (["Who delayed a trip to Armenia?", "Why?"], "withholds green light"),
        (["Did the CSTO act when Azerbaijan seized Armenian land?", "When was that?"], "Sept. 2023"),
        (["Which countries are in the CSTO?", "Who controls it?"], "Russia"),
    ]:
        chat = Chat(seed_engine)
        for question in conversation:
            last = chat.ask(question)
        assert last.found and expected in last.text, (conversation, last.text, last.score)
        assert last.question == conversation[-1] and chat.history[-1][0] == conversation[-1]  # as asked, not as read


def test_a_relative_that_does_not_point_back(seed_engine):
    """"the program that followed ..." names its subject; before, the earlier turn's words were added to it."""
    from qa.converse import refers_back

    assert not refers_back("What was the program that followed Project Mercury?")
    assert refers_back("When did he say that?") and refers_back("What was the name of that company?")
    query = Expander(seed_engine.store).expand("Which is the organization that Armenia froze?",
                                               [("Who delayed a trip to Armenia?", "President Zelenskyy")])
    assert query.added == ()
