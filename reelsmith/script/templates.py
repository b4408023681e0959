"""The offline writer's sentence templates, and the words they use (too vague
to search stock footage for)."""

from __future__ import annotations

import re

# The script's parts, in the order it tells them. Each is a few single-sentence
# templates, short and long, so the writer can fit the word budget. A template
# is used only when the topic gives every field it names: {question} (a direct
# question), {clause} ("why octopuses have three hearts"), {subject} (a noun
# phrase), {about} (the clause or the subject), {seconds}. Body templates are
# mostly field-free, so a long script for any topic has enough of them.
HOOKS = {
    "question": [
        "Ever wondered {clause}?",
        "Most people never stop to ask {clause}, but it is worth a minute of your time.",
        "{question}",
        "Here is a question that sounds simple: {question}",
        "Let's answer a question that comes up more often than you might think: {question}",
    ],
    "subject": [
        "You have probably heard of {subject}, but there is more to it than you think.",
        "Give me {seconds} seconds and you will never see {subject} the same way again.",
        "Let's talk about {subject}, because the full story is better than the headline.",
        "Here is what you should know about {subject}.",
        "This is {subject}, explained in plain words.",
        "Here is {subject}, in {seconds} seconds.",
    ],
}
BODY = {
    "basics": [
        "At first glance it seems simple, but it connects to some big ideas.",
        "The basic idea is simpler than it sounds, and it starts with something most of us "
        "never notice.",
        "To make sense of {about}, it helps to start with the basics.",
        "The short version begins with one simple fact that most people overlook.",
        "Let's start with the basics.",
        "Start with what you can see, and the rest follows step by step.",
        "The answer begins with a few plain facts.",
        "Before the details, it helps to agree on what we are actually talking about.",
        "Strip away the jargon and the core idea fits in a single sentence.",
        "Most of the confusion comes from a few words that mean different things to different people.",
        "A good starting point is to ask what we already know for certain.",
        "The foundations are worth a moment, because everything else is built on them.",
        "Think of the basics as a map: once you have it, the rest is easier to follow.",
        "Every big explanation is made of small, simple parts.",
        "It helps to picture it in your head before adding any numbers.",
        "The key terms are few, and each one has a plain meaning.",
        "Start small, and the larger picture will take shape on its own.",
        "What looks complicated from far away is often simple up close.",
        "The first thing to notice is what stays the same and what changes.",
    ],
    "how": [
        "Under the surface, a few simple rules do most of the work.",
        "Each step follows from the one before it, like links in a chain.",
        "Small causes add up, and together they produce the effect we notice.",
        "Nothing here is magic: it is cause and effect, one step at a time.",
        "The pieces only make sense together, so it pays to look at the whole picture.",
        "Once you see how the parts fit, the result stops looking mysterious.",
        "It works a bit like a recipe, where the order of the steps matters as much as the "
        "ingredients.",
        "The process is easier to follow if you take it one stage at a time.",
        "First one thing happens, then another, and the order is what makes it work.",
        "Change one step and the whole result can turn out differently.",
        "Behind the scenes, several things happen at once and keep each other in balance.",
        "The mechanism is quiet and steady, which is why it is so easy to overlook.",
        "A simple rule, repeated many times, can produce something remarkably complex.",
        "Energy, time and a little chance all play their part.",
        "Feedback keeps the whole system steady, nudging it back when it drifts.",
        "Think of it as a chain reaction that starts small and grows.",
        "Each part has a job, and the whole only works when every part does its job.",
        "The same steps happen again and again, a little differently each time.",
        "Slow, steady change can add up to something dramatic over time.",
    ],
    "matters": [
        "It matters because the same idea shows up in places you would never expect.",
        "And it is not just trivia: it explains a lot about the world around us.",
        "Understanding it changes how you see a lot of everyday things.",
        "This is why it matters.",
        "Once you know it, you start noticing it everywhere.",
        "It touches daily life more often than most people realise.",
        "The ideas behind it help people make better decisions every day.",
        "Knowing how it works makes it easier to tell good explanations from bad ones.",
        "It is one of those ideas that quietly shapes the choices people make.",
        "Many practical inventions depend on getting this exactly right.",
        "It also shows how connected different parts of the world really are.",
        "The more you learn about it, the more useful that knowledge becomes.",
        "It helps explain why some things last and others fall apart.",
        "People who understand it can spot problems before they grow.",
        "It is a good example of how curiosity pays off in practical ways.",
        "Getting it wrong can be costly, which is why people study it so carefully.",
        "It links everyday experience to some of the biggest questions we ask.",
        "Teachers love it because it turns a dry fact into a good story.",
    ],
    "history": [
        "People have puzzled over this for a long time, and every answer raised a new question.",
        "For centuries, the best explanations were educated guesses.",
        "Careful observation slowly replaced those guesses with evidence.",
        "Some of the early explanations turned out to be completely wrong, and that is part of "
        "the fun.",
        "Every generation of researchers has added a piece to the puzzle.",
        "Scientists still debate some of the finer points today.",
        "The story of how we learned this is full of patient work and lucky accidents.",
        "Early thinkers had the right questions long before they had the right tools.",
        "New instruments and better measurements slowly changed the picture.",
        "Some ideas that were once laughed at turned out to be right.",
        "Each new discovery made the older explanations look a little too simple.",
        "What we know today rests on many years of careful work by many people.",
        "Long before anyone could explain it, people noticed it and told stories about it.",
        "The first careful records were kept by curious people with simple tools.",
        "Progress came in fits and starts, with long pauses between big steps.",
        "Arguments between rival ideas pushed everyone to look more closely.",
        "Better tools let later researchers test ideas that earlier thinkers could only imagine.",
        "The full picture came together only when many small findings were put side by side.",
    ],
    "surprise": [
        "Here is the surprising part: what most people believe is only half the story.",
        "The twist is that the real story is stranger than most people guess.",
        "What surprises most people is how much is still being discovered about {about}.",
        "The popular explanation you may have heard is only part of the answer.",
        "Even experts were surprised when the full picture came together.",
        "A common belief about it turns out to be a myth.",
        "Here is something that catches almost everyone off guard.",
        "The obvious explanation is not always the right one, and this is a good example.",
        "Some of the most important parts are the ones you never see.",
        "It turns out that small changes can have surprisingly large effects.",
        "One detail that often gets left out changes the whole story.",
        "Even people who study it for years still find new surprises.",
        "The answer was hiding in plain sight for a very long time.",
        "Strangely, the simplest version of the question is the hardest to answer.",
        "What looks like chaos turns out to follow a clear pattern.",
        "The most important clue came from a place nobody expected.",
        "A small mistake once led to one of the biggest discoveries in the story.",
        "Some of what we learned at school turns out to be a handy simplification.",
    ],
    "details": [
        "The closer you look, the more interesting the details become.",
        "The details are where it gets really interesting.",
        "Tiny differences can change the outcome completely.",
        "The numbers involved are often bigger than you would guess.",
        "The same pattern repeats on scales both tiny and enormous.",
        "It is a good reminder that simple questions can lead to deep answers.",
        "Look closely, and you will find a small world of its own.",
        "Timing matters too, because the same thing can play out fast or very slowly.",
        "There are exceptions to every rule, and they often teach the most.",
        "Measuring it precisely is harder than it sounds.",
        "Context changes everything: the same idea can look very different in another setting.",
        "Some parts are well understood, while others are still open questions.",
        "The finer points are where experts tend to disagree, and where new ideas come from.",
        "Numbers help, but they only make sense next to something familiar.",
        "Small errors in measurement can lead to big differences in the result.",
        "Some effects are too slow to see in a lifetime, yet they still matter.",
        "The order in which things happen can matter as much as what happens.",
        "Look at it from a different angle and new details appear.",
        "Even the quiet background parts turn out to play a role.",
    ],
}
# Which parts a script keeps first when it has room for only a few sentences.
PRIORITY = ("basics", "surprise", "matters", "how", "history", "details")
TAKEAWAYS = {
    "question": [
        "So the next time someone asks {clause}, you will know there is a great story behind it.",
        "The takeaway: even the simplest questions can have surprising answers.",
        "Remember: the best questions are the ones that sound too simple to ask.",
        "Now you know the answer.",
    ],
    "subject": [
        "The takeaway: there is more to {subject} than meets the eye.",
        "So the next time someone mentions {subject}, you will know there is more to the story.",
        "Now you have a good reason to take a closer look at {subject}.",
        "Now you know the story.",
    ],
}
CALLS_TO_FOLLOW = [
    "Follow for more short explainers like this one.",
    "Follow for more, and tell me in the comments what to explain next.",
    "If you learned something new, follow for more quick facts.",
    "Follow for more.",
]
# How each sentence's picture is framed, by its place in the script: offline
# sentences say little a camera could film, so the topic is shown from a new
# angle each time (and a long script's second round in other tones).
SHOTS = (
    "wide shot",
    "close-up",
    "in detail",
    "seen from above",
    "in everyday life",
    "vintage photo",
    "unusual angle",
    "macro detail",
    "at night",
    "silhouette",
    "golden hour",
    "soft focus background",
)
TONES = ("", "cool tones", "warm tones", "high contrast")
TEMPLATE_WORDS = {
    word
    for pools in (HOOKS, BODY, TAKEAWAYS, {"call": CALLS_TO_FOLLOW})
    for templates in pools.values()
    for template in templates
    for word in re.findall(r"[\w']+", re.sub(r"\{\w+\}", " ", template).lower())
}
