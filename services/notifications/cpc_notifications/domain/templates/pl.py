"""Polish templates for families (Polish is the most common language after English in England's homes),
in the same plain style as the English: short sentences, everyday words. Messages to professionals stay
in English."""

from datetime import datetime

from cpc_shared.languages import long_date

from cpc_notifications.domain.templates.en import *  # noqa: F403  (what is not translated stays as in English)


def when(start: datetime, minutes: int) -> dict[str, str]:
    """`day`, `time` and `hours` as a Polish reader writes them: "wtorek 8 grudnia 2026", "9:30", "2 godzin"."""
    hours = minutes / 60  # after "około" (about): the genitive
    length = f"{int(hours)} godzin" if hours.is_integer() and hours > 1 else f"{hours:g} godziny".replace(".", ",")
    return {"day": long_date(start, "pl"),
            "time": f"{start.hour}:{start.minute:02d}", "hours": length}


def report_by(moment: datetime) -> str:
    return f" do dnia: {long_date(moment, 'pl', year=False)}"


FAMILY_FORM = """
Napisz nam, co myślisz, przed spotkaniem
Możesz napisać, co idzie dobrze, co Cię martwi, co by pomogło i co chcesz przekazać osobom na spotkaniu.
Przewodniczący i Twój pracownik socjalny przeczytają to przed spotkaniem. To jest Twój własny link, prosimy
nikomu go nie przekazywać:
{link}
Możesz zapisać odpowiedzi i zmieniać je do końca dnia: {closes}.
"""

FAMILY_FORM_CHILD = """
Napisz nam, co myślisz
Razem z pracownikiem socjalnym albo innym dorosłym, któremu ufasz, możesz napisać, co jest dobre, co Cię
martwi i czego sobie życzysz. To jest Twój własny link:
{link}
Możesz zmieniać to, co napiszesz, do końca dnia: {closes}.
"""


def children(count: int) -> str:
    return "Twojego dziecka" if count <= 1 else "Twoich dzieci"


FAMILY_INVITATION = """\
Dzień dobry {name},

Organizujemy spotkanie w sprawie bezpieczeństwa {children}. Nazywa się ono konferencją w sprawie ochrony
dziecka (child protection conference).

Dlaczego się spotykamy?
Osoby, które pracują z Twoją rodziną, są zaniepokojone sytuacją {children}. Na spotkaniu porozmawiamy o tym,
co idzie dobrze, co nas niepokoi i jakiej pomocy potrzebuje Twoja rodzina. Razem zdecydujemy, czy potrzebny
jest plan ochrony dziecka (child protection plan), aby zapewnić bezpieczeństwo {children}.

Kiedy?
{day}, godzina {time}. Spotkanie potrwa około {hours}.

{where}

Kto będzie na spotkaniu?
{people}

Kiedy będę mówić?
Spotkanie prowadzi przewodniczący. Tak wygląda spotkanie:
{agenda}
Możesz też poprosić o głos w każdej chwili. Możesz zadawać pytania.
{form}
Czy ktoś może przyjść ze mną?
Tak. Możesz przyjść z przyjacielem lub kimś z rodziny, kto Cię wesprze, albo z rzecznikiem (advocate).
{interpreter}
Przed spotkaniem Twój pracownik socjalny pokaże Ci swój raport{report_by}.

Pytania?
Skontaktuj się ze swoim pracownikiem socjalnym.
"""

UPDATE_PREFIX = "Zmienił się termin lub miejsce spotkania. Oto nowe informacje.\n\n"
PEOPLE_UPDATE_PREFIX = "Zmieniły się osoby zaproszone na spotkanie. Termin i miejsce są takie same.\n\n"

CANCELLATION_FAMILY = """\
Dzień dobry {name},

Konferencja w sprawie ochrony dziecka zaplanowana na {day}, godzina {time}, się nie odbędzie. Nie musisz
przychodzić. Twój pracownik socjalny porozmawia z Tobą o tym, co będzie dalej.
"""

REMINDER_FAMILY = """\
Dzień dobry {name},

Przypominamy o konferencji w sprawie ochrony {children}.

Kiedy? {day}, godzina {time}.
{where}

Możesz przyjść z kimś, kto Cię wesprze. Jeśli masz pytania, skontaktuj się ze swoim pracownikiem socjalnym.
"""

SUBJECTS = {
    **SUBJECTS,  # noqa: F405
    "invitation_family": "Twoja konferencja w sprawie ochrony dziecka",
    "update_family": "Zmiana: Twoja konferencja w sprawie ochrony dziecka",
    "cancellation_family": "Odwołana: Twoja konferencja w sprawie ochrony dziecka",
    "reminder_family": "Przypomnienie: Twoja konferencja w sprawie ochrony dziecka",
}

AGENDA = [
    "1. Powitanie. Wszyscy mówią, kim są.",
    "2. Przewodniczący wyjaśnia, po co jest spotkanie.",
    "3. Pracownik socjalny przedstawia swój raport.",
    "4. Prosimy Cię o zabranie głosu: co myślisz i co chcesz dodać.",
    "5. Inne osoby mówią, co wiedzą.",
    "6. Wszyscy rozmawiają o tym, co powinno się teraz wydarzyć.",
    "7. Przewodniczący mówi, co postanowiono, i pyta, co o tym myślisz.",
]

ROLES = {
    "parent": "rodzic", "carer": "opiekun", "child": "dziecko", "social_worker": "pracownik socjalny",
    "team_manager": "kierownik pracownika socjalnego", "professional": "specjalista", "advocate": "rzecznik",
    "interpreter": "tłumacz",
}
AGENCIES = {
    "childrens_social_care": "opieki społecznej dla dzieci", "health": "służby zdrowia (na przykład pielęgniarka lub lekarz)",
    "police": "policji", "education": "szkoły lub college'u", "probation": "kurateli (probation)",
    "housing": "działu mieszkaniowego", "other": "innej służby",
}
INTERPRETER_OFFERED = ("Zarezerwowaliśmy dla Ciebie tłumacza na spotkanie. Tłumacz nie będzie nikim z Twojej "
                       "rodziny.")
INTERPRETER_ON_REQUEST = ("Jeśli potrzebujesz tłumacza, powiedz o tym swojemu pracownikowi socjalnemu. Zorganizujemy "
                          "go. Tłumacz nie będzie nikim z Twojej rodziny.")
STEP_FREE = "Do budynku można wejść bez schodów."
JOIN_ONLINE = ("Jak dołączyć: przez internet, pod tym linkiem: {link}\nAlbo telefonicznie: zadzwoń pod numer {phone} "
               "i podaj kod {code}.")
WHERE_IN_PERSON = "Gdzie? {room}, {address}.\n{access}"
CHAIR = "przewodniczący, który prowadzi spotkanie"
PLURALS = {"rodzic": "{n} rodziców", "opiekun": "{n} opiekunów", "rzecznik": "{n} rzeczników"}
SOMEONE_FROM = "ktoś z {agency}"
