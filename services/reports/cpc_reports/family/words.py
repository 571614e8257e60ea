"""What the family's form says, in each language we have (English, and Polish as the invitations have it);
any other language gets English. Plain words, short sentences, for a reading age of about nine; a child's
version simpler still. To add a language: a dict like ENGLISH with every key, under its ISO 639-1 code."""

from __future__ import annotations

from typing import Final

ENGLISH: Final = {
    "title": "Your views before the meeting",
    "title_child": "What you think, before the meeting",
    "skip": "Skip to the questions",
    "languages": "Language",
    "lead": "The child protection conference is on {day}. Before it, you can tell us what you think.",
    "lead_child": "There will be a meeting about you on {day}. The people at the meeting want to know what you "
                  "think. You can fill this in with your social worker or another adult you trust.",
    "how": "You do not have to answer every question. Write as much or as little as you like.",
    "until": "You can save your answers and come back to this page with the same link to change them, until the "
             "end of {closes}.",
    "who_reads": "Who will read this?",
    "who_reads_body": "The chair, who runs the meeting, and your social worker. They may share it with the other "
                      "people at the meeting. We keep what you write safe.",
    "limit": "You can write up to {limit} characters.",
    "save": "Save my answers",
    "saved": "Your answers are saved",
    "saved_body": "Saved on {when}. You can change them with the same link until the end of {closes}.",
    "help": "If you need help, contact your social worker.",
    "error_title": "There is a problem",
    "too_long": "Your answer to “{question}” is too long. Please make it shorter: up to {limit} characters.",
    "sorry": "Sorry, this did not work",
    "bad_link": "This link does not work. Please use the link in your most recent message from us, or contact "
                "your social worker.",
    "expired": "This link has expired. Please use the link in your most recent message from us, or contact your "
               "social worker.",
    "closed": "The form for this meeting is closed. It closes at the end of the day before the meeting. You can "
              "still say what you think at the meeting, or tell your social worker.",
    "cancelled": "This meeting has been cancelled, so the form is closed. Your social worker will talk to you "
                 "about what happens next.",
    "not_invited": "This link is no longer for this meeting. Please contact your social worker.",
    "unknown_conference": "We cannot find this meeting yet. Please try again in a few minutes.",
    "changed_meanwhile": "Your answers were being saved from another page at the same time. Please open the link "
                         "again, check your answers and save them.",
    "too_big": "What you sent is too big. Please make your answers shorter and try again.",
    "too_many": "You have tried too many times in a short time. Please wait {minutes} minutes and try again.",
    "not_found": "There is no page here. Please use the link in your message from us.",
    "broken": "Something went wrong on our side. Your answers may not be saved. Please try again later.",
    "back": "Go back to the form",
}
ENGLISH_QUESTIONS: Final = {
    "going_well": ("What is going well for your family?",
                   "For example, what you do to keep your children safe and happy, or help that is working."),
    "worries": ("What worries you?", "About your children, your family, or the meeting."),
    "would_help": ("What would help your family?", "Support or changes that would make a difference."),
    "meeting_should_know": ("What do you want the meeting to know?",
                            "Anything else you want the people at the meeting to hear from you."),
    "good_things": ("What is good in your life?", "People, places and things that make you happy or feel safe."),
    "wishes": ("What do you wish would happen?", "What would make things better for you."),
}
CHILD_WORRIES: Final = {"en": ("What worries you?", "Anything that makes you sad, scared or cross."),
                        "pl": ("Co Cię martwi?", "Wszystko, co sprawia, że jest Ci smutno, boisz się albo złościsz.")}

POLISH: Final = {
    "title": "Twoje zdanie przed spotkaniem",
    "title_child": "Co myślisz, przed spotkaniem",
    "skip": "Przejdź do pytań",
    "languages": "Język",
    "lead": "Konferencja w sprawie ochrony dziecka odbędzie się: {day}. Przed nią możesz nam napisać, co myślisz.",
    "lead_child": "Będzie spotkanie w Twojej sprawie: {day}. Osoby na spotkaniu chcą wiedzieć, co myślisz. Możesz "
                  "to wypełnić razem z pracownikiem socjalnym albo innym dorosłym, któremu ufasz.",
    "how": "Nie musisz odpowiadać na każde pytanie. Napisz tyle, ile chcesz.",
    "until": "Możesz zapisać odpowiedzi i wrócić na tę stronę przez ten sam link, aby je zmienić, do końca dnia: "
             "{closes}.",
    "who_reads": "Kto to przeczyta?",
    "who_reads_body": "Przewodniczący, który prowadzi spotkanie, i Twój pracownik socjalny. Mogą to pokazać innym "
                      "osobom na spotkaniu. Dbamy o to, aby to, co piszesz, było bezpieczne.",
    "limit": "Możesz napisać do {limit} znaków.",
    "save": "Zapisz moje odpowiedzi",
    "saved": "Twoje odpowiedzi są zapisane",
    "saved_body": "Zapisano: {when}. Możesz je zmienić przez ten sam link do końca dnia: {closes}.",
    "help": "Jeśli potrzebujesz pomocy, skontaktuj się ze swoim pracownikiem socjalnym.",
    "error_title": "Jest problem",
    "too_long": "Twoja odpowiedź na pytanie „{question}” jest za długa. Skróć ją, do {limit} znaków.",
    "sorry": "Przepraszamy, to się nie udało",
    "bad_link": "Ten link nie działa. Użyj linku z naszej najnowszej wiadomości albo skontaktuj się ze swoim "
                "pracownikiem socjalnym.",
    "expired": "Ten link wygasł. Użyj linku z naszej najnowszej wiadomości albo skontaktuj się ze swoim "
               "pracownikiem socjalnym.",
    "closed": "Formularz dla tego spotkania jest zamknięty. Zamyka się na koniec dnia przed spotkaniem. Nadal "
              "możesz powiedzieć, co myślisz, na spotkaniu albo swojemu pracownikowi socjalnemu.",
    "cancelled": "To spotkanie zostało odwołane, więc formularz jest zamknięty. Twój pracownik socjalny porozmawia "
                 "z Tobą o tym, co dalej.",
    "not_invited": "Ten link nie dotyczy już tego spotkania. Skontaktuj się ze swoim pracownikiem socjalnym.",
    "unknown_conference": "Nie możemy jeszcze znaleźć tego spotkania. Spróbuj ponownie za kilka minut.",
    "changed_meanwhile": "Twoje odpowiedzi były w tym samym czasie zapisywane z innej strony. Otwórz link ponownie, "
                         "sprawdź odpowiedzi i zapisz je.",
    "too_big": "To, co wysłano, jest za duże. Skróć odpowiedzi i spróbuj ponownie.",
    "too_many": "Za dużo prób w krótkim czasie. Poczekaj {minutes} min i spróbuj ponownie.",
    "not_found": "Tu nie ma strony. Użyj linku z naszej wiadomości.",
    "broken": "Coś poszło nie tak po naszej stronie. Odpowiedzi mogą nie być zapisane. Spróbuj ponownie później.",
    "back": "Wróć do formularza",
}
POLISH_QUESTIONS: Final = {
    "going_well": ("Co dobrze się dzieje w Twojej rodzinie?",
                   "Na przykład co robisz, aby Twoje dzieci były bezpieczne i szczęśliwe, albo jaka pomoc działa."),
    "worries": ("Co Cię martwi?", "W sprawie Twoich dzieci, Twojej rodziny albo spotkania."),
    "would_help": ("Co pomogłoby Twojej rodzinie?", "Wsparcie albo zmiany, które coś by zmieniły."),
    "meeting_should_know": ("Co chcesz przekazać osobom na spotkaniu?",
                            "Wszystko inne, co chcesz, aby osoby na spotkaniu od Ciebie usłyszały."),
    "good_things": ("Co jest dobre w Twoim życiu?",
                    "Ludzie, miejsca i rzeczy, przy których jest Ci dobrze albo czujesz się bezpiecznie."),
    "wishes": ("Czego sobie życzysz?", "Co sprawiłoby, że byłoby Ci lepiej."),
}

LANGUAGES: Final = {"en": ("English", ENGLISH, ENGLISH_QUESTIONS), "pl": ("Polski", POLISH, POLISH_QUESTIONS)}


def language_of(requested: str | None) -> str:
    """The language we write the form in: the one asked for if we have it, else English."""
    code = (requested or "en").split("-")[0].lower()
    return code if code in LANGUAGES else "en"


def words(language: str) -> dict[str, str]:
    return LANGUAGES[language_of(language)][1]


def question(language: str, key: str, role: str) -> tuple[str, str]:
    """A question's label and hint for this person (a child's worries are asked more simply)."""
    code = language_of(language)
    return CHILD_WORRIES[code] if key == "worries" and role == "child" else LANGUAGES[code][2][key]
