"""Article or feed text to what a post may show: furniture lines out, lost spaces back, the headline not repeated.

Pure, line by line and cheap: `clean_text` runs on every extracted page (`bot.extract`), `without_title` on every
feed item's text (`bot.articles`).
"""

from __future__ import annotations

import re

# Lines that are furniture, not article: matched against a whole line, case-insensitively.
_BOILERPLATE = re.compile(
    r"^(?:"
    r"(?:edited|reporting|additional reporting|writing|compiled) by\b.{0,120}"
    r"|(?:image|photo|picture|video)s?(?: credit)?s?\s*[:|©].{0,150}"
    r"|(?:credit|source|copyright|©)\s*[:|].{0,120}"
    r"|advertisement|sponsored( content)?|fetching more content\.*|loading\.*|quick links"
    r"|(?:read|see) (?:more|also)\b.{0,120}|more from\b.{0,120}|related(?: articles| stories)?:?"
    r"|related(?: articles| stories| content| coverage| reading)?\s*:.{1,200}"
    r"|(?:sign up|subscribe)\b.{0,160}(?:newsletter|inbox|updates)\.?"
    r"|share (?:this|on)\b.{0,60}|follow us\b.{0,80}|click here\b.{0,120}"
    r"|(?:we use|this (?:site|website) uses) cookies\b.{0,200}"
    r"|this (?:copy|article|content) is for your personal,? non-?commercial use only\b.{0,300}"
    # Reader prompts and appeals, contributor and contact lines, widget messages, legal lines, a bare or labelled link,
    # shortcode residue, a lone timestamp. Found by reading what was left on the dev pages; each is a kind of line
    # many sites print, matched only as a whole line (the tests keep article sentences that share their words).
    r"|(?:like|liked|enjoy|enjoyed|love|loved) this (?:story|article|post|piece)\?.{0,80}"
    r"|(?:tell us|let us know) what you think\W{0,5}.{0,60}"
    r"|if you (?:enjoyed|liked|value|appreciate|enjoy|like) (?:this|our) "
    r"(?:article|story|post|journalism|reporting|work)\b.{0,500}"
    r"|(?:write to|contact|email) .{1,80} at \S+@\S+\.\w+\.?"
    r"|(?:an error has occurred|something went wrong|oops)\b.{0,80}"
    r"|this (?:article|story|page) has been (?:sent|shared|saved)\b.{0,80}"
    r"|(?:[\w ]{1,20}:\s*)?https?://\S+"
    r"|(?:updated|published|posted|last updated|first published)(?: at| on)?:? [\w ,.:/-]{0,40}"
    r"|listen to (?:this |the )?(?:article|story)\b.{0,40}|\d+\s*min(?:ute)?s?\s*read\.?"
    r")$",
    re.IGNORECASE,
)
# Lines that end a certain way, whatever starts them; searched only in lines short enough to be them (a pattern that
# may start anywhere costs a scan of every line, and every article line would pay it).
_FURNITURE_ENDINGS = (
    (160, re.compile(r"\ball rights reserved\.?$", re.IGNORECASE)),
    (250, re.compile(r"\bcontributed (?:reporting )?to this (?:report|story|article)\.?$", re.IGNORECASE)),
)
_SHORTCODE = re.compile(r"\[/[a-z_]+\]")  # WordPress shortcode residue: "[button …]Send us YOUR review[/button]"
# Where a space may be missing: a stop or a parenthesis right before a capital; `_GLUED` decides.
_GLUE_POINT = re.compile(r"[.!?)](?=[A-ZА-ЯЁ\uac00-\ud7af])")


def _furniture(line: str) -> bool:
    if _BOILERPLATE.match(line) or ("[/" in line and _SHORTCODE.search(line)):
        return True
    return any(len(line) <= longest + 40 and ending.search(line) for longest, ending in _FURNITURE_ENDINGS)


# Where two inline elements met without a space: a dateline "(CNN)" in its own element before "The …", or two
# paragraphs run together ("a chief physician.Police arrested …"; Cyrillic the same; Korean "흔하다.현재", which
# puts a space between sentences too). Two lowercase letters before the stop keep abbreviations and initials
# ("St.Louis", "U.S.Army") as they are.
_GLUED = re.compile(
    r"(?<=\w\))(?=[A-Z])|(?<=[a-z]{2}[.!?])(?=[A-Z][a-z])|(?<=[а-яё]{2}[.!?])(?=[А-ЯЁ][а-яё])"
    r"|(?<=[\uac00-\ud7af][.!?])(?=[\uac00-\ud7af])"
)


def clean_text(text: str, title: str | None = None) -> str:
    """Drop furniture lines and the headline repeated as a paragraph; put back the space lost between two inline
    elements (`_GLUED`).

    Repeated paragraphs are kept on purpose: dropping them measurably lowered recall on the benchmark data
    (articles legitimately repeat short lines), and the summarizer already skips near-duplicate sentences.
    """
    headline = " ".join(title.split()).casefold() if title else None
    out: list[str] = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if _GLUE_POINT.search(line):
            line = _GLUED.sub(" ", line)
        if not line or _furniture(line) or (headline and _restates(line.casefold(), headline)):
            continue
        out.append(line)
    return "\n".join(out)


def without_title(text: str, title: str) -> str:
    """`text` less its first line when that line is the title again (a feed description that opens with
    "<b>Title</b><br>"): the post shows the title already. Only the first line, so it costs nothing per item."""
    first, _, rest = text.lstrip().partition("\n")
    first = first.rstrip()
    if not first or not title or first[-1:] in _FINAL_STOPS or len(first) > 2 * len(title):  # cheap, and most items
        return text
    headline = " ".join(title.split()).casefold()
    return rest.lstrip() if headline and _restates(" ".join(first.split()).casefold(), headline) else text


_FINAL_STOPS = ".!?…\"'”’"  # how a sentence ends; a headline has none of them
_HEADLINE_WORDS = 0.7  # share of the words a line and the headline must have in common to be the same headline


def _restates(line: str, headline: str) -> bool:
    """Whether a line is the headline again, in the page's other wording ("High School Roundup: …" under the title
    "HS Roundup: …"): the post shows the title already, so a summary must not open by repeating it. Only a line
    without a sentence's final stop and not much longer than the headline counts, so a lede that restates the
    headline as a sentence stays."""
    if line == headline:
        return True
    if line[-1:] in _FINAL_STOPS or len(line) > 1.5 * len(headline):
        return False
    words, title = _WORDS.findall(line), _WORDS.findall(headline)
    if len(words) < 4:
        return False
    # Both ways: most of the line is headline, and most of the headline is in the line (a section heading such as
    # "Tour dates" shares words with the title but says a small part of it).
    shared = sum(w in set(title) for w in words)
    covered = sum(w in set(words) for w in title)
    return shared >= _HEADLINE_WORDS * len(words) and covered >= _HEADLINE_WORDS * len(title)


_WORDS = re.compile(r"\w+")
