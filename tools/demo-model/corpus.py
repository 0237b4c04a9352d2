# SPDX-License-Identifier: GPL-3.0-or-later
"""Deterministic generator of the demo model's training corpus.

Everything here is written for this project (no third-party text), so the corpus and the model
trained on it are GPL-3.0-or-later like the rest of Batchscope. The corpus is plain ASCII
English: simple sentences, short templated stories, and facts (capitals, continents, colours,
numbers, days, months). Each document is one string; the trainer wraps it in <s> ... </s>.

generate_chats() makes the chat part: short conversations (a list of (role, content) pairs) of
questions about the same facts with one-sentence answers, greetings and short stories. The
trainer lays them out as the chat template in export.py renders them.
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


# ---- chat conversations ---------------------------------------------------------------------

CHAT_SYSTEM_PROMPTS = [
    "You are a helpful assistant.", "You are a helpful assistant. Answer in one sentence.",
    "You are a friendly assistant.", "You are the Batchscope demo model.",
    "Answer the question.", "Be brief.",
]
CAPITAL_QUESTIONS = [  # weight, question, answer
    (6, "What is the capital of {c}?", "The capital of {c} is {k}."),
    (2, "What's the capital of {c}?", "The capital of {c} is {k}."),
    (2, "Which city is the capital of {c}?", "{k} is the capital of {c}."),
    (1, "What is the capital city of {c}?", "The capital city of {c} is {k}."),
    (1, "What is {c}'s capital?", "{C}'s capital city is {k}."),
    (1, "Tell me the capital of {c}.", "The capital of {c} is {k}."),
    (1, "Do you know the capital of {c}?", "Yes. The capital of {c} is {k}."),
    (1, "capital of {c}?", "The capital of {c} is {k}."),
    (1, "{k} is the capital of which country?", "{k} is the capital of {c}."),
    (1, "Where is {k}?", "{k} is the capital of {c}. It is in {o}."),
    (1, "Which continent is {c} in?", "{C} is a country in {o}."),
]
SMALL_TALK = [
    ("Hello!", "Hello! How can I help you?"), ("Hello", "Hello! How can I help you?"),
    ("Hi", "Hi! What would you like to know?"), ("Hi!", "Hi! What would you like to know?"),
    ("Good morning!", "Good morning! How can I help you?"),
    ("How are you?", "I am fine, thank you. How can I help you?"),
    ("Who are you?", "I am the Batchscope demo model. I know the capitals of many countries "
                     "and a few simple facts."),
    ("What is your name?", "I am the Batchscope demo model."),
    ("What can you do?", "I can answer simple questions, for example about the capitals of "
                         "countries, and I can tell short stories."),
    ("Thank you!", "You are welcome!"), ("Thanks.", "You are welcome!"),
    ("Thanks!", "You are welcome!"), ("Goodbye!", "Goodbye! Have a nice day."),
    ("Bye", "Goodbye! Have a nice day."),
]
UNKNOWN_QUESTIONS = [
    "What is the meaning of life?", "What will the weather be tomorrow?",
    "How do I fix my car?", "What is the price of gold?", "Who will win the game?",
    "Can you write a computer program?", "What time is it?", "What is the best film?",
]
UNKNOWN_ANSWERS = ["I do not know. I am a small demo model.",
                   "I am sorry, I do not know. I only know a few simple facts."]
STORY_REQUESTS = ["Tell me a story.", "Tell me a short story.", "Can you tell me a story?",
                  "Please tell me a story.", "Write a short story."]


def fact_question(rng):
    kind = rng.randrange(9)
    if kind == 0:
        s, v, col = rng.choice(COLOURS)
        return "What colour {} {}?".format(v, s[0].lower() + s[1:]), f"{s} {v} {col}."
    if kind == 1:
        a, b = rng.randrange(11), rng.randrange(11)
        return (f"What is {NUMBERS[a]} plus {NUMBERS[b]}?",
                f"{cap(NUMBERS[a])} plus {NUMBERS[b]} is {NUMBERS[a + b]}.")
    if kind == 2:
        n = rng.randrange(20)
        return (f"What number comes after {NUMBERS[n]}?",
                f"The number after {NUMBERS[n]} is {NUMBERS[n + 1]}.")
    if kind == 3:
        d = rng.randrange(7)
        return (f"What day comes after {DAYS[d]}?",
                f"The day after {DAYS[d]} is {DAYS[(d + 1) % 7]}.")
    if kind == 4:
        m = rng.randrange(12)
        return (f"What month comes after {MONTHS[m]}?",
                f"The month after {MONTHS[m]} is {MONTHS[(m + 1) % 12]}.")
    if kind == 5:
        return rng.choice([("How many days are in a week?", "There are seven days in a week."),
                           ("How many months are in a year?", "There are twelve months in a year."),
                           ("How many continents are there?", "There are seven continents."),
                           ("What is the first day of the week?", "Monday is the first day of the week."),
                           ("What is the first month of the year?",
                            "January is the first month of the year."),
                           ("What is the last month of the year?",
                            "December is the last month of the year.")])
    if kind == 6:
        o = rng.choice(CONTINENTS)
        return f"Is {o} a continent?", f"Yes. {o} is a continent."
    if kind == 7:
        a, b = sorted(rng.sample(range(21), 2))
        x, y = (a, b) if rng.random() < 0.5 else (b, a)
        return (f"Which is bigger, {NUMBERS[x]} or {NUMBERS[y]}?",
                f"{cap(NUMBERS[b])} is bigger than {NUMBERS[a]}.")
    return "What colour is the sky?", "The sky is blue."


def chat_turn(rng):
    """One (question, answer) pair."""
    r = rng.random()
    if r < 0.55:
        c, k, o = rng.choice(COUNTRIES)
        weights = [w for w, _, _ in CAPITAL_QUESTIONS]
        _, q, a = rng.choices(CAPITAL_QUESTIONS, weights)[0]
        return q.format(c=c, C=cap(c), k=k, o=o), a.format(c=c, C=cap(c), k=k, o=o)
    if r < 0.82:
        return fact_question(rng)
    if r < 0.89:
        return rng.choice(STORY_REQUESTS), story(rng)
    if r < 0.96:
        return rng.choice(SMALL_TALK)
    return rng.choice(UNKNOWN_QUESTIONS), rng.choice(UNKNOWN_ANSWERS)


def generate_chats(seed=4321, n=12000):
    """Returns n conversations, each a list of (role, content) with roles system/user/assistant:
    an optional system prompt, then 1-3 user/assistant turns. Deterministic for a given seed."""
    rng = random.Random(seed)
    chats = []
    for _ in range(n):
        msgs = []
        if rng.random() < 0.25:
            msgs.append(("system", rng.choice(CHAT_SYSTEM_PROMPTS)))
        for _ in range(rng.choices([1, 2, 3], [6, 3, 1])[0]):
            q, a = chat_turn(rng)
            msgs += [("user", q), ("assistant", a)]
        chats.append(msgs)
    return chats
