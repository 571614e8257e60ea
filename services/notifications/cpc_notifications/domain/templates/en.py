"""English templates, written for a reading age of about nine: short sentences, everyday words."""

FAMILY_INVITATION = """\
Hello {name},

We are holding a meeting about keeping {children} safe. It is called a child protection conference.

Why are we meeting?
People who work with your family are worried about {children}. At the meeting we will talk about
what is going well, what worries us, and what help your family needs. Together we will decide if a
child protection plan is needed to keep {children} safe.

When?
{day} at {time}. It will last about {hours}.

{where}

Who will be there?
{people}

When will I speak?
The chair runs the meeting. This is the order of the meeting:
{agenda}
You can also ask to speak at any time. You can ask questions.
{form}
Can someone come with me?
Yes. You can bring a friend or family member to support you, or an advocate.
{interpreter}
Before the meeting, your social worker will share their report with you{report_by}.

Questions?
Please contact your social worker.
"""

PROFESSIONAL_INVITATION = """\
You are invited to a child protection conference.

Reference: {conference_id} ({kind} conference)
When: {day} at {time} (about {hours})
{where}
Statutory deadline: {deadline}

Who is invited:
{people}

Please send your agency's report through the reports service when the request reaches you.
"""

FAMILY_FORM = """
Tell us what you think before the meeting
You can write down what is going well, what worries you, what would help, and what you want the meeting
to know. The chair and your social worker will read it before the meeting. This is your own link, so please
do not share it:
{link}
You can save your answers and change them until the end of {closes}.
"""

FAMILY_FORM_CHILD = """
Tell us what you think
With your social worker or another adult you trust, you can tell the meeting what is good, what worries you
and what you wish would happen. This is your own link:
{link}
You can change what you write until the end of {closes}.
"""

FAMILY_VIEWS_RECEIVED = """\
A family member ({writer}) has written their views on their form before child protection conference
{conference_id} ({day} at {time}). The chair will read them before the agencies' reports. They can change them
until the end of the day before the conference. Please talk with them about it when you next meet.
"""

UPDATE_PREFIX = "The time or place of the meeting has changed. Here are the new details.\n\n"
PEOPLE_UPDATE_PREFIX = "The people invited to the meeting have changed. The time and place are the same.\n\n"

CANCELLATION_FAMILY = """\
Hello {name},

The child protection conference on {day} at {time} will not take place. You do not need to come.
Your social worker will talk to you about what happens next.
"""

CANCELLATION_PROFESSIONAL = """\
The child protection conference {conference_id} on {day} at {time} is cancelled. Please remove it from your diary.
"""

NO_LONGER_INVITED_PROFESSIONAL = """\
You are no longer invited to the child protection conference {conference_id} on {day} at {time}. The conference
goes ahead without you. Please remove it from your diary.
"""

REMINDER_FAMILY = """\
Hello {name},

This is a reminder about the child protection conference about {children}.

When? {day} at {time}.
{where}

You can bring someone to support you. If you have questions, please contact your social worker.
"""

REMINDER_PROFESSIONAL = """\
Reminder: child protection conference {conference_id} on {day} at {time}.
{where}
"""

REPORT_REQUEST = """\
Please send your agency's report for child protection conference {conference_id}.

The conference is on {day} at {time}.
Your report is due by {due}.{short_notice}
Send it through the reports service (reference {report_id}).
"""

SHORT_NOTICE = ("\nThis is less time than usual. The law says this conference must be held by {deadline}, so it "
                "cannot wait for the usual time to write reports. Please send what you can by then.")

REPORT_CHASER = """\
We have not yet received your agency's report for child protection conference {conference_id}.
It was due by {due}. The conference is on {day} at {time}.
Please send it through the reports service today (reference {report_id}).
"""

STAFF_ALERT = """\
{what}

Conference: {conference_id}
Case: {case_id}
{detail}
"""

SUBJECTS = {
    "invitation_family": "Your child protection conference",
    "invitation_professional": "Child protection conference {conference_id}",
    "update_family": "Your child protection conference has changed",
    "update_professional": "Changed: child protection conference {conference_id}",
    "cancellation_family": "Your child protection conference is cancelled",
    "cancellation_professional": "Cancelled: child protection conference {conference_id}",
    "no_longer_invited_professional": "No longer invited: child protection conference {conference_id}",
    "reminder_family": "Reminder: your child protection conference",
    "reminder_professional": "Reminder: child protection conference {conference_id}",
    "report_request": "Report needed: child protection conference {conference_id}",
    "report_chaser": "Report overdue: child protection conference {conference_id}",
    "alert": "Action needed: conference {conference_id}",
    "family_views": "Family's views received: child protection conference {conference_id}",
}

AGENDA = [
    "1. Welcome. Everyone says who they are.",
    "2. The chair explains what the meeting is for.",
    "3. The social worker shares their report.",
    "4. You are asked to speak: what you think, and anything you want to add.",
    "5. Other people share what they know.",
    "6. Everyone talks about what should happen next.",
    "7. The chair says what has been decided, and you are asked what you think.",
]

ROLES = {
    "parent": "a parent", "carer": "a carer", "child": "the child", "social_worker": "the social worker",
    "team_manager": "the social worker's manager", "professional": "a professional", "advocate": "an advocate",
    "interpreter": "an interpreter",
}
AGENCIES = {
    "childrens_social_care": "children's social care", "health": "health (for example a nurse or doctor)",
    "police": "the police", "education": "school or college", "probation": "probation", "housing": "housing",
    "other": "another service",
}
INTERPRETER_OFFERED = ("We have booked an interpreter for you at the meeting. The interpreter will not be "
                       "someone from your family.")
INTERPRETER_ON_REQUEST = ("If you would like an interpreter, tell your social worker. We will arrange one. "
                          "It will not be someone from your family.")
STEP_FREE = "The building has step-free access."
JOIN_ONLINE = "How to join: online, with this link: {link}\nOr by phone: call {phone} and give the code {code}."
WHERE_IN_PERSON = "Where? {room}, {address}.\n{access}"
CHAIR = "the chair, who runs the meeting"
PLURALS = {"a parent": "{n} parents", "a carer": "{n} carers", "an advocate": "{n} advocates"}
SOMEONE_FROM = "someone from {agency}"
