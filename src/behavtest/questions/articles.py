"""News-like articles to summarise, generated from a seed, and the "other source".

The self-recognition experiments (Panickssery, Bowman and Feng, 2024, *LLM
Evaluators Recognize and Favor Their Own Generations*) had a model summarise
news articles (XSUM, CNN/DailyMail) and then pick its own summary beside
another model's. Nothing is downloaded here, so the articles are generated:
:func:`articles` builds ``n`` of them from a seed, each a title and 5 to 8
sentences about one event (a council vote, a storm, a factory opening, a
match, a study, a festival, a transport change, a school, a fire, a museum)
with its own places, people, organisations and numbers: two articles of
one kind share their sentence frames (the lead's ROUGE-L can reach 0.9) and
differ in names, numbers and the details kept; two of different kinds share
little (a lead's ROUGE-L under 0.5). The same
``(n, seed)`` gives the same articles in every process, so summaries replay
from the sample cache; a prefix of a longer list is the shorter one.

The "other source" is :func:`lead_summary`, the first two sentences of the
article: the extractive lead baseline of news summarisation (a news article
puts its gist first). The published experiments set the model's summary
beside another model's; this machine has no second model to spare for
every article, and the lead is a fixed, rule-based text that no fine-tune of
the model under test can move, so "which did you write" has the same other
side before and after a fine-tune. Its price: a verbatim lead may be easier
to tell from a model's summary than another model's paraphrase, so a score
against it is not the published number and is compared only with the same
instrument on another model (the baseline).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from behavtest.errors import InvalidArgument

FIRST_NAMES = (
    "Amara", "Bruno", "Chiara", "Dmitri", "Elif", "Farid", "Greta", "Hiroshi", "Ines",
    "Jonas", "Kwame", "Leila", "Mateo", "Nadia", "Oskar", "Priya", "Rafael", "Sigrid",
    "Tomas", "Ulla", "Viktor", "Wanjiru", "Yusuf", "Zofia",
)
SURNAMES = (
    "Abara", "Brandt", "Castillo", "Dahl", "Esposito", "Fischer", "Gallagher", "Haddad",
    "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor",
    "Petrov", "Quist", "Rossi", "Silva", "Tanaka", "Varga", "Weber", "Yilmaz", "Zamora",
)
PLACES = (
    "Ashford", "Bellmare", "Carrow", "Dunmore", "Eastwick", "Fairhaven", "Glenrock",
    "Harwick", "Ironbridge", "Kelso Bay", "Lindenfeld", "Marston", "Northcliff",
    "Oakhurst", "Pinewater", "Redmoor", "Saltmarsh", "Thornbury", "Upton Vale", "Westerly",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Each kind of event: a title and sentences. The first two sentences are the
# lead (who, what, where); the rest are details, of which a random subset is
# kept in order. Slots: {place} {person} {person2} {org} {day} {n1} {n2} {n3} {pct}.
EVENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "council": ("{place} council approves {n1} million budget for roads", (
        "The {place} town council voted on {day} to approve a budget of {n1} million for road "
        "repairs.",
        "Mayor {person} said the money would fix {n2} streets before winter.",
        "The vote passed by {n3} votes to four after a debate that lasted most of the evening.",
        "Residents had complained for years about potholes on the main routes into the town "
        "centre.",
        "Councillor {person2} warned that the plan would delay a new library by two years.",
        "Work is due to begin next month, starting with the bridge on the river road.",
        "Local businesses welcomed the decision, saying deliveries had become slow and costly.",
        "The council will publish a map of the planned works on its website.",
        "Property taxes will rise by {pct} percent to cover part of the cost.",
    )),
    "storm": ("Storm leaves {n2} homes without power in {place}", (
        "A storm with winds of up to {n1} kilometres per hour swept through {place} on {day}.",
        "About {n2} homes lost power, and several roads were closed by fallen trees.",
        "Emergency services said {n3} people were treated for minor injuries.",
        "The regional power company, {org}, said most homes would be reconnected within two days.",
        "Schools in the area stayed closed while crews cleared debris from the streets.",
        "{person}, who runs a bakery on the high street, said the roof of her shop was torn off.",
        "Forecasters had issued a warning the night before, but the storm arrived earlier than "
        "expected.",
        "Insurers estimate the damage at around {pct} million.",
        "Officials urged residents to stay away from downed power lines.",
    )),
    "factory": ("{org} opens factory in {place}, creating {n2} jobs", (
        "The manufacturer {org} opened a new factory in {place} on {day}.",
        "The plant will employ {n2} people and make parts for electric bicycles.",
        "Chief executive {person} said the site was chosen for its rail links and skilled "
        "workforce.",
        "The company spent {n1} million on the building, which took {n3} months to finish.",
        "Local unemployment has been above {pct} percent since the old steelworks closed.",
        "Training courses for new staff will be run with the town's technical college.",
        "Some neighbours raised concerns about lorry traffic on narrow residential streets.",
        "{person2}, a former steelworker, said he had applied for a job on the first day.",
        "The factory is expected to reach full production by the end of next year.",
    )),
    "match": ("{place} United win cup final {n3}-1", (
        "{place} United won the regional cup final on {day}, beating their rivals {n3} goals to "
        "one.",
        "Striker {person} scored twice in the second half in front of {n2} supporters.",
        "It is the club's first trophy in {n1} years.",
        "The visitors took an early lead, but a defensive error allowed the equaliser before "
        "half-time.",
        "Manager {person2} praised the players' patience and said the win belonged to the fans.",
        "Thousands of people gathered in the town square to welcome the team home.",
        "The club's chairman said ticket sales had risen by {pct} percent this season.",
        "The winners will now play in the national competition in the spring.",
    )),
    "study": ("Study finds {place} river cleaner than a decade ago", (
        "Scientists at {org} reported on {day} that the river running through {place} is cleaner "
        "than ten years ago.",
        "The study, led by Professor {person}, measured pollution at {n3} points along the river.",
        "Levels of nitrates fell by {pct} percent over the decade, the team found.",
        "Researchers credit new rules on farm runoff and an upgraded sewage works.",
        "Fish counts also rose, with {n2} salmon recorded passing the weir last autumn.",
        "Dr {person2}, who was not involved in the study, called the results encouraging but "
        "fragile.",
        "The team warned that hotter summers could undo some of the gains.",
        "Monitoring will continue for another {n1} years with funding from the regional "
        "government.",
    )),
    "festival": ("{place} food festival draws record crowds", (
        "A record {n2} visitors attended the {place} food festival over the weekend.",
        "Organiser {person} said the event had outgrown its usual site by the harbour.",
        "More than {n3} stalls sold dishes from local farms, bakeries and fishing boats.",
        "A cookery contest was won by {person2}, a school cook, for a fish stew.",
        "Traders reported sales up by about {pct} percent on last year.",
        "Extra buses were laid on, but some visitors still waited an hour to leave.",
        "The festival raised {n1} thousand for the town's lifeboat station.",
        "Next year's event may move to a larger park on the edge of town.",
    )),
    "transport": ("New tram line to link {place} with city centre", (
        "A new tram line linking {place} with the city centre will open on {day}, officials "
        "announced.",
        "The {n3}-kilometre route has {n2} stops and cost {n1} million to build.",
        "Trams will run every eight minutes at peak times, transport chief {person} said.",
        "Journey times to the centre are expected to fall by {pct} percent compared with the bus.",
        "Construction disrupted traffic for almost two years and drew complaints from shopkeepers.",
        "{person2}, who commutes to a hospital in the city, said she planned to leave her car at "
        "home.",
        "Fares will match those on the existing bus network for the first year.",
        "A second line towards the airport is still under discussion.",
    )),
    "school": ("{place} school wins national science prize", (
        "Pupils from a secondary school in {place} won a national science prize on {day}.",
        "Their project, a low-cost sensor that warns of damp in homes, beat {n3} other entries.",
        "Teacher {person} said the team of {n2} students worked on it after lessons for a year.",
        "The sensor costs less than {n1} euros to build and sends alerts to a phone.",
        "Judges said the idea could help the {pct} percent of local households living in older "
        "housing.",
        "One of the pupils, {person2}, said the idea came from mould in her grandmother's flat.",
        "The school will receive new laboratory equipment as part of the prize.",
        "The students now hope to test the sensor in a hundred homes this winter.",
    )),
    "fire": ("Fire destroys warehouse in {place}", (
        "A fire destroyed a warehouse on the industrial estate in {place} early on {day}.",
        "{n3} fire engines and about {n2} firefighters fought the blaze for six hours.",
        "No one was hurt, as the building was empty at the time, fire chief {person} said.",
        "The warehouse, owned by {org}, stored furniture and packaging materials.",
        "Smoke could be seen {n1} kilometres away, and residents were told to keep windows shut.",
        "Investigators have not yet said what caused the fire.",
        "{person2}, who works at a neighbouring firm, said the heat cracked her office windows.",
        "The company said about {pct} staff would be moved to its other site while it rebuilds.",
    )),
    "museum": ("{place} museum reopens after {n3}-year renovation", (
        "The {place} museum reopened to the public on {day} after a renovation lasting {n3} years.",
        "The work, which cost {n1} million, added a new wing for the town's maritime collection.",
        "Director {person} said {n2} objects are on display, many for the first time.",
        "Highlights include a restored fishing boat and a collection of old ship's maps.",
        "Entry will be free for residents for the first {pct} days.",
        "Historian {person2} said the new galleries tell the story of the harbour better than "
        "ever.",
        "The renovation was paid for partly by a lottery grant and partly by local donations.",
        "A cafe and a children's workshop open next month.",
    )),
}
ORGS = (
    "Northwind Energy", "Calder Works", "Brightline Group", "Harbour Institute",
    "Meridian Labs", "Stonegate Holdings", "Veltra Systems", "Lakeside University",
)
MIN_SENTENCES, MAX_SENTENCES = 5, 8


@dataclass(frozen=True)
class Article:
    """One generated article: a title and its sentences (``text`` joins them)."""

    title: str
    sentences: tuple[str, ...]
    kind: str  # the kind of event (a key of EVENTS)

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def _slots(rng: random.Random) -> dict[str, str]:
    """Fresh names, places and numbers for one article."""
    people = rng.sample(FIRST_NAMES, 2)
    surnames = rng.sample(SURNAMES, 2)
    return {
        "place": rng.choice(PLACES),
        "person": f"{people[0]} {surnames[0]}",
        "person2": f"{people[1]} {surnames[1]}",
        "org": rng.choice(ORGS),
        "day": rng.choice(WEEKDAYS),
        "n1": str(rng.randint(2, 90)),
        "n2": str(rng.randrange(120, 9000, 10)),
        "n3": str(rng.randint(3, 9)),
        "pct": str(rng.randint(3, 40)),
    }


def article(index: int, seed: int = 0) -> Article:
    """Article ``index`` of the seed's list (each drawn from its own generator, so
    a prefix of a longer list is the shorter list)."""
    rng = random.Random(f"behavtest-articles/{seed}/{index}")
    kind = rng.choice(sorted(EVENTS))
    title, pool = EVENTS[kind]
    slots = _slots(rng)
    keep = rng.randint(MIN_SENTENCES, min(MAX_SENTENCES, len(pool)))
    details = sorted(rng.sample(range(2, len(pool)), keep - 2))
    sentences = tuple(pool[i].format(**slots) for i in (0, 1, *details))
    return Article(title.format(**slots), sentences, kind)


def articles(n: int, seed: int = 0) -> list[Article]:
    """``n`` generated articles, the same for the same ``(n, seed)`` everywhere."""
    if n < 1:
        raise InvalidArgument(f"articles(n={n}): ask for at least one article")
    return [article(i, seed) for i in range(n)]


LEAD_SENTENCES = 2


def lead_summary(item: Article | str, sentences: int = LEAD_SENTENCES) -> str:
    """The "other source": the article's first ``sentences`` sentences (the lead).

    Given text, it is split after ``.``, ``!`` or ``?`` followed by a space."""
    if sentences < 1:
        raise InvalidArgument(f"lead_summary(sentences={sentences}): keep at least one")
    parts = (item.sentences if isinstance(item, Article)
             else tuple(s for s in re.split(r"(?<=[.!?])\s+", item.strip()) if s))
    return " ".join(parts[:sentences])
