# SPDX-License-Identifier: GPL-3.0-or-later
"""Deterministic generator of the demo model's training corpus.

Everything here is written for this project (no third-party text), so the corpus and the model
trained on it are GPL-3.0-or-later like the rest of Batchscope. The corpus is plain ASCII
English: simple sentences, short templated stories, and facts (capitals, continents, colours,
numbers, days, months). Each document is one string; the trainer wraps it in <s> ... </s>.
"""
import random

# (country as used mid-sentence, capital, continent). "the ..." names are capitalised at the
# start of a sentence by cap().
COUNTRIES = [
    ("France", "Paris", "Europe"), ("Germany", "Berlin", "Europe"), ("Italy", "Rome", "Europe"),
    ("Spain", "Madrid", "Europe"), ("Portugal", "Lisbon", "Europe"),
    ("the United Kingdom", "London", "Europe"), ("Ireland", "Dublin", "Europe"),
    ("Belgium", "Brussels", "Europe"), ("the Netherlands", "Amsterdam", "Europe"),
    ("Switzerland", "Bern", "Europe"), ("Austria", "Vienna", "Europe"),
    ("Poland", "Warsaw", "Europe"), ("the Czech Republic", "Prague", "Europe"),
    ("Slovakia", "Bratislava", "Europe"), ("Hungary", "Budapest", "Europe"),
    ("Romania", "Bucharest", "Europe"), ("Bulgaria", "Sofia", "Europe"),
    ("Greece", "Athens", "Europe"), ("Denmark", "Copenhagen", "Europe"),
    ("Norway", "Oslo", "Europe"), ("Sweden", "Stockholm", "Europe"),
    ("Finland", "Helsinki", "Europe"), ("Iceland", "Reykjavik", "Europe"),
    ("Estonia", "Tallinn", "Europe"), ("Latvia", "Riga", "Europe"),
    ("Lithuania", "Vilnius", "Europe"), ("Ukraine", "Kyiv", "Europe"),
    ("Belarus", "Minsk", "Europe"), ("Russia", "Moscow", "Europe"),
    ("Serbia", "Belgrade", "Europe"), ("Croatia", "Zagreb", "Europe"),
    ("Slovenia", "Ljubljana", "Europe"), ("Bosnia and Herzegovina", "Sarajevo", "Europe"),
    ("Albania", "Tirana", "Europe"), ("North Macedonia", "Skopje", "Europe"),
    ("Montenegro", "Podgorica", "Europe"), ("Moldova", "Chisinau", "Europe"),
    ("Malta", "Valletta", "Europe"), ("Cyprus", "Nicosia", "Europe"),
    ("Turkey", "Ankara", "Asia"), ("Georgia", "Tbilisi", "Asia"),
    ("Armenia", "Yerevan", "Asia"), ("Azerbaijan", "Baku", "Asia"),
    ("Kazakhstan", "Astana", "Asia"), ("Uzbekistan", "Tashkent", "Asia"),
    ("Turkmenistan", "Ashgabat", "Asia"), ("Kyrgyzstan", "Bishkek", "Asia"),
    ("Tajikistan", "Dushanbe", "Asia"), ("Afghanistan", "Kabul", "Asia"),
    ("Pakistan", "Islamabad", "Asia"), ("India", "New Delhi", "Asia"),
    ("Nepal", "Kathmandu", "Asia"), ("Bhutan", "Thimphu", "Asia"),
    ("Bangladesh", "Dhaka", "Asia"), ("China", "Beijing", "Asia"),
    ("Mongolia", "Ulaanbaatar", "Asia"), ("Japan", "Tokyo", "Asia"),
    ("South Korea", "Seoul", "Asia"), ("North Korea", "Pyongyang", "Asia"),
    ("Vietnam", "Hanoi", "Asia"), ("Laos", "Vientiane", "Asia"),
    ("Cambodia", "Phnom Penh", "Asia"), ("Thailand", "Bangkok", "Asia"),
    ("Myanmar", "Naypyidaw", "Asia"), ("Malaysia", "Kuala Lumpur", "Asia"),
    ("Indonesia", "Jakarta", "Asia"), ("the Philippines", "Manila", "Asia"),
    ("Iran", "Tehran", "Asia"), ("Iraq", "Baghdad", "Asia"), ("Syria", "Damascus", "Asia"),
    ("Lebanon", "Beirut", "Asia"), ("Jordan", "Amman", "Asia"),
    ("Saudi Arabia", "Riyadh", "Asia"), ("Yemen", "Sanaa", "Asia"), ("Oman", "Muscat", "Asia"),
    ("the United Arab Emirates", "Abu Dhabi", "Asia"), ("Qatar", "Doha", "Asia"),
    ("Kuwait", "Kuwait City", "Asia"), ("Bahrain", "Manama", "Asia"),
    ("Egypt", "Cairo", "Africa"), ("Libya", "Tripoli", "Africa"),
    ("Tunisia", "Tunis", "Africa"), ("Algeria", "Algiers", "Africa"),
    ("Morocco", "Rabat", "Africa"), ("Sudan", "Khartoum", "Africa"),
    ("Ethiopia", "Addis Ababa", "Africa"), ("Kenya", "Nairobi", "Africa"),
    ("Uganda", "Kampala", "Africa"), ("Tanzania", "Dodoma", "Africa"),
    ("Rwanda", "Kigali", "Africa"), ("Somalia", "Mogadishu", "Africa"),
    ("Nigeria", "Abuja", "Africa"), ("Ghana", "Accra", "Africa"),
    ("Senegal", "Dakar", "Africa"), ("Mali", "Bamako", "Africa"),
    ("Niger", "Niamey", "Africa"), ("Chad", "N'Djamena", "Africa"),
    ("Cameroon", "Yaounde", "Africa"), ("Gabon", "Libreville", "Africa"),
    ("Angola", "Luanda", "Africa"), ("Zambia", "Lusaka", "Africa"),
    ("Zimbabwe", "Harare", "Africa"), ("Mozambique", "Maputo", "Africa"),
    ("Botswana", "Gaborone", "Africa"), ("Namibia", "Windhoek", "Africa"),
    ("South Africa", "Pretoria", "Africa"), ("Madagascar", "Antananarivo", "Africa"),
    ("Malawi", "Lilongwe", "Africa"), ("Liberia", "Monrovia", "Africa"),
    ("Sierra Leone", "Freetown", "Africa"), ("Guinea", "Conakry", "Africa"),
    ("Burkina Faso", "Ouagadougou", "Africa"), ("Togo", "Lome", "Africa"),
    ("Eritrea", "Asmara", "Africa"),
    ("the United States", "Washington", "North America"), ("Canada", "Ottawa", "North America"),
    ("Mexico", "Mexico City", "North America"), ("Honduras", "Tegucigalpa", "North America"),
    ("Nicaragua", "Managua", "North America"), ("Costa Rica", "San Jose", "North America"),
    ("Panama", "Panama City", "North America"), ("Cuba", "Havana", "North America"),
    ("Jamaica", "Kingston", "North America"), ("Haiti", "Port-au-Prince", "North America"),
    ("the Dominican Republic", "Santo Domingo", "North America"),
    ("Colombia", "Bogota", "South America"), ("Venezuela", "Caracas", "South America"),
    ("Ecuador", "Quito", "South America"), ("Peru", "Lima", "South America"),
    ("Chile", "Santiago", "South America"), ("Argentina", "Buenos Aires", "South America"),
    ("Uruguay", "Montevideo", "South America"), ("Paraguay", "Asuncion", "South America"),
    ("Brazil", "Brasilia", "South America"), ("Guyana", "Georgetown", "South America"),
    ("Suriname", "Paramaribo", "South America"),
    ("Australia", "Canberra", "Oceania"), ("New Zealand", "Wellington", "Oceania"),
    ("Fiji", "Suva", "Oceania"), ("Papua New Guinea", "Port Moresby", "Oceania"),
    ("Samoa", "Apia", "Oceania"), ("Tonga", "Nuku'alofa", "Oceania"),
]

CAPITAL_TEMPLATES = [  # weight, template
    (6, "The capital of {c} is {k}."),
    (2, "{k} is the capital of {c}."),
    (2, "{C}'s capital city is {k}."),
    (2, "The capital city of {c} is {k}."),
    (1, "{k} is the capital city of {c}."),
    (1, "{C} has its capital in {k}."),
    (1, "Question: What is the capital of {c}? Answer: {k}."),
    (1, "The government of {c} sits in {k}, the capital."),
    (1, "{k} is a city in {c}. It is the capital of {c}."),
    (1, "{C} is a country in {o}. The capital of {c} is {k}."),
]
OTHER_COUNTRY_TEMPLATES = [
    "{C} is a country in {o}.", "{k} is a city in {o}.", "{C} is in {o}.",
    "People in {k} live in {c}.", "{k} is a big city.",
]

COLOURS = [("The sky", "is", "blue"), ("Grass", "is", "green"), ("Snow", "is", "white"),
           ("Bananas", "are", "yellow"), ("Strawberries", "are", "red"), ("Coal", "is", "black"),
           ("Oranges", "are", "orange"), ("The sun", "is", "yellow"), ("Milk", "is", "white"),
           ("Leaves", "are", "green"), ("The sea", "is", "blue"), ("Tomatoes", "are", "red"),
           ("Chocolate", "is", "brown"), ("Violets", "are", "purple"), ("Clouds", "are", "white")]
NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
           "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
           "eighteen", "nineteen", "twenty"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
CONTINENTS = ["Africa", "Antarctica", "Asia", "Australia", "Europe", "North America",
              "South America"]

NAMES = ["Tom", "Anna", "Lily", "Ben", "Mia", "Sam", "Lucy", "Max", "Emma", "Jack", "Sara",
         "Leo", "Nora", "Tim", "Ella", "Finn", "Rosa", "Omar", "Ada", "Hugo"]
ANIMALS = ["cat", "dog", "bird", "fox", "rabbit", "bear", "duck", "mouse", "frog", "horse"]
PLACES = ["park", "forest", "garden", "village", "house by the river", "small town", "farm",
          "big city", "school", "beach"]
THINGS = ["ball", "kite", "book", "apple", "box", "hat", "boat", "flower", "key", "cake"]
COLOUR_WORDS = ["red", "blue", "green", "yellow", "white", "black", "brown", "purple", "orange"]
FEELINGS = ["happy", "sad", "tired", "excited", "scared", "proud", "hungry", "calm"]
FRIENDS = ["friend", "sister", "brother", "mother", "father", "teacher", "neighbour"]
ADJS = ["little", "big", "old", "young", "kind", "funny", "quiet", "brave", "clever", "shy"]
VERBS_PAST = ["ran", "walked", "jumped", "played", "sang", "danced", "slept", "laughed"]
ADVERBS = ["quickly", "slowly", "happily", "quietly", "loudly", "carefully"]


def cap(s):
    return s[0].upper() + s[1:]


def capital_sentence(rng, country):
    c, k, o = country
    weights = [w for w, _ in CAPITAL_TEMPLATES]
    tpl = rng.choices([t for _, t in CAPITAL_TEMPLATES], weights)[0]
    return tpl.format(c=c, C=cap(c), k=k, o=o)


def fact_sentence(rng):
    kind = rng.randrange(9)
    if kind == 0:
        s, v, col = rng.choice(COLOURS)
        return f"{s} {v} {col}."
    if kind == 1:
        a, b = rng.randrange(11), rng.randrange(11)
        return f"{cap(NUMBERS[a])} plus {NUMBERS[b]} is {NUMBERS[a + b]}."
    if kind == 2:
        n = rng.randrange(20)
        return f"The number after {NUMBERS[n]} is {NUMBERS[n + 1]}."
    if kind == 3:
        d = rng.randrange(7)
        return f"The day after {DAYS[d]} is {DAYS[(d + 1) % 7]}."
    if kind == 4:
        m = rng.randrange(12)
        return f"The month after {MONTHS[m]} is {MONTHS[(m + 1) % 12]}."
    if kind == 5:
        return rng.choice(["There are seven days in a week.", "There are twelve months in a year.",
                           "A week has seven days.", "There are seven continents.",
                           "Monday is the first day of the week.",
                           "January is the first month of the year.",
                           "December is the last month of the year."])
    if kind == 6:
        return f"{rng.choice(CONTINENTS)} is a continent."
    if kind == 7:
        a, b = sorted(rng.sample(range(21), 2))
        return f"{cap(NUMBERS[b])} is bigger than {NUMBERS[a]}."
    c, k, o = rng.choice(COUNTRIES)
    return rng.choice(OTHER_COUNTRY_TEMPLATES).format(c=c, C=cap(c), k=k, o=o)


def plain_sentence(rng):
    name, adj, animal = rng.choice(NAMES), rng.choice(ADJS), rng.choice(ANIMALS)
    forms = [
        f"The {adj} {animal} {rng.choice(VERBS_PAST)} {rng.choice(ADVERBS)}.",
        f"{name} has a {rng.choice(COLOUR_WORDS)} {rng.choice(THINGS)}.",
        f"{name} likes to play in the {rng.choice(PLACES)}.",
        f"We went to the {rng.choice(PLACES)} on {rng.choice(DAYS)}.",
        f"{name} was {rng.choice(FEELINGS)} today.",
        f"It is a nice day, and the {animal} is {rng.choice(FEELINGS)}.",
        f"My {rng.choice(FRIENDS)} reads a book every evening.",
        f"I see a {adj} {animal} near the {rng.choice(PLACES)}.",
        f"{name} and {rng.choice(NAMES)} are good friends.",
    ]
    return rng.choice(forms)


def story(rng):
    name, animal, place = rng.choice(NAMES), rng.choice(ANIMALS), rng.choice(PLACES)
    thing, colour, adj = rng.choice(THINGS), rng.choice(COLOUR_WORDS), rng.choice(ADJS)
    friend = rng.choice(FRIENDS)
    s = [rng.choice([f"Once upon a time, there was a {adj} {animal} named {name}.",
                     f"One day, a {adj} {animal} called {name} woke up early.",
                     f"There was a {adj} {animal}. Its name was {name}."]),
         f"{name} lived in a {place}."]
    s.append(rng.choice([f"One day, {name} found a {colour} {thing}.",
                         f"On {rng.choice(DAYS)}, {name} saw a {colour} {thing}.",
                         f"{name} wanted a {colour} {thing} very much."]))
    s.append(rng.choice([f"{name} was very {rng.choice(FEELINGS)}.",
                         f"{name} showed the {thing} to a {friend}.",
                         f"The {thing} was {rng.choice(['big', 'small', 'shiny', 'soft'])}."]))
    if rng.random() < 0.6:
        s.append(rng.choice([f"They {rng.choice(VERBS_PAST)} together all day.",
                             f"Then {name} {rng.choice(VERBS_PAST)} {rng.choice(ADVERBS)}.",
                             f"The {friend} said, \"What a nice {thing}!\""]))
    s.append(rng.choice([f"In the end, {name} was {rng.choice(FEELINGS)} and went home.",
                         f"At night, {name} slept well.", "The end.",
                         f"{name} learned to share, and everyone was happy."]))
    return " ".join(s)


def generate(seed=1234, n_fact_docs=30000, n_story_docs=9000, n_plain_docs=6000):
    """Returns the list of documents (strings). Deterministic for a given seed."""
    rng = random.Random(seed)
    docs = []
    # Every country gets its canonical sentence as a document of its own several times, so the
    # prompt "<s>The capital of X is" is seen exactly as the app will pose it.
    for _ in range(4):
        for country in COUNTRIES:
            docs.append("The capital of {} is {}.".format(country[0], country[1]))
    for _ in range(n_fact_docs):
        n = rng.randint(1, 5)
        parts = []
        for _ in range(n):
            if rng.random() < 0.6:
                parts.append(capital_sentence(rng, rng.choice(COUNTRIES)))
            else:
                parts.append(fact_sentence(rng))
        docs.append(" ".join(parts))
    for _ in range(n_story_docs):
        docs.append(story(rng))
    for _ in range(n_plain_docs):
        docs.append(" ".join(plain_sentence(rng) for _ in range(rng.randint(1, 4))))
    rng.shuffle(docs)
    return docs
