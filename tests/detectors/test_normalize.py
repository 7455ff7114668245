"""Each evasion folds to the plain text; different messages stay different."""

import pytest

from detectors.links import canonical_url
from detectors.nodes import has_content
from detectors.normalize import normalize_text, squash

PLAIN = "vote for jane doe today she will fix the roads"


@pytest.mark.parametrize(
    "disguised",
    [
        "Vоtе fоr Jаnе Dое tоdаy shе will fix thе rоаds",  # Cyrillic look-alikes
        "Vote\u200b for\u200d Jane\u2060 Doe today she will fix the roads",  # zero-width
        "Ｖｏｔｅ ｆｏｒ Ｊａｎｅ Ｄｏｅ ｔｏｄａｙ she will fix the roads",  # full-width
        "𝐕𝐨𝐭𝐞 𝐟𝐨𝐫 𝐉𝐚𝐧𝐞 Doe today she will fix the roads",  # mathematical bold
        "ᴠᴏᴛᴇ for Jane Doe today she will fix the roads",  # small capitals
        "RT @bob: Vote for Jane Doe today, she will fix the roads!! #vote #jane",
        "@jane_doe_2026 Vote for Jane Doe today, she will fix the roads #vote_jane #fix_the_roads",  # underscores
        "Agree! Vote for Jane Doe today. She will fix the roads 🔥 https://x.co/a?utm_source=tw",
        "VOTE FOR JANE DOE TODAY — SHE WILL FIX THE ROADS",
    ],
)
def test_disguised_copies_fold_to_the_plain_text(disguised: str) -> None:
    assert normalize_text(disguised) == PLAIN


def test_spaced_out_letters_share_the_squashed_key() -> None:
    assert squash(normalize_text("V o t e for Jane")) == squash(normalize_text("Vote for Jane"))


def test_short_exclamation_is_kept_when_little_follows() -> None:
    assert normalize_text("Agree! Great idea") == "agree great idea"


def test_an_emoticon_or_extra_exclamation_marks_are_no_words_to_drop_a_prefix_for() -> None:
    plain = normalize_text("@andrew me!! :D im so excited!")
    assert plain == "me d im so excited"
    assert normalize_text("@𝐚𝐧𝐝𝐫𝐞𝐰 𝐦𝐞!! :D 𝐢𝐦 𝐬𝐨 𝐞𝐱𝐜𝐢𝐭𝐞𝐝! !!! !!") == plain


@pytest.mark.parametrize(("spaced", "plain"), [
    ("@ S c o t t y M o r e Sounds great! Thanks for sharing.", "@ScottyMore Sounds great! Thanks for sharing."),
    ("# V O T E N O W Jane Doe will fix the roads", "#VOTENOW Jane Doe will fix the roads"),
    ("Jane Doe will fix the roads # v o t e", "Jane Doe will fix the roads #vote"),
])
def test_a_spaced_out_mention_or_hashtag_folds_like_the_one_written_whole(spaced: str, plain: str) -> None:
    assert normalize_text(spaced) == normalize_text(plain)


def test_different_messages_stay_different() -> None:
    assert normalize_text("Vote for Jane Doe today") != normalize_text("Vote for John Roe today")


def test_tracking_parameters_do_not_change_a_link() -> None:
    assert canonical_url("https://www.News.example/a/?utm_source=x&id=3&fbclid=z#top") == \
        canonical_url("https://news.example/a?id=3")
    assert canonical_url("https://news.example/a?id=3") != canonical_url("https://news.example/a?id=4")


def test_a_malformed_link_is_compared_as_written_instead_of_failing() -> None:
    assert canonical_url("http://[oops/page") == canonical_url("HTTPS://[oops/page")


@pytest.mark.parametrize(("text", "specific"), [
    ("the new bridge project will cost twelve million", True),
    ("good morning everyone", False),
    ("征熟悉推特并有空闲时间的推特答疑义工，有意者请加入此谷歌论坛", True),  # a Chinese sentence: no spaces, many words
    ("おはようございます", False),  # "good morning"
    ("新年快乐！", False),
])
def test_a_message_has_content_words_whether_or_not_its_script_puts_spaces_between_them(text: str,
                                                                                        specific: bool) -> None:
    assert has_content(normalize_text(text)) is specific


@pytest.mark.parametrize("text", [
    "मैं घर जा रहा हूँ",  # Hindi: vowel signs, some spacing and some not, inside every word
    "สวัสดีครับ",  # Thai: vowel and tone marks above and below the letters
    "မင်္ဂလာပါ",  # Burmese
    "សួស្តី",  # Khmer
])
def test_vowel_signs_stay_part_of_their_words(text: str) -> None:
    assert normalize_text(text) == text


def test_words_differing_only_in_vowel_signs_stay_different() -> None:
    assert normalize_text("दुख") != normalize_text("देख")  # "sorrow", "see"
    assert normalize_text("กิน") != normalize_text("กัน")  # "eat", "together"


def test_accents_stacked_on_latin_letters_are_dropped() -> None:
    assert normalize_text("V\u0336o\u0336t\u0336e\u0336 for Jane") == "vote for jane"
