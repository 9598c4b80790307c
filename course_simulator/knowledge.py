"""What the simulated model knows: the course's subjects as facts, written for this course.

Data only; ``model.py`` composes these into answers of whatever shape a prompt asks for.

Conventions every entry follows (``tests/test_simulator_knowledge.py`` enforces them):
- Each sentence is one complete sentence ending in a full stop, with no line breaks and no
  ". " inside it (so counting sentences is unambiguous), and never an abbreviation such as "e.g.".
- ``((...))`` marks the part of a sentence a short answer may drop: the full form removes the
  markers, the short form removes the marked text. Both forms must read as good English.
- ``what`` defines the subject and ``why`` says why it matters; both name the subject, so a
  one-sentence answer is always on topic. ``facts`` explain how it works, ``tips`` give advice.
- ``code`` is a small, valid Python example that does what ``code_says`` says; ``one_liner``
  is a single line of valid Python (a decorator example may add the ``def`` line it needs).
  ``$MODEL`` and ``$LARGE_MODEL`` stand for catalogue model ids, filled in when an answer is
  written, so model ids stay in ``data/models.toml`` alone.
- ``aliases`` are lower-case phrases that name the subject in a prompt; ``generic`` subjects
  (Python, APIs, HTTP, language models) are chosen only when no more specific subject is named.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CLOSERS",
    "COMPARISONS",
    "COURSE_SUBJECTS",
    "GREETING",
    "GREETING_WORDS",
    "HEDGES",
    "LONG_CLOSER",
    "META",
    "NO_SUBJECT",
    "NO_SUBJECT_ONE_SENTENCE",
    "PYTHON_SUBJECTS",
    "SUBJECTS",
    "TIPS_INTROS",
    "TRANSITIONS",
    "UNKNOWN",
    "UNKNOWN_ONE_SENTENCE",
    "Subject",
]


@dataclass(frozen=True)
class Subject:
    """One subject the simulated model can explain."""

    key: str
    title: str  # how a heading or a JSON "topic" names it
    aliases: tuple[str, ...]
    what: str
    why: str
    facts: tuple[str, ...]
    tips: tuple[str, ...]
    code: str
    code_says: str
    one_liner: str
    items: tuple[str, ...] = ()  # members a prompt can ask to "name" or "list"
    related: tuple[str, ...] = ()  # keys of subjects a long answer may point to
    generic: bool = False


# fmt: off
SUBJECTS: tuple[Subject, ...] = (
    # --- APIs and models ----------------------------------------------------------------------
    Subject(
        key="api",
        title="APIs",
        aliases=(
            "api", "apis", "application programming interface", "web api", "rest api",
            "endpoint", "endpoints",
        ),
        what="An API (application programming interface) is a set of rules that lets one "
        "program ask another for data or actions((, without knowing how the other program "
        "works inside)).",
        why="An API lets your code reuse someone else's service((, such as a weather feed or a "
        "language model, instead of building it yourself)).",
        facts=(
            "Think of an API as a restaurant menu((: you order from the list, and the kitchen's "
            "work stays hidden)).",
            "Your program sends a request to an address called an endpoint((, and the service "
            "sends back a response, often as JSON)).",
            "A web API usually works over HTTP((: the request has a method, a URL, headers and a "
            "body, and the response has a status code and a body)).",
            "Most APIs ask for a key with every request((, so the provider knows who is calling "
            "and whom to bill)).",
        ),
        tips=(
            "Read an API's documentation for its limits((, error codes and prices)) before you "
            "write much code.",
            "Expect failures((: networks drop, servers get busy and limits get hit, so handle "
            "errors from the start)).",
        ),
        code=(
            "import json\n"
            "from urllib.request import urlopen\n"
            "\n"
            'with urlopen("https://api.example.com/v1/weather?city=Lisbon", timeout=10) as reply:\n'
            "    forecast = json.loads(reply.read())  # the API answers with JSON\n"
            "print(forecast)\n"
        ),
        code_says="This asks a weather API for Lisbon's forecast and reads the JSON it sends "
        "back.",
        one_liner='forecast = json.loads(urlopen("https://api.example.com/v1/weather").read())',
        related=("http", "openai_api", "api_key"),
        generic=True,
    ),
    Subject(
        key="openai_api",
        title="The OpenAI API",
        aliases=(
            "openai api", "openai sdk", "openai python sdk", "openai library", "openai client",
            "openai package", "responses api", "chat completions api", "chat completions",
            "openai",
        ),
        what="The OpenAI API is the web service your code calls to get answers from OpenAI's "
        "models((, usually through the official `openai` Python package)).",
        why="The OpenAI API lets a program use a language model with a few lines of code((, for "
        "summarising, answering questions or extracting data)).",
        facts=(
            "`client.responses.create(model=..., input=...)` sends one request((; the reply's "
            "`output_text` holds the answer and `usage` holds the token counts)).",
            "Every call is billed by tokens((: the input you send plus the output the model "
            "writes)).",
            "The SDK retries some failures for you((: twice by default, with a short backoff, "
            "for 429s, server errors and timeouts)).",
            "Errors arrive as exceptions such as `RateLimitError` or `APITimeoutError`((, each "
            "carrying the HTTP status and a request id)).",
        ),
        tips=(
            "Keep your key in the `OPENAI_API_KEY` environment variable((, never in code or a "
            "notebook)).",
            "Set `max_output_tokens` on every call((, so no answer can run longer or cost more "
            "than you planned)).",
        ),
        code=(
            "from openai import OpenAI\n"
            "\n"
            "client = OpenAI()  # reads OPENAI_API_KEY from the environment\n"
            "response = client.responses.create(\n"
            '    model="$MODEL", input="Explain tokens in one sentence.", max_output_tokens=60\n'
            ")\n"
            "print(response.output_text)\n"
            "print(response.usage.input_tokens, response.usage.output_tokens)\n"
        ),
        code_says="This sends one capped request with the official SDK and prints the answer "
        "and its token counts.",
        one_liner='response = client.responses.create(model="$MODEL", input="Say hi.")',
        related=("tokens", "retries", "api_key"),
    ),
    Subject(
        key="api_key",
        title="API keys",
        aliases=(
            "api key", "api keys", "secret key", "secret keys", "openai_api_key", "credentials",
        ),
        what="An API key is a secret string that identifies your account((, so the service "
        "knows who is calling and whom to bill)).",
        why="An API key must stay secret because anyone who has it can spend your money((, and "
        "the provider cannot tell them apart from you)).",
        facts=(
            "The key travels in the `Authorization` header of every request((, as the word "
            "`Bearer` followed by the key)).",
            "A missing or wrong key gets HTTP 401((, which retrying cannot fix)).",
            "You can create several keys((, one per project, and revoke one without breaking "
            "the others)).",
        ),
        tips=(
            "Load the key from an environment variable((, such as `OPENAI_API_KEY`, instead of "
            "pasting it into code)).",
            "Never print, log or commit a key((; if one leaks, revoke it at once and create a "
            "new one)).",
        ),
        code=(
            "import os\n"
            "\n"
            'api_key = os.environ.get("OPENAI_API_KEY")\n'
            "if not api_key:\n"
            '    raise SystemExit("Set OPENAI_API_KEY first; never paste a key into a notebook.")\n'
            'print("key loaded")  # never print the key itself\n'
        ),
        code_says="This reads the key from the environment and stops with a clear message when "
        "it is missing.",
        one_liner='api_key = os.environ["OPENAI_API_KEY"]',
        related=("openai_api", "client_errors"),
    ),
    Subject(
        key="llm",
        title="Language models",
        aliases=(
            "language model", "language models", "large language model", "large language models",
            "llm", "llms", "ai model", "ai models", "gpt", "chatgpt", "generative ai", "model",
            "models", "ai",
        ),
        what="A language model is a program trained on a great deal of text to predict the next "
        "token((, which lets it write answers one token at a time)).",
        why="Language models matter because one model can summarise, translate, answer and "
        "extract((, jobs that once needed separate systems)).",
        facts=(
            "The model reads your prompt as tokens and writes its answer one token at a time((, "
            "each chosen from what came before)).",
            "Its answer is likely text, not guaranteed truth((, so facts that matter still need "
            "checking)).",
            "Bigger models are usually more capable((, but slower and dearer per token)).",
            "A model sees only what fits in its context window((: your prompt, the conversation "
            "so far and its own answer)).",
        ),
        tips=(
            "Give a model clear, specific instructions((, including the format and length you "
            "want)).",
            "Check answers that matter((, and never trust a model with facts it cannot know)).",
        ),
        code=(
            "from openai import OpenAI\n"
            "\n"
            "client = OpenAI()\n"
            'reply = client.responses.create(model="$MODEL", input="Name three uses of an LLM.")\n'
            "print(reply.output_text)\n"
        ),
        code_says="This asks a language model one question and prints its answer.",
        one_liner='print(client.responses.create(model="$MODEL", input="Hi").output_text)',
        related=("tokens", "context_window", "model_choice"),
        generic=True,
    ),
    Subject(
        key="tokens",
        title="Tokens",
        aliases=(
            "token", "tokens", "token usage", "token count", "token counts", "token counting",
            "counting tokens", "count tokens", "usage object", "input tokens", "output tokens",
        ),
        what="A token is a chunk of text a model reads((: a word, part of a word or a "
        "punctuation mark)).",
        why="Tokens matter because they set the price of a request((, whether it fits the "
        "context window and how long the answer takes)).",
        facts=(
            "In English, one token is about four characters((, or roughly three quarters of a "
            "word)).",
            "Common words are often a single token((, while rare words, names and emoji split "
            "into several)).",
            "You pay for input tokens and output tokens((, and output tokens usually cost "
            "several times more)).",
            "The API reports exact counts in `usage`((, as `input_tokens` and "
            "`output_tokens`)).",
            "Code and languages other than English often take more tokens(( for the same "
            "meaning)).",
        ),
        tips=(
            "Count tokens before sending((, with a tokeniser such as `tiktoken`, to catch a "
            "prompt that is too long)).",
            "Cap output with `max_output_tokens`((, since output is the dearest part of a "
            "request)).",
        ),
        code=(
            "import tiktoken\n"
            "\n"
            'encoding = tiktoken.get_encoding("o200k_base")\n'
            'ids = encoding.encode("Tokens are pieces of text.")\n'
            'print(len(ids), "tokens:", [encoding.decode([i]) for i in ids])\n'
        ),
        code_says="This splits a sentence into tokens with `tiktoken` and prints how many there "
        "are and what each one is.",
        one_liner='n_tokens = len(tiktoken.get_encoding("o200k_base").encode("Hello, world!"))',
        related=("tokenizer", "context_window", "cost"),
    ),
    Subject(
        key="tokenizer",
        title="Tokenisers",
        aliases=(
            "tokenizer", "tokenizers", "tokeniser", "tokenisers", "tiktoken",
            "byte pair encoding", "byte-pair encoding", "bpe", "token encoding",
            "o200k_base", "cl100k_base", "tokenization", "tokenisation", "tokenize", "tokenise",
        ),
        what="A tokeniser is the program that cuts text into tokens((, and turns each token into "
        "the number the model actually reads)).",
        why="A tokeniser lets you count a prompt's tokens before sending it((, so you can "
        "predict the cost and avoid overflowing the context window)).",
        facts=(
            "OpenAI's tokenisers use byte pair encoding((: frequent runs of characters are "
            "merged into single tokens)).",
            "Each model family has its own vocabulary((, such as `o200k_base` for recent models "
            "and `cl100k_base` for older ones)).",
            "The same text can give different counts under different encodings((, so count with "
            "the model's own one)).",
            "`tiktoken` is OpenAI's fast open-source tokeniser for Python((, and it works "
            "offline once its vocabulary is cached)).",
        ),
        tips=(
            "Use `tiktoken.encoding_for_model` when you know the model((, so the count matches "
            "what you will be billed)).",
            "Remember that chat messages add a few wrapper tokens(( on top of the text "
            "itself)).",
        ),
        code=(
            "import tiktoken\n"
            "\n"
            'for name in ("o200k_base", "cl100k_base"):\n'
            "    encoding = tiktoken.get_encoding(name)\n"
            '    print(name, len(encoding.encode("Tokenisers split text differently.")))\n'
        ),
        code_says="This counts the same sentence under two encodings, which shows that the "
        "count depends on the tokeniser.",
        one_liner='ids = tiktoken.get_encoding("o200k_base").encode("unbelievable")',
        related=("tokens",),
    ),
    Subject(
        key="context_window",
        title="Context windows",
        aliases=(
            "context window", "context windows", "context length", "context limit",
            "context limits", "context size", "context_length_exceeded",
            "context length exceeded",
        ),
        what="The context window is the largest number of tokens a model can handle in one "
        "request((, counting your input and its output together)).",
        why="A request that overflows the context window is rejected((, so long documents must "
        "be shortened or split before sending)).",
        facts=(
            "Input and output share the window((: a long prompt leaves less room for the "
            "answer)).",
            "An input that is too long gets a 400 error with the code "
            "`context_length_exceeded`((, and retrying cannot fix it)).",
            "Recent models have windows of hundreds of thousands of tokens((, but filling them "
            "is slow and expensive)).",
            "Every earlier turn of a chat is sent again((, so long conversations fill the "
            "window over time)).",
        ),
        tips=(
            "Before sending, check that input tokens plus your output cap fit the window((, and "
            "chunk the text when they do not)).",
            "Summarise old conversation turns((, so a long chat keeps fitting and costs less)).",
        ),
        code=(
            "import tiktoken\n"
            "\n"
            "CONTEXT_WINDOW, OUTPUT_CAP = 400_000, 1_000\n"
            'document = "A sentence of the handbook. " * 10_000\n'
            'needed = len(tiktoken.get_encoding("o200k_base").encode(document)) + OUTPUT_CAP\n'
            'print(f"{needed:,} of {CONTEXT_WINDOW:,} tokens: fits = {needed <= CONTEXT_WINDOW}")\n'
        ),
        code_says="This checks whether a document plus the output cap fits a 400,000-token "
        "window before anything is sent.",
        one_liner="fits = input_tokens + max_output_tokens <= context_window",
        related=("tokens", "chunking", "token_limits"),
    ),
    Subject(
        key="token_limits",
        title="Token limits",
        aliases=(
            "token limit", "token limits", "max_output_tokens", "max output tokens",
            "max_tokens", "max tokens", "max_completion_tokens", "output cap", "output caps",
            "output limit", "output limits", "output token limit", "length limit",
            "truncation", "truncated answer", "truncated answers", "truncated output",
            "truncated response", "incomplete answer", "incomplete response", "cut off answer",
        ),
        what="Token limits cap how much text a request may use((: the context window bounds "
        "input plus output, and `max_output_tokens` bounds the answer)).",
        why="Token limits keep cost and latency predictable((, and an answer that hits one is "
        "cut off mid-sentence)).",
        facts=(
            "When an answer reaches `max_output_tokens`, it stops((, and the response's status "
            "is `incomplete` with the reason `max_output_tokens`)).",
            "A cut answer is still billed(( for every token it produced)).",
            "A cut JSON answer is invalid JSON((, so check `status` before you parse it)).",
            "On reasoning models the cap covers hidden reasoning tokens too((, so a small cap "
            "can leave no visible answer at all)).",
        ),
        tips=(
            "Set a cap that fits the shape you ask for((: about 60 tokens for one sentence and a "
            "few hundred for a detailed answer)).",
            "Ask for a short answer in the prompt((, and keep the cap as a safety net rather "
            "than the only limit)).",
        ),
        code=(
            "response = client.responses.create(\n"
            '    model="$MODEL", input="Explain tokens in one sentence.", max_output_tokens=60\n'
            ")\n"
            'if response.status == "incomplete":\n'
            '    print("cut at the cap:", response.incomplete_details.reason)\n'
            "print(response.output_text)\n"
        ),
        code_says="This caps the answer at 60 tokens and says so when the answer was cut.",
        one_liner='response = client.responses.create(model="$MODEL", input=prompt, '
        "max_output_tokens=60)",
        related=("context_window", "reasoning", "json"),
    ),
    Subject(
        key="prompts",
        title="Prompts",
        aliases=(
            "prompt", "prompts", "prompt engineering", "prompt design", "prompting",
            "system prompt", "system prompts", "instructions", "developer message",
            "developer messages", "system message", "system messages", "user message",
        ),
        what="A prompt is the text you send a model((: your instructions, your question and any "
        "context it needs)).",
        why="A prompt matters because the model knows only what the prompt tells it((, so its "
        "wording decides the answer's content, length and cost)).",
        facts=(
            "Rules that apply to every call belong in `instructions` or a developer message((, "
            "apart from the user's question)).",
            "Specific prompts get specific answers((: name the audience, the format and the "
            "length)).",
            "Every prompt token is billed((, and so is every token of the context you "
            "attach)).",
            "An example in the prompt shows the model the format you want((, which is often "
            "clearer than describing it)).",
        ),
        tips=(
            "Ask for a format and a size((, such as `3 bullet points, under 60 words`)).",
            "Try a prompt on several inputs before relying on it((, and keep the wording that "
            "works best)).",
        ),
        code=(
            "response = client.responses.create(\n"
            '    model="$MODEL",\n'
            '    instructions="You are a patient tutor. Answer in 3 bullet points.",\n'
            '    input="What is a token?",\n'
            ")\n"
            "print(response.output_text)\n"
        ),
        code_says="This sends fixed instructions once, apart from the question, and asks for a "
        "clear format.",
        one_liner='prompt = "Explain tokens for a beginner in 3 bullet points, under 60 words."',
        related=("prompt_efficiency", "tokens"),
    ),
    Subject(
        key="prompt_efficiency",
        title="Prompt efficiency",
        aliases=(
            "prompt efficiency", "token efficiency", "efficient prompt", "efficient prompts",
            "concise prompt", "concise prompts", "verbose prompt", "verbose prompts",
            "short prompts", "shorter prompts", "reducing tokens", "reduce tokens",
            "saving tokens", "save tokens", "token waste", "wasted tokens",
            "prompt compression", "prompt styles", "prompt style", "fewer tokens",
            "reducing token usage", "reduce token usage", "cut token usage",
            "lower token usage", "token savings",
        ),
        what="Prompt efficiency means getting the answer you need with as few tokens as "
        "possible((, in the prompt and in the reply)).",
        why="Prompt efficiency matters because every token is paid for((, and small savings "
        "multiply over thousands of requests)).",
        facts=(
            "A verbose prompt that hedges about length usually gets a long answer((, while a "
            "prompt with numbers gets a short one)).",
            "Rules repeated in every message waste tokens((; state them once in the "
            "instructions)).",
            "A long chat can be summarised((, so each new request resends a short summary "
            "instead of every turn)).",
            "Sending only the relevant part of a document cuts input tokens((, usually without "
            "hurting the answer)).",
        ),
        tips=(
            "Measure before and after((: compare `usage.input_tokens` and "
            "`usage.output_tokens` for both versions)).",
            "Pair a length instruction with `max_output_tokens`((, so the prompt asks for "
            "brevity and the cap enforces it)).",
        ),
        code=(
            'verbose = "Please write a detailed, helpful explanation of caching, not too long."\n'
            'concise = "Explain caching in 3 bullet points, under 60 words."\n'
            "for prompt in (verbose, concise):\n"
            '    usage = client.responses.create(model="$MODEL", input=prompt).usage\n'
            '    print(f"{usage.input_tokens} in + {usage.output_tokens} out")\n'
        ),
        code_says="This sends a verbose and a concise prompt and prints each one's token usage, "
        "so the saving is measured, not guessed.",
        one_liner='concise = "Explain caching in 3 bullet points, under 60 words."',
        related=("prompts", "tokens", "cost"),
    ),
    Subject(
        key="reasoning",
        title="Reasoning models",
        aliases=(
            "reasoning model", "reasoning models", "reasoning token", "reasoning tokens",
            "reasoning effort", "reasoning efforts", "reasoning.effort", "reasoning_effort",
            "thinking tokens", "hidden reasoning", "reasoning",
        ),
        what="A reasoning model thinks in hidden reasoning tokens before it writes the visible "
        "answer((, and those tokens are billed as output)).",
        why="Reasoning tokens count against `max_output_tokens`((, so a small cap on a "
        "reasoning model can end with an empty answer)).",
        facts=(
            "`usage.output_tokens_details.reasoning_tokens` reports how many hidden tokens were "
            "spent((; they are part of `output_tokens`)).",
            'Passing `reasoning={"effort": "low"}` asks for less thinking((, and higher efforts '
            "spend more tokens and time)).",
            "Which effort values a model accepts depends on the model((: some take `none`, "
            "others `minimal`, and all current ones take `low`)).",
            "A response cut off while reasoning has the status `incomplete` and no visible "
            "text((, yet it is still billed)).",
        ),
        tips=(
            "Use a low effort for simple tasks((, and leave room in the cap for both the "
            "reasoning and the answer)).",
            "Read `reasoning_tokens` when an answer comes back empty((: it shows the cap was "
            "spent on thinking)).",
        ),
        code=(
            "response = client.responses.create(\n"
            '    model="$MODEL", input="Explain jitter.", reasoning={"effort": "low"},\n'
            "    max_output_tokens=300,\n"
            ")\n"
            "details = response.usage.output_tokens_details\n"
            'print(response.status, details.reasoning_tokens, "reasoning tokens")\n'
            'print(response.output_text or "(no visible answer: the cap went on reasoning)")\n'
        ),
        code_says="This asks for low reasoning effort, leaves room in the cap, and prints how "
        "many hidden reasoning tokens were spent.",
        one_liner='reply = client.responses.create(model="$MODEL", input=q, '
        'reasoning={"effort": "low"})',
        related=("token_limits", "cost", "verbosity"),
    ),
    Subject(
        key="verbosity",
        title="Verbosity",
        aliases=("verbosity", "text.verbosity", "verbosity parameter", "verbosity setting"),
        what='Verbosity is a request setting, `text={"verbosity": "low"}`, that asks a model '
        "for shorter or longer answers((; `medium` is the default)).",
        why="Verbosity changes how long answers are, and so what they cost, without rewriting "
        "the prompt((, on the models that support it)).",
        facts=(
            "The values are `low`, `medium` and `high`((, and a clear length instruction in the "
            "prompt still wins)).",
            "Older models accept only the default((, and reject other values with a 400 "
            "error)).",
            "Low verbosity suits short answers in an app((, and high suits teaching and "
            "explanations)).",
        ),
        tips=(
            "Combine low verbosity with `max_output_tokens`((, since verbosity guides the "
            "length but does not cap it)).",
            "Compare `usage.output_tokens` at each level((, before choosing one for "
            "production)).",
        ),
        code=(
            'for level in ("low", "medium", "high"):\n'
            "    response = client.responses.create(\n"
            '        model="$MODEL", input="Explain caching.", text={"verbosity": level}\n'
            "    )\n"
            "    print(level, response.usage.output_tokens)\n"
        ),
        code_says="This asks the same question at each verbosity level and prints how many "
        "output tokens each answer used.",
        one_liner='reply = client.responses.create(model="$MODEL", input=q, '
        'text={"verbosity": "low"})',
        related=("reasoning", "prompt_efficiency"),
    ),
    Subject(
        key="temperature",
        title="Temperature",
        aliases=("temperature", "top_p", "top p", "sampling", "randomness"),
        what="Temperature is a setting from 0 to 2 that controls how random a model's word "
        "choices are((: low is focused and repeatable, high is varied)).",
        why="Temperature matters because the same prompt can give different answers((, and a "
        "low value makes results easier to test)).",
        facts=(
            "At a low temperature the model nearly always picks its most likely next token((, "
            "so answers vary little)).",
            "At a high temperature less likely tokens are chosen more often((, which adds "
            "variety but also mistakes)).",
            "Some reasoning models accept only the default temperature((, so check what your "
            "model allows)).",
        ),
        tips=(
            "Use a low temperature for extraction and classification((, where you want the same "
            "answer every time)).",
            "Change temperature or `top_p`, not both((, so you know which one made the "
            "difference)).",
        ),
        code=(
            "response = client.responses.create(\n"
            '    model="$MODEL", input="Name a colour.", temperature=0.2\n'
            ")\n"
            "print(response.output_text)\n"
        ),
        code_says="This asks for a low temperature, so the answer changes little from run to "
        "run.",
        one_liner='reply = client.responses.create(model="$MODEL", input="Hi", temperature=0.2)',
        related=("llm",),
    ),
    Subject(
        key="latency",
        title="Latency",
        aliases=(
            "latency", "response time", "response times", "slow responses", "slow response",
            "time to first token", "speed",
        ),
        what="Latency is the time between sending a request and getting the answer((, and for "
        "language models it grows with the number of output tokens)).",
        why="Latency matters because users wait for it((, and a slow call also holds a "
        "connection and a worker)).",
        facts=(
            "Most of a model's latency is spent writing output((, one token after another)).",
            "Larger models and higher reasoning efforts are usually slower((, so a small model "
            "can feel much faster)).",
            "Streaming does not make the total faster((, but the first words appear much "
            "sooner)).",
        ),
        tips=(
            "Ask for shorter answers((: fewer output tokens is the surest way to cut "
            "latency)).",
            "Measure with a monotonic clock((, such as `time.perf_counter`, around the call)).",
        ),
        code=(
            "import time\n"
            "\n"
            "started = time.perf_counter()\n"
            'response = client.responses.create(model="$MODEL", input="Say hi.")\n'
            "elapsed = time.perf_counter() - started\n"
            'print(f"{elapsed:.2f} s for {response.usage.output_tokens} output tokens")\n'
        ),
        code_says="This times one request with a monotonic clock and prints the seconds beside "
        "the output tokens.",
        one_liner="elapsed_s = time.perf_counter() - started",
        related=("streaming", "model_choice"),
    ),
    # --- beginner Python ----------------------------------------------------------------------
    Subject(
        key="python",
        title="Python",
        aliases=("python", "python 3", "python3", "python language", "programming in python"),
        what="Python is a general-purpose programming language known for readable code((, a "
        "large standard library and a huge choice of packages)).",
        why="Python suits AI work because its SDKs, data tools and notebooks are excellent((, "
        "so you write little glue code)).",
        facts=(
            "Indentation marks code blocks in Python((, where other languages use braces)).",
            "Python runs code line by line((, so you can try ideas quickly in a notebook or the "
            "interactive shell)).",
            "Packages are installed with `pip`((, ideally inside a virtual environment for each "
            "project)).",
        ),
        tips=(
            "Use a virtual environment for each project((, so package versions never "
            "clash)).",
            "Read a traceback from the bottom up((: the last line names the error, and the lines "
            "above show where it happened)).",
        ),
        code=(
            'names = ["Ada", "Grace", "Guido"]\n'
            "for name in names:\n"
            '    print(f"Hello, {name}!")\n'
        ),
        code_says="This loops over a list of names and greets each one.",
        one_liner='print("Hello, world!")',
        related=("functions", "venv"),
        generic=True,
    ),
    Subject(
        key="decorators",
        title="Python decorators",
        aliases=(
            "decorator", "decorators", "python decorator", "python decorators",
            "function decorator", "function decorators", "decorator syntax", "@ syntax",
        ),
        what="A decorator is a function that wraps another function to add behaviour((, such as "
        "logging or timing, without changing its code)).",
        why="Decorators let you write a job like logging or retrying once((, then reuse it on "
        "any function with one line)).",
        facts=(
            "You apply one with `@name` on the line above a `def`((, which is shorthand for "
            "`func = name(func)`)).",
            "Inside, a decorator usually defines a `wrapper` function((, which runs extra code "
            "before or after calling the original)).",
            "`functools.wraps` copies the original function's name and docstring onto the "
            "wrapper((, so help and debugging still work)).",
            "Decorators can take arguments((, like `@retry(times=3)`, by adding one more layer "
            "of functions)).",
        ),
        tips=(
            "Common uses include logging, timing, caching and retrying((; `functools.lru_cache` "
            "is a decorator that ships with Python)).",
            "Keep a decorator small((, since everything it does runs on every call)).",
        ),
        code=(
            "def log_call(func):\n"
            "    def wrapper(*args):\n"
            '        print("calling", func.__name__)\n'
            "        return func(*args)\n"
            "    return wrapper\n"
            "\n"
            "@log_call\n"
            "def add(a, b):\n"
            "    return a + b\n"
        ),
        code_says="Here `@log_call` wraps `add`, so every call prints a line before the real "
        "work runs.",
        one_liner="@functools.lru_cache\ndef square(n): return n * n",
        related=("functions", "retries", "caching"),
    ),
    Subject(
        key="list_comprehensions",
        title="List comprehensions",
        aliases=(
            "list comprehension", "list comprehensions", "comprehension", "comprehensions",
            "dict comprehension", "dict comprehensions", "set comprehension",
            "python list comprehension", "python list comprehensions",
        ),
        what="A list comprehension builds a new list from an existing sequence in one "
        "expression((, such as `[x * 2 for x in numbers]`)).",
        why="List comprehensions replace a three-line loop with one readable line((, and they "
        "usually run a little faster too)).",
        facts=(
            "The pattern is `[expression for item in iterable]`((, read as: for each item, "
            "compute the expression)).",
            "An `if` at the end filters items((: `[n for n in numbers if n > 0]` keeps only the "
            "positive numbers)).",
            "The same syntax with braces builds sets and dictionaries((, like "
            "`{word: len(word) for word in words}`)).",
            "A comprehension builds the whole list at once((; a generator expression in round "
            "brackets suits long or endless data)).",
        ),
        tips=(
            "Prefer a plain loop when the logic needs several steps((, since a crowded "
            "comprehension is hard to read)).",
            "Avoid comprehensions just for side effects((, such as printing, where a `for` loop "
            "says it more clearly)).",
        ),
        code=(
            "numbers = [3, -1, 4, -1, 5]\n"
            "squares = [n * n for n in numbers if n > 0]\n"
            "print(squares)  # [9, 16, 25]\n"
        ),
        code_says="This keeps the positive numbers and squares them in one line.",
        one_liner="squares = [n * n for n in range(5)]",
        related=("loops", "lists", "generators"),
    ),
    Subject(
        key="functions",
        title="Python functions",
        aliases=(
            "function", "functions", "python function", "python functions", "def",
            "return value", "return values", "argument", "arguments", "parameter", "parameters",
        ),
        what="A function is a named, reusable block of code((: you define it once with `def` "
        "and call it whenever you need it)).",
        why="Functions let you name a job and reuse it((, so a fix in one place fixes every "
        "caller)).",
        facts=(
            "Parameters are the names in the `def` line((, and arguments are the values you pass "
            "when calling)).",
            "`return` sends a value back to the caller((; a function without one returns "
            "`None`)).",
            'Default values make parameters optional((, as in `def greet(name="friend")`)).',
            "A docstring under the `def` line says what the function does((, and `help()` shows "
            "it)).",
        ),
        tips=(
            "Give each function one job((, and a name that says what it does)).",
            "Pass what a function needs as arguments((, instead of reading global variables)).",
        ),
        code=(
            "def average(values):\n"
            '    """Return the mean of a non-empty list of numbers."""\n'
            "    return sum(values) / len(values)\n"
            "\n"
            "print(average([2, 4, 9]))  # 5.0\n"
        ),
        code_says="This defines a function that averages a list and calls it once.",
        one_liner="def double(x): return x * 2",
        related=("decorators", "lambda"),
    ),
    Subject(
        key="variables",
        title="Variables",
        aliases=("variable", "variables", "assignment", "constants", "constant"),
        what="A variable is a name that refers to a value((, so `count = 3` lets you use `count` "
        "later instead of the number)).",
        why="Variables give values meaningful names((, which makes code readable and easy to "
        "change)).",
        facts=(
            "You create a variable by assigning to it with `=`((; Python needs no separate "
            "declaration)).",
            "A variable can be reassigned to a new value((, even one of a different type)).",
            "Names are case-sensitive((, so `total` and `Total` are different variables)).",
        ),
        tips=(
            "Choose names that say what a value means((, like `max_retries` rather than "
            "`m`)).",
            "Write constants in capitals((, such as `MAX_RETRIES = 4`, to show they should not "
            "change)).",
        ),
        code=(
            "price_per_million = 0.75\n"
            "tokens = 12_000\n"
            "cost = tokens / 1_000_000 * price_per_million\n"
            'print(f"${cost:.4f}")\n'
        ),
        code_says="This names a price and a token count, then computes the cost from them.",
        one_liner="max_retries = 4",
        related=("python",),
    ),
    Subject(
        key="lists",
        title="Python lists",
        aliases=(
            "list", "lists", "python list", "python lists", "list data type", "list type",
            "list methods", "append",
        ),
        what="A list is an ordered, changeable collection of values((, written in square "
        "brackets like `[1, 2, 3]`)).",
        why="Lists keep many items together in order((, such as a batch of prompts or their "
        "results)).",
        facts=(
            "Items are read by position, starting at 0((, and `items[-1]` is the last one)).",
            "`append` adds an item to the end((, and `len(items)` tells you how many there "
            "are)).",
            "A slice like `items[1:3]` copies part of a list((, from the first index up to but "
            "not including the second)).",
            "A list can hold any mix of types((, including other lists)).",
        ),
        tips=(
            "Use a `for` loop to visit each item((, rather than counting indexes by hand)).",
            "Use a tuple instead when the values should not change((, such as a pair of "
            "coordinates)).",
        ),
        code=(
            'prompts = ["What is a token?", "Define jitter."]\n'
            'prompts.append("Explain retries.")\n'
            "print(len(prompts), prompts[0], prompts[-1])\n"
        ),
        code_says="This builds a list of prompts, adds one, and reads the first and last.",
        one_liner='colours = ["red", "green", "blue"]',
        related=("list_comprehensions", "dictionaries", "loops"),
    ),
    Subject(
        key="dictionaries",
        title="Python dictionaries",
        aliases=(
            "dictionary", "dictionaries", "dict", "dicts", "python dictionary",
            "python dictionaries", "key-value pair", "key-value pairs", "hash map", "hash maps",
            "mapping",
        ),
        what="A dictionary maps keys to values((, like `{\"name\": \"Ada\", \"age\": 36}`, so "
        "you look values up by name)).",
        why="Dictionaries find a value by its key almost instantly((, however many entries "
        "there are)).",
        facts=(
            "You read a value with `d[key]`((, which raises `KeyError` when the key is "
            "missing)).",
            "`d.get(key, default)` returns a default instead of raising((, which suits optional "
            "fields)).",
            "Keys must be immutable((, such as strings, numbers or tuples)).",
            "JSON objects map naturally onto dictionaries((: `json.loads` returns one)).",
        ),
        tips=(
            "Loop over `d.items()` to get keys and values together((, instead of looking each "
            "key up again)).",
            "Use `.get()` for data from outside((, such as API replies, where a field may be "
            "missing)).",
        ),
        code=(
            'usage = {"input_tokens": 42, "output_tokens": 18}\n'
            'usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]\n'
            'print(usage.get("cached_tokens", 0), usage)\n'
        ),
        code_says="This stores token counts by name, adds a total, and reads a missing key "
        "safely.",
        one_liner='ages = {"Ada": 36, "Alan": 41}',
        related=("lists", "json"),
    ),
    Subject(
        key="loops",
        title="Loops",
        aliases=(
            "loop", "loops", "for loop", "for loops", "while loop", "while loops", "iteration",
            "iterate", "iterating", "looping",
        ),
        what="A loop repeats a block of code((: a `for` loop runs once per item in a sequence, "
        "and a `while` loop runs until its condition becomes false)).",
        why="Loops let a few lines of code handle any number of items((, from three prompts to "
        "three million)).",
        facts=(
            "`for item in items:` visits each item in order((, with no index bookkeeping)).",
            "`range(n)` gives the numbers from 0 up to n minus 1((, which is handy for "
            "counting)).",
            "`break` leaves a loop early((, and `continue` skips to the next round)).",
            "`enumerate(items)` gives each item with its position((, starting at 0 unless you "
            "say otherwise)).",
        ),
        tips=(
            "Make sure a `while` loop can end((, for example by capping the number of "
            "attempts)).",
            "Never change a list while looping over it((; build a new list instead)).",
        ),
        code=(
            "for attempt in range(1, 4):\n"
            '    print(f"attempt {attempt} of 3")\n'
        ),
        code_says="This counts three attempts with a `for` loop over a range.",
        one_liner="for n in range(3): print(n)",
        related=("list_comprehensions", "lists"),
    ),
    Subject(
        key="fstrings",
        title="F-strings",
        aliases=(
            "f-string", "f-strings", "fstring", "fstrings", "formatted string",
            "formatted strings", "string formatting", "format string", "string interpolation",
        ),
        what="An f-string is a string with an `f` before its opening quote that fills in values "
        "between braces((, as in `f\"Hello, {name}\"`)).",
        why="F-strings make messages with numbers easy to read and write((, without joining "
        "pieces by hand)).",
        facts=(
            "Any expression can go inside the braces((, such as `{price * 2}` or "
            "`{name.upper()}`)).",
            "A format spec after a colon controls the look((: `{cost:.4f}` shows four decimals "
            "and `{n:,}` adds thousands separators)).",
            "`{value=}` prints the expression and its value((, which is handy for quick "
            "debugging)).",
        ),
        tips=(
            "Use f-strings for messages people read((, and logging's own `%s` placeholders in "
            "log calls)).",
            "Never build shell commands or SQL from user input with f-strings((; use the "
            "library's safe parameters)).",
        ),
        code=(
            "tokens, cost = 1234, 0.0125\n"
            'print(f"{tokens:,} tokens cost ${cost:.4f}")  # 1,234 tokens cost $0.0125\n'
        ),
        code_says="This formats a token count with a thousands separator and a cost with four "
        "decimals.",
        one_liner='print(f"{1234567:,} tokens")',
        related=("logging",),
    ),
    Subject(
        key="exceptions",
        title="Python exceptions",
        aliases=(
            "exception", "exceptions", "python exception", "python exceptions", "try/except",
            "try except", "try-except", "try and except", "try block", "except block",
            "traceback", "tracebacks",
        ),
        what="An exception is Python's way of signalling that something went wrong((: it stops "
        "the normal flow until a `try`/`except` block handles it)).",
        why="Exceptions let you handle a failure in one place((, instead of checking a return "
        "value after every call)).",
        facts=(
            "Code that might fail goes in `try`((, and the code that recovers goes in "
            "`except SomeError`)).",
            "Catch the specific exception you expect((, such as `KeyError` or "
            "`openai.RateLimitError`, not every error)).",
            "`finally` runs whether or not an error happened((, which suits clean-up such as "
            "closing a file)).",
            "`raise` throws an exception((, and a bare `raise` inside `except` re-raises the one "
            "being handled)).",
        ),
        tips=(
            "Never silence errors with a bare `except: pass`((; at least log what happened)).",
            "Give your own exceptions clear messages((, saying what went wrong and what to do "
            "next)).",
        ),
        code=(
            "try:\n"
            '    value = int("forty-two")\n'
            "except ValueError as err:\n"
            '    print(f"not a number: {err}")\n'
        ),
        code_says="This tries to turn text into a number and handles the `ValueError` instead "
        "of crashing.",
        one_liner='raise ValueError("max_retries must be at least 0")',
        related=("error_handling",),
    ),
    Subject(
        key="classes",
        title="Classes",
        aliases=(
            "class", "classes", "object", "objects", "oop", "object-oriented programming",
            "object oriented programming", "dataclass", "dataclasses", "instance", "instances",
            "method", "methods",
        ),
        what="A class is a blueprint for objects((: it bundles data, called attributes, with "
        "the functions that use it, called methods)).",
        why="Classes keep data and the code that works on it together((, which keeps larger "
        "programs organised)).",
        facts=(
            "`__init__` sets up a new object's attributes((, and it runs each time you create an "
            "object)).",
            "Methods take `self` first((, which is the object the method was called on)).",
            "`@dataclass` writes `__init__` and a readable `repr` for you((, for classes that "
            "mainly hold data)).",
        ),
        tips=(
            "Start with functions and reach for a class when data and behaviour belong "
            "together((, not before)).",
            "Prefer small classes with clear names((, each responsible for one thing)).",
        ),
        code=(
            "from dataclasses import dataclass\n"
            "\n"
            "@dataclass\n"
            "class Usage:\n"
            "    input_tokens: int\n"
            "    output_tokens: int\n"
            "\n"
            "    def total(self):\n"
            "        return self.input_tokens + self.output_tokens\n"
            "\n"
            "print(Usage(12, 30).total())  # 42\n"
        ),
        code_says="This defines a small data class for token usage with one method that adds "
        "the counts.",
        one_liner='class Greeter: greeting = "hello"',
        related=("functions",),
    ),
    Subject(
        key="modules",
        title="Modules and packages",
        aliases=(
            "module", "modules", "import", "imports", "importing", "package", "packages", "pip",
            "pip install", "pypi", "dependency", "dependencies",
            "requirements.txt", "requirements file",
        ),
        what="A module is a Python file whose code you can reuse with `import`((, and a package "
        "is a folder of modules, often installed with `pip`)).",
        why="Modules and packages let you use tested code written by others((, instead of "
        "rewriting it)).",
        facts=(
            "`import json` loads a module from the standard library((, which ships with "
            "Python)).",
            "`pip install openai` downloads a package from PyPI((, into the environment that is "
            "active)).",
            "`from module import name` brings in one name((, so you can write `name` instead of "
            "`module.name`)).",
            "A `requirements.txt` file lists a project's packages((, ideally with exact "
            "versions, so others can reproduce the setup)).",
        ),
        tips=(
            "Pin exact versions for a course or a deployed app((, so next term's install "
            "behaves like today's)).",
            "Install packages inside a virtual environment((, not into the system Python)).",
        ),
        code=(
            "import json\n"
            "from pathlib import Path\n"
            "\n"
            "config = json.loads('{\"max_retries\": 4}')\n"
            'print(config["max_retries"], Path.cwd())\n'
        ),
        code_says="This imports two standard-library modules and uses one function from each.",
        one_liner="import json",
        related=("venv",),
    ),
    Subject(
        key="venv",
        title="Python virtual environments",
        aliases=(
            "virtual environment", "virtual environments", "venv", "virtualenv",
            "python virtual environment", "python virtual environments", "python environment",
            "python environments", "conda environment", "virtual env",
        ),
        what="A virtual environment is a private folder of installed packages for one "
        "project((, so its versions never clash with another project's)).",
        why="Virtual environments matter because two projects often need different versions of "
        "the same package((, and one shared install cannot serve both)).",
        facts=(
            "`python -m venv .venv` creates one((, and activating it makes `python` and `pip` "
            "use it)).",
            "Packages installed while it is active go only into that folder((, leaving the "
            "system Python untouched)).",
            "Deleting the folder removes the environment completely((, and you can rebuild it "
            "from `requirements.txt`)).",
        ),
        tips=(
            "Create one environment per project((, and keep its folder out of version "
            "control)).",
            "Record what you install in `requirements.txt`((, so anyone can recreate the same "
            "environment)).",
        ),
        code=(
            "import subprocess\n"
            "import sys\n"
            "\n"
            'subprocess.run([sys.executable, "-m", "venv", ".venv"], check=True)\n'
            'print("created .venv: activate it, then pip install what the project needs")\n'
        ),
        code_says="This creates a virtual environment in the `.venv` folder with the running "
        "Python.",
        one_liner='subprocess.run([sys.executable, "-m", "venv", ".venv"], check=True)',
        related=("modules", "python"),
    ),
    Subject(
        key="type_hints",
        title="Type hints",
        aliases=(
            "type hint", "type hints", "type annotation", "type annotations", "typing", "mypy",
            "static typing", "type checking", "type checker", "type checkers",
        ),
        what="Type hints are notes in the code that say what type each value should have((, "
        "such as `def count(text: str) -> int`)).",
        why="Type hints let tools like mypy catch mistakes(( before your code runs)).",
        facts=(
            "Python does not enforce hints at run time((: tools and people read them)).",
            "`list[str]` means a list of strings((, and `str | None` means a string or "
            "nothing)).",
            "Hints double as documentation((: a reader sees what a function takes and returns "
            "at a glance)).",
        ),
        tips=(
            "Add hints to function signatures first((, where they help callers most)).",
            "Run a checker such as mypy with your tests((, so the hints stay true)).",
        ),
        code=(
            "def count_words(text: str, minimum: int = 1) -> int:\n"
            "    return sum(1 for word in text.split() if len(word) >= minimum)\n"
            "\n"
            'print(count_words("type hints help readers"))  # 4\n'
        ),
        code_says="This annotates a function's parameters and result, so a checker can verify "
        "every call.",
        one_liner="def area(width: float, height: float) -> float: return width * height",
        related=("functions",),
    ),
    Subject(
        key="generators",
        title="Generators",
        aliases=(
            "generator", "generators", "yield", "iterator", "iterators", "generator expression",
            "generator expressions", "lazy evaluation",
        ),
        what="A generator is a function that uses `yield` to hand out values one at a time((, "
        "pausing between them instead of building a whole list)).",
        why="Generators keep memory use small((, so you can process a huge file or an endless "
        "stream item by item)).",
        facts=(
            "Calling a generator function returns a generator object((; its code runs only as "
            "you ask for values)).",
            "A `for` loop pulls values from a generator until it is exhausted((, and then the "
            "loop ends)).",
            "A generator expression looks like a list comprehension in round brackets((, such "
            "as `(n * n for n in numbers)`)).",
        ),
        tips=(
            "Use a generator to read a large file line by line((, instead of loading it "
            "whole)).",
            "Remember that a generator can be used up only once((; make a new one to start "
            "again)).",
        ),
        code=(
            "def countdown(n):\n"
            "    while n > 0:\n"
            "        yield n\n"
            "        n -= 1\n"
            "\n"
            "print(list(countdown(3)))  # [3, 2, 1]\n"
        ),
        code_says="This generator yields 3, 2 and 1, one value at a time.",
        one_liner="total = sum(n * n for n in range(1_000_000))",
        related=("list_comprehensions", "loops"),
    ),
    Subject(
        key="async",
        title="Async Python",
        aliases=(
            "async", "asyncio", "await", "async/await", "async await", "coroutine",
            "coroutines", "concurrency", "concurrent requests", "parallel requests",
            "asynchronous", "asynchronous code", "event loop", "threads", "threading",
            "concurrently", "in parallel",
        ),
        what="Async code lets one program wait for many slow operations at once((: `async def` "
        "defines a coroutine, and `await` pauses it while it waits)).",
        why="Async matters for API work because most of a request's time is spent waiting on "
        "the network((, so many requests can wait together instead of one after another)).",
        facts=(
            "`asyncio.gather` runs several coroutines concurrently((, returning all their "
            "results in order)).",
            "The SDK has an `AsyncOpenAI` client((, whose methods you `await`)).",
            "Concurrency multiplies your request rate((, so pair it with a limiter that keeps "
            "you under RPM and TPM)).",
            "A semaphore caps how many requests run at once((, as `asyncio.Semaphore(5)` allows "
            "five)).",
        ),
        tips=(
            "Limit concurrency((: a thousand simultaneous requests mostly produce 429 "
            "errors)).",
            "Never call `time.sleep` in async code((; `await asyncio.sleep` lets other tasks "
            "keep running)).",
        ),
        code=(
            "import asyncio\n"
            "\n"
            "async def fetch(n):\n"
            "    await asyncio.sleep(0.01)  # stands in for a network call\n"
            "    return n * 2\n"
            "\n"
            "async def main():\n"
            "    print(await asyncio.gather(*(fetch(n) for n in range(3))))  # [0, 2, 4]\n"
            "\n"
            "asyncio.run(main())\n"
        ),
        code_says="This runs three coroutines concurrently with `asyncio.gather` and prints "
        "their results in order.",
        one_liner="asyncio.run(main())",
        related=("rate_limits", "token_bucket"),
    ),
    Subject(
        key="context_managers",
        title="Context managers",
        aliases=(
            "context manager", "context managers", "with statement", "with statements",
            "with block", "with open", "contextlib",
        ),
        what="A context manager sets something up and reliably cleans it up((: the `with` "
        "statement opens a file or connection and closes it even if an error happens)).",
        why="Context managers make clean-up impossible to forget((, even when an exception "
        "cuts a block short)).",
        facts=(
            "`with open(path) as f:` closes the file when the block ends((, however it ends)).",
            "An object becomes a context manager by defining `__enter__` and `__exit__`((, the "
            "set-up and clean-up steps)).",
            "`contextlib.contextmanager` turns a generator into a context manager((, with the "
            "set-up before `yield` and the clean-up after it)).",
        ),
        tips=(
            "Use `with` for anything you must close((: files, network clients, locks and "
            "temporary servers)).",
            "Keep a `with` block short((, so the resource is released soon)).",
        ),
        code=(
            "from pathlib import Path\n"
            "\n"
            'Path("notes.txt").write_text("tokens\\nretries\\n")\n'
            'with open("notes.txt") as f:\n'
            "    print(f.readline().strip())  # the file is closed after this block\n"
        ),
        code_says="This opens a file in a `with` block, so it is closed again as soon as the "
        "block ends.",
        one_liner='with open("notes.txt") as f: text = f.read()',
        related=("exceptions",),
    ),
    Subject(
        key="lambda",
        title="Lambdas",
        aliases=(
            "lambda", "lambdas", "lambda function", "lambda functions", "lambda expression",
            "anonymous function", "anonymous functions",
        ),
        what="A lambda is a small unnamed function written as one expression((, like "
        "`lambda x: x * 2`)).",
        why="Lambdas suit a function that is needed only once((, such as the `key` for "
        "sorting, where naming it would be clutter)).",
        facts=(
            "A lambda can hold only one expression((, whose value it returns "
            "automatically)).",
            "Lambdas often appear as arguments((, as in `sorted(pairs, key=lambda p: "
            "p[1])`)).",
            "Anything a lambda does, a normal `def` can do((, with a name and a docstring)).",
        ),
        tips=(
            "Switch to `def` when a lambda grows hard to read((, or when you need it twice)).",
            "Avoid assigning a lambda to a name((; that is what `def` is for)).",
        ),
        code=(
            'words = ["retry", "jitter", "backoff"]\n'
            "print(sorted(words, key=lambda w: len(w)))  # ['retry', 'jitter', 'backoff']\n"
        ),
        code_says="This sorts words by length with a lambda as the sort key.",
        one_liner='print(sorted(["bb", "a", "ccc"], key=lambda s: len(s)))',
        related=("functions",),
    ),
    Subject(
        key="csv",
        title="CSV files",
        aliases=(
            "csv", "csv file", "csv files", "comma-separated values", "comma separated values",
            "spreadsheet", "spreadsheets",
        ),
        what="A CSV file is plain text that stores a table((: each line is a row, and commas "
        "separate the columns)).",
        why="CSV files matter because almost every tool can read and write them((, from "
        "spreadsheets to databases and Python)).",
        facts=(
            "The first line usually holds the column names((, and every later line holds one "
            "record)).",
            "Values that contain commas are wrapped in quotes((, so they stay in one column)).",
            "Python's `csv` module reads and writes the format correctly((, quotes and all)).",
        ),
        tips=(
            "Use `csv.DictReader` to get each row as a dictionary((, keyed by the column "
            "names)).",
            "State the encoding when you open the file((, which is usually UTF-8)).",
        ),
        code=(
            "import csv\n"
            "import io\n"
            "\n"
            'data = io.StringIO("name,tokens\\nintro,120\\nsummary,45\\n")\n'
            "for row in csv.DictReader(data):\n"
            '    print(row["name"], int(row["tokens"]))\n'
        ),
        code_says="This reads a small CSV table row by row, with the header as the keys.",
        one_liner='rows = list(csv.DictReader(open("results.csv", encoding="utf-8")))',
        related=("json",),
    ),
    # --- HTTP and errors ----------------------------------------------------------------------
    Subject(
        key="http",
        title="HTTP",
        aliases=(
            "http", "https", "http request", "http requests", "http method", "http methods",
            "get request", "post request", "http protocol", "web request", "web requests",
            "http header", "http headers", "headers",
        ),
        what="HTTP is the protocol web clients and servers use to talk((: the client sends a "
        "request with a method and a URL, and the server answers with a status code, headers "
        "and a body)).",
        why="HTTP matters for API work because every API call is an HTTP request((, so its "
        "status codes and headers tell you what happened)).",
        facts=(
            "`GET` asks for data and `POST` sends data((, such as a prompt for a model)).",
            "Headers carry extra information((, such as the API key in `Authorization` or "
            "rate-limit counts in the reply)).",
            "HTTPS is HTTP over an encrypted connection((, which keeps keys and prompts private "
            "in transit)).",
        ),
        tips=(
            "Log the status code and request id of every failed call((, since support will ask "
            "for them)).",
            "Set a timeout on every request((, so a silent server cannot hang your program)).",
        ),
        code=(
            "from urllib.request import urlopen\n"
            "\n"
            'with urlopen("https://example.com", timeout=10) as response:\n'
            '    print(response.status, response.headers["Content-Type"])\n'
        ),
        code_says="This sends one GET request with a timeout and prints the status code and one "
        "header.",
        one_liner='status = urlopen("https://example.com", timeout=10).status',
        related=("status_codes", "api"),
        generic=True,
    ),
    Subject(
        key="status_codes",
        title="HTTP status codes",
        aliases=(
            "status code", "status codes", "http status code", "http status codes",
            "http status", "http statuses", "http code", "http codes", "response code",
            "response codes", "error code", "error codes", "http error", "http errors",
        ),
        what="An HTTP status code is the three-digit number at the start of every response((, "
        "saying whether the request worked and, if not, whose fault it was)).",
        why="HTTP status codes tell your code what to do next((: use the answer, fix the "
        "request, or wait and retry)).",
        facts=(
            "Codes from 200 to 299 mean success((, and 200 OK is the usual one)).",
            "Codes from 400 to 499 mean the request was wrong((: 400 bad input, 401 bad key, 404 "
            "wrong address and 429 too many requests)).",
            "Codes from 500 to 599 mean the server failed((, such as 500 for an internal error "
            "or 503 when it is overloaded)).",
            "A 429 and the 5xx codes are usually temporary((, while most other 4xx codes need a "
            "fix before retrying)).",
        ),
        tips=(
            "Retry 408, 409, 429 and 5xx responses with backoff((, and fail fast on 400, 401, "
            "403 and 404)).",
            "Read the error body too((: it often names the exact parameter or limit that "
            "failed)).",
        ),
        code=(
            "import openai\n"
            "\n"
            "RETRIABLE = {408, 409, 429}\n"
            "try:\n"
            '    client.responses.create(model="$MODEL", input="Hi")\n'
            "except openai.APIStatusError as err:\n"
            "    retry = err.status_code in RETRIABLE or err.status_code >= 500\n"
            '    print(err.status_code, "retry later" if retry else "fix the request")\n'
        ),
        code_says="This reads the status code of a failed call and decides whether a retry "
        "makes sense.",
        one_liner="retry = status in (408, 409, 429) or status >= 500",
        items=(
            "200 OK: the request worked and the body holds the result.",
            "400 Bad Request: the request itself is wrong, so fix it before sending again.",
            "401 Unauthorized: the API key is missing or invalid.",
            "404 Not Found: the address or the resource does not exist.",
            "429 Too Many Requests: you hit a rate limit or ran out of quota.",
            "500 Internal Server Error: the server failed, and a retry often works.",
            "503 Service Unavailable: the server is overloaded or briefly down.",
            "403 Forbidden: the key is valid but not allowed to do this.",
            "201 Created: the request worked and made something new.",
            "408 Request Timeout: the server gave up waiting for the request.",
            "409 Conflict: the request clashes with the current state of the resource.",
            "422 Unprocessable Entity: the request is well formed but its content is invalid.",
            "502 Bad Gateway: a server in between got a bad reply from the one behind it.",
            "504 Gateway Timeout: a server in between waited too long for an answer.",
        ),
        related=("http_429", "server_errors", "client_errors"),
    ),
    Subject(
        key="http_429",
        title="429 Too Many Requests",
        aliases=(
            "429", "429 error", "429 errors", "http 429", "error 429", "status 429",
            "too many requests", "ratelimiterror", "rate limit error", "rate limit errors",
            "retry-after", "retry-after header", "retry-after-ms",
        ),
        what="A 429 error, Too Many Requests, means the server refused a request because you "
        "are over a limit((: a rate limit, or your quota)).",
        why="A 429 error needs the right response for its cause((: wait and retry for a rate "
        "limit, but stop and fix billing for an exhausted quota)).",
        facts=(
            "A rate-limit 429 has the code `rate_limit_exceeded`((, and it clears after a short "
            "wait)).",
            "A quota 429 has the type `insufficient_quota`((, and no amount of waiting fixes "
            "it)).",
            "The `retry-after` header says how many seconds to wait((, and `retry-after-ms` "
            "gives the same in milliseconds)).",
            "The Python SDK raises `openai.RateLimitError` for a 429((, once its own retries "
            "run out)).",
        ),
        tips=(
            "Honour `retry-after` when it is present((, and use exponential backoff with jitter "
            "when it is not)).",
            "Slow down for good after repeated 429s((, for example with a client-side rate "
            "limiter)).",
        ),
        code=(
            "import time\n"
            "\n"
            "import openai\n"
            "\n"
            "try:\n"
            '    client.responses.create(model="$MODEL", input="Hi")\n'
            "except openai.RateLimitError as err:\n"
            '    wait_s = float(err.response.headers.get("retry-after", "1"))\n'
            "    time.sleep(wait_s)  # then try again\n"
        ),
        code_says="This catches a 429 and waits as long as the server's `retry-after` header "
        "asks.",
        one_liner='wait_s = float(err.response.headers.get("retry-after", "1"))',
        related=("rate_limits", "quota", "backoff"),
    ),
    Subject(
        key="server_errors",
        title="Server errors",
        aliases=(
            "server error", "server errors", "5xx", "5xx error", "5xx errors", "500",
            "500 error", "500 errors", "internal server error", "internalservererror", "502",
            "bad gateway", "503", "503 error", "service unavailable", "504", "gateway timeout",
            "overloaded", "server overloaded", "overloaded server", "outage", "outages",
        ),
        what="A server error, a 5xx status such as 500 or 503, means the service failed to "
        "handle a request(( that may have been perfectly fine)).",
        why="Server errors are usually temporary((, so a careful retry often succeeds where "
        "giving up would fail the user)).",
        facts=(
            "A 500 means something broke inside the server((, and a 503 means it is overloaded "
            "or briefly down)).",
            "The Python SDK retries 5xx errors twice by default((, with a short backoff)).",
            "`openai.InternalServerError` is raised once the retries run out((, carrying the "
            "status and a request id)).",
        ),
        tips=(
            "Retry with exponential backoff and jitter((, and cap the attempts so an outage "
            "fails fast)).",
            "Log the request id((, since it lets the provider trace what went wrong)).",
        ),
        code=(
            "import openai\n"
            "\n"
            "try:\n"
            '    client.responses.create(model="$MODEL", input="Hi")\n'
            "except openai.InternalServerError as err:\n"
            '    print("server failed:", err.status_code, err.request_id)\n'
        ),
        code_says="This catches a server error and prints its status and request id for the "
        "logs.",
        one_liner="transient = status_code >= 500",
        related=("retries", "transient_errors", "status_codes"),
    ),
    Subject(
        key="client_errors",
        title="Client errors",
        aliases=(
            "client error", "client errors", "4xx", "4xx error", "4xx errors", "400",
            "400 error", "bad request", "badrequesterror", "401", "401 error", "unauthorized",
            "authentication error", "authentication errors", "authenticationerror",
            "invalid api key", "403", "forbidden", "permission denied", "404", "404 error",
            "not found", "422", "unprocessable entity",
        ),
        what="A client error, a 4xx status such as 400 or 401, means the request itself is "
        "wrong((: bad input, a bad key or a missing resource)).",
        why="Client errors matter because retrying the same request gives the same error((, so "
        "the code or the settings must change first)).",
        facts=(
            "A 400 means invalid input((, such as an unknown parameter or a prompt longer than "
            "the context window)).",
            "A 401 means the API key is missing or wrong((, and a 403 means the key lacks "
            "permission)).",
            "A 404 means the address or the model does not exist((, often because of a "
            "typo)).",
            "The error body names the problem((, usually with a `param` and a `code` you can act "
            "on)).",
        ),
        tips=(
            "Fail fast on 400, 401, 403 and 404((: show the message and do not retry)).",
            "Validate input before sending((, so most 400 errors never happen)).",
        ),
        code=(
            "import openai\n"
            "\n"
            "try:\n"
            '    client.responses.create(model="$MODEL", input="")\n'
            "except openai.BadRequestError as err:\n"
            '    print("fix the request:", err.code, err.param)\n'
        ),
        code_says="This catches a 400 and prints which parameter to fix, without retrying.",
        one_liner="permanent = 400 <= status_code < 500 and status_code not in (408, 409, 429)",
        related=("status_codes", "error_handling"),
    ),
    Subject(
        key="rate_limits",
        title="Rate limits",
        aliases=(
            "rate limit", "rate limits", "rate limiting", "rate-limit", "rate-limits",
            "rate limited", "rate-limited", "ratelimit", "ratelimits", "throttling", "throttle",
            "throttled", "api rate limit", "api rate limits", "usage limit", "usage limits",
        ),
        what="A rate limit is a cap on how much you may use an API in a period((, such as 500 "
        "requests or 200,000 tokens per minute)).",
        why="Rate limits matter because going over one gets requests rejected with 429 "
        "errors((, which slows your app unless you plan for it)).",
        facts=(
            "OpenAI limits both requests per minute and tokens per minute((, and whichever you "
            "hit first applies)).",
            "A request reserves its input tokens plus its output cap((, so a huge "
            "`max_output_tokens` uses up TPM fast)).",
            "Headers such as `x-ratelimit-remaining-requests` show how much room is left((, so "
            "you can slow down before a 429)).",
            "Limits depend on your account's usage tier((, and they rise as the account "
            "grows)).",
        ),
        tips=(
            "Pace requests on the client((, with a limiter that stays under both RPM and "
            "TPM)).",
            "Retry a 429 with backoff and jitter((, honouring `retry-after` when the server "
            "sends it)).",
        ),
        code=(
            "import time\n"
            "\n"
            "RPM = 60\n"
            'for prompt in ["What is a token?", "Define jitter.", "Explain retries."]:\n'
            '    client.responses.create(model="$MODEL", input=prompt)\n'
            "    time.sleep(60 / RPM)  # at most one request per second\n"
        ),
        code_says="This paces requests so they stay under 60 requests per minute.",
        one_liner="time.sleep(60 / requests_per_minute)",
        related=("rpm_tpm", "http_429", "backoff", "token_bucket"),
    ),
    Subject(
        key="rpm_tpm",
        title="RPM and TPM",
        aliases=(
            "rpm", "tpm", "rpm and tpm", "rpm/tpm", "requests per minute", "tokens per minute",
            "request per minute", "token per minute", "x-ratelimit", "rate limit headers",
            "rate-limit headers", "x-ratelimit headers", "rpd", "requests per day",
        ),
        what="RPM and TPM are the two rate limits on most model APIs((: requests per minute "
        "counts calls, and tokens per minute counts the tokens they use)).",
        why="RPM and TPM matter together because either can stop you((: many tiny requests hit "
        "RPM, and a few huge ones hit TPM)).",
        facts=(
            "TPM counts a request's input tokens plus its output cap((, reserved when the "
            "request arrives)).",
            "Both limits refill continuously((, so waiting a few seconds frees a little "
            "room)).",
            "`x-ratelimit-remaining-tokens` and `x-ratelimit-reset-tokens` report on TPM((, and "
            "the `-requests` headers report on RPM)).",
        ),
        tips=(
            "Estimate each request's tokens before sending((, and make your limiter reserve the "
            "same amount as the server)).",
            "Lower `max_output_tokens` when TPM is your bottleneck((, since the cap is reserved "
            "in full)).",
        ),
        code=(
            'raw = client.responses.with_raw_response.create(model="$MODEL", input="Hi")\n'
            'print("requests left:", raw.headers["x-ratelimit-remaining-requests"])\n'
            'print("tokens left:", raw.headers["x-ratelimit-remaining-tokens"])\n'
        ),
        code_says="This reads the rate-limit headers of one response to see how many requests "
        "and tokens are left.",
        one_liner='requests_left = int(headers["x-ratelimit-remaining-requests"])',
        related=("rate_limits", "token_bucket"),
    ),
    Subject(
        key="quota",
        title="Quota errors",
        aliases=(
            "quota", "quotas", "insufficient_quota", "insufficient quota", "quota error",
            "quota errors", "quota exceeded", "billing limit", "billing limits", "spend limit",
            "spend limits", "spending limit", "spending limits", "credits", "credit balance",
            "usage quota",
        ),
        what="A quota error is a 429 with the type `insufficient_quota`((: your account has used "
        "its credit or reached its spending limit)).",
        why="Quota errors look like rate limits but are not temporary((, so retrying them only "
        "wastes time)).",
        facts=(
            "Waiting does not clear a quota error((; adding credit or raising the spend limit "
            "does)).",
            "The SDK still retries a quota 429 by default((, since it cannot tell the two kinds "
            "apart by status)).",
            "Read `err.code` or the error type((, to tell a quota error from a rate limit)).",
        ),
        tips=(
            "Treat `insufficient_quota` as permanent((: stop, alert someone and do not "
            "retry)).",
            "Set a budget and watch your spending((, so you hear about it before your users "
            "do)).",
        ),
        code=(
            "import openai\n"
            "\n"
            "try:\n"
            '    client.responses.create(model="$MODEL", input="Hi")\n'
            "except openai.RateLimitError as err:\n"
            '    if err.code == "insufficient_quota":\n'
            '        raise SystemExit("Out of credit: add funds; retrying will not help.")\n'
        ),
        code_says="This tells a quota error apart from a rate limit and stops instead of "
        "retrying.",
        one_liner='is_quota = err.code == "insufficient_quota"',
        related=("http_429", "rate_limits", "cost"),
    ),
    Subject(
        key="token_bucket",
        title="Token buckets",
        aliases=(
            "token bucket", "token buckets", "leaky bucket", "rate limiter", "rate limiters",
            "client-side limiter", "client-side rate limiter", "client side rate limiting",
            "client-side rate limiting", "limiter", "limiters", "pace requests", "pacing",
            "pacing requests", "request pacing", "client side", "client-side",
        ),
        what="A token bucket is a rate-limiting method where each request takes tokens from a "
        "bucket that refills at a steady rate((, so short bursts are allowed but the average "
        "is capped)).",
        why="A token bucket on the client paces requests below the server's limits((, so 429 "
        "errors rarely happen at all)).",
        facts=(
            "The bucket's size sets the largest burst((, and its refill rate sets the long-run "
            "pace)).",
            "A request that needs more tokens than are left waits((, until enough have "
            "refilled)).",
            "One bucket can track requests and another tokens((, matching RPM and TPM)).",
            "A request bigger than the whole bucket can never fit((, so it should fail at once "
            "with a clear error)).",
        ),
        tips=(
            "Refill from a monotonic clock((, so a change of system time cannot break the "
            "pacing)).",
            "Share one limiter across all workers((, since the server counts them all "
            "together)).",
        ),
        code=(
            "import time\n"
            "\n"
            "class TokenBucket:\n"
            "    def __init__(self, rate_per_s, capacity):\n"
            "        self.rate, self.capacity = rate_per_s, capacity\n"
            "        self.tokens, self.last = capacity, time.monotonic()\n"
            "\n"
            "    def take(self, n=1):\n"
            "        while True:\n"
            "            now = time.monotonic()\n"
            "            refill = (now - self.last) * self.rate\n"
            "            self.tokens, self.last = min(self.capacity, self.tokens + refill), now\n"
            "            if self.tokens >= n:\n"
            "                self.tokens -= n\n"
            "                return\n"
            "            time.sleep((n - self.tokens) / self.rate)\n"
        ),
        code_says="This bucket refills at a steady rate and makes a caller wait until enough "
        "tokens are available.",
        one_liner="tokens = min(capacity, tokens + elapsed_s * refill_per_s)",
        related=("rate_limits", "rpm_tpm"),
    ),
    Subject(
        key="backoff",
        title="Exponential backoff",
        aliases=(
            "backoff", "back off", "back-off", "backing off", "exponential backoff",
            "exponential back-off", "exponential back off", "backoff strategy", "retry delay",
            "retry delays", "wait time", "wait times",
        ),
        what="Exponential backoff means waiting longer after each failed attempt((, doubling "
        "the delay each time, such as 1, 2, 4 and 8 seconds)).",
        why="Apps should use exponential backoff because it gives a struggling server room to "
        "recover((, instead of hammering it with instant retries)).",
        facts=(
            "The delay is usually `base * 2 ** attempt`((, capped at a maximum such as 60 "
            "seconds)).",
            "Backoff needs jitter((, a random part of each delay, so clients do not retry in "
            "lockstep)).",
            "The number of attempts needs a cap too((, so a lasting outage ends in a clear "
            "error instead of endless waiting)).",
            "A `retry-after` header from the server overrides your own schedule((, since the "
            "server knows best)).",
        ),
        tips=(
            "Back off only on transient errors((: 429s, 5xx errors, timeouts and dropped "
            "connections)).",
            "Use a well-tested library such as tenacity in production((, and write backoff by "
            "hand only to learn how it works)).",
        ),
        code=(
            "import random\n"
            "\n"
            "def backoff_delay(attempt, base_s=0.5, cap_s=60.0):\n"
            '    """Seconds to wait before retry number `attempt`, with full jitter."""\n'
            "    return random.uniform(0, min(cap_s, base_s * 2**attempt))\n"
            "\n"
            "print([round(backoff_delay(a), 2) for a in range(5)])\n"
        ),
        code_says="This computes a capped, exponentially growing delay with full jitter for "
        "each retry.",
        one_liner="delay_s = min(60.0, 0.5 * 2**attempt)",
        related=("jitter", "retries", "transient_errors"),
    ),
    Subject(
        key="jitter",
        title="Jitter",
        aliases=(
            "jitter", "full jitter", "equal jitter", "decorrelated jitter", "random jitter",
            "thundering herd", "thundering herd problem",
        ),
        what="Jitter is a random amount added to or taken from each retry delay((, so clients "
        "that failed together do not all retry at the same moment)).",
        why="Jitter matters because without it many clients retry in sync((, hit the server "
        "together and fail together again)).",
        facts=(
            "Full jitter picks a delay anywhere from zero to the backoff value((, which spreads "
            "retries out the most)).",
            "Equal jitter keeps half the delay fixed and randomises the other half((, so no "
            "wait is very short)).",
            "Seeding the random generator makes jittered delays repeatable((, which is how "
            "tests check them)).",
        ),
        tips=(
            "Always combine jitter with exponential backoff((; either one alone works far "
            "worse)).",
            "Test jitter with an injected random source((, not by sleeping for real)).",
        ),
        code=(
            "import random\n"
            "\n"
            "rng = random.Random(7)  # seeded, so the delays repeat\n"
            "delays = [rng.uniform(0, min(8.0, 0.5 * 2**attempt)) for attempt in range(4)]\n"
            "print([round(d, 2) for d in delays])\n"
        ),
        code_says="This draws a full-jitter delay for each of four retries from a seeded random "
        "generator.",
        one_liner="delay_s = random.uniform(0, backoff_s)",
        related=("backoff", "retries"),
    ),
    Subject(
        key="retries",
        title="Retries",
        aliases=(
            "retry", "retries", "retrying", "retry logic", "retry loop", "retry loops",
            "retry strategy", "retry policy", "tenacity", "max_retries", "max retries",
            "retry wrapper", "retry mechanism", "retry decorator", "retry handling", "retried",
        ),
        what="A retry sends a failed request again((, in the hope that a temporary problem has "
        "cleared)).",
        why="Retry logic matters in APIs because networks and servers fail briefly all the "
        "time((, and a careful retry turns those failures into successes)).",
        facts=(
            "Retry only errors that can pass((: 429 rate limits, 5xx server errors, timeouts and "
            "dropped connections)).",
            "Never retry a 400, 401, 403 or 404((: the same request will fail the same way)).",
            "Cap retries at a few attempts((, so a lasting outage fails fast with a clear error "
            "instead of hanging)).",
            "Wait between attempts with exponential backoff and jitter((, never in a tight "
            "loop)).",
            "The OpenAI SDK already retries twice by default((; set `max_retries=0` when your "
            "own code does the retrying)).",
        ),
        tips=(
            "Log each retry with the attempt number and the error((, so patterns show up in "
            "your logs)).",
            "Re-raise the last error when retries run out((, instead of returning nothing)).",
        ),
        code=(
            "import random\n"
            "import time\n"
            "\n"
            "import openai\n"
            "\n"
            "TRANSIENT = (openai.RateLimitError, openai.APIConnectionError, "
            "openai.InternalServerError)\n"
            "\n"
            "def create_with_retry(client, max_retries=4, **request):\n"
            "    for attempt in range(max_retries + 1):\n"
            "        try:\n"
            "            return client.responses.create(**request)\n"
            "        except TRANSIENT:\n"
            "            if attempt == max_retries:\n"
            "                raise\n"
            "            time.sleep(random.uniform(0, min(8.0, 0.5 * 2**attempt)))\n"
        ),
        code_says="This retries rate limits, connection errors and server errors with capped, "
        "jittered backoff, and re-raises the last error.",
        one_liner="client = OpenAI(max_retries=4)  # the SDK retries transient errors for you",
        related=("backoff", "jitter", "transient_errors"),
    ),
    Subject(
        key="transient_errors",
        title="Transient errors",
        aliases=(
            "transient error", "transient errors", "transient api error", "transient api errors",
            "transient failure", "transient failures", "transient fault", "transient faults",
            "temporary error", "temporary errors", "temporary failure", "temporary failures",
            "retriable error", "retriable errors", "retryable error", "retryable errors",
            "intermittent error", "intermittent errors", "flaky errors", "transient",
        ),
        what="A transient API error is a temporary failure that may succeed if you simply try "
        "again((, such as a 429 rate limit, a 503 overload, a timeout or a dropped "
        "connection)).",
        why="Transient errors are normal at scale((: handled with a retry they go unnoticed, "
        "and unhandled they break your app at random)).",
        facts=(
            "The request itself was fine((; the problem lay in the network or the server's "
            "state at that moment)).",
            "Permanent errors are the opposite((: a bad key or invalid input fails the same way "
            "every time)).",
            "The SDK raises `APIConnectionError`, `APITimeoutError`, `RateLimitError` or "
            "`InternalServerError` for them((, so you can catch exactly these)).",
        ),
        tips=(
            "Retry transient errors with backoff, jitter and a cap((, and fail fast on "
            "everything else)).",
            "Count them in your logs((: a rising rate of transient errors is an early "
            "warning)).",
        ),
        code=(
            "import openai\n"
            "\n"
            "TRANSIENT = (openai.RateLimitError, openai.APIConnectionError, "
            "openai.InternalServerError)\n"
            "\n"
            "def is_transient(err):\n"
            '    if isinstance(err, openai.RateLimitError) and err.code == "insufficient_quota":\n'
            "        return False  # out of credit: waiting will not help\n"
            "    return isinstance(err, TRANSIENT)\n"
        ),
        code_says="This decides whether an SDK error is worth retrying, and treats an exhausted "
        "quota as permanent.",
        one_liner="transient = status_code == 429 or status_code >= 500",
        related=("retries", "server_errors", "timeouts"),
    ),
    Subject(
        key="timeouts",
        title="Timeouts",
        aliases=(
            "timeout", "timeouts", "time out", "time-out", "timed out", "request timeout",
            "request timeouts", "apitimeouterror", "read timeout", "connect timeout",
            "hanging request", "hanging requests", "hung request",
        ),
        what="A timeout is the longest your code will wait for a response((, after which it "
        "gives up and raises an error)).",
        why="Timeouts matter because without one a stalled connection can hang your program "
        "forever((, holding a worker and blocking everything behind it)).",
        facts=(
            "The OpenAI SDK waits up to 10 minutes by default((; pass `timeout=` to the client "
            "or to one call to change that)).",
            "A timed-out request raises `openai.APITimeoutError`((, and the SDK retries it like "
            "other transient errors)).",
            "A timeout does not mean the server did nothing((: the request may have finished, "
            "and been billed, after you stopped waiting)).",
            "Connect and read timeouts can be set separately((, since connecting should be "
            "quick and generating can be slow)).",
        ),
        tips=(
            "Set timeouts from measured latency((, with room for long answers, not from a "
            "guess)).",
            "Keep the total time bounded((: the per-try timeout times the attempts, plus "
            "backoff, must fit what your user will wait)).",
        ),
        code=(
            "import openai\n"
            "\n"
            "client = openai.OpenAI(timeout=20.0, max_retries=2)\n"
            "try:\n"
            '    client.responses.create(model="$MODEL", input="Hi")\n'
            "except openai.APITimeoutError:\n"
            '    print("no answer within 20 s, even after the SDK\'s retries")\n'
        ),
        code_says="This gives every request 20 seconds and handles the timeout error when the "
        "server stays silent.",
        one_liner="client = OpenAI(timeout=20.0)",
        related=("transient_errors", "retries", "latency"),
    ),
    Subject(
        key="error_handling",
        title="Error handling",
        aliases=(
            "error handling", "handling errors", "handle errors", "handling error",
            "exception handling", "handling exceptions", "error", "errors", "api error",
            "api errors", "failure handling", "failures", "failure", "resilience",
            "reliability", "robustness", "graceful degradation", "fallback", "fallbacks",
        ),
        what="Error handling is planning what your program does when something fails((: which "
        "errors to retry, which to report and what the user sees)).",
        why="Error handling matters in AI apps because failures happen even when your code is "
        "correct((: networks drop, limits are hit and servers get busy)).",
        facts=(
            "Sort errors into transient ones to retry and permanent ones to report((, since each "
            "needs a different response)).",
            "Catch the SDK's specific exceptions((, such as `RateLimitError` or "
            "`AuthenticationError`, rather than a bare `Exception`)).",
            "Return a structured result for every outcome((: a success flag, the output, the "
            "error type, a message and the attempts)).",
            "Log what failed with its status and request id((, but never the API key)).",
            "Never retry a permanent error((, such as a 400, 401, 403 or 404, or an "
            "`insufficient_quota` 429: it fails the same way every time)).",
        ),
        tips=(
            "Show users a clear message and a next step((, not a raw traceback)).",
            "Test the failure paths on purpose((, with injected faults, not only the happy "
            "path)).",
        ),
        code=(
            "import openai\n"
            "\n"
            "def safe_answer(client, prompt):\n"
            "    try:\n"
            '        response = client.responses.create(model="$MODEL", input=prompt)\n'
            "    except openai.AuthenticationError:\n"
            '        return {"ok": False, "error": "auth", "message": "Check OPENAI_API_KEY."}\n'
            "    except openai.APIError as err:\n"
            '        return {"ok": False, "error": type(err).__name__, "message": str(err)}\n'
            '    return {"ok": True, "output": response.output_text}\n'
        ),
        code_says="This turns every outcome of a call into a small result dictionary, so the "
        "caller never meets a raw exception.",
        one_liner='result = {"ok": False, "error_type": "rate_limit", "message": "try later"}',
        related=("transient_errors", "logging", "exceptions"),
    ),
    Subject(
        key="logging",
        title="Logging",
        aliases=(
            "logging", "log", "logs", "logger", "loggers", "log level", "log levels",
            "structured logging", "log message", "log messages", "log file",
        ),
        what="Logging is recording what your program does as it runs((, as timestamped lines "
        "with a level such as INFO, WARNING or ERROR)).",
        why="Logging turns a vague failure into a clear story((: which request, which attempt "
        "and which error, at what time)).",
        facts=(
            "Python's `logging` module sends messages through named loggers((, so each part of "
            "an app can be tuned separately)).",
            "Levels filter the noise((: DEBUG for detail, INFO for normal events, WARNING for "
            "retries and ERROR for failures)).",
            'Passing values as arguments, as in `logger.warning("retry %d", attempt)`, defers '
            "formatting(( until a line is actually kept)).",
        ),
        tips=(
            "Log the attempt, status code and request id of each failure((, since those let you "
            "trace it later)).",
            "Never log API keys or whole prompts with personal data((; log a length or a hash "
            "instead)).",
        ),
        code=(
            "import logging\n"
            "\n"
            'logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s '
            '%(message)s")\n'
            'logger = logging.getLogger("course")\n'
            'logger.warning("attempt %d/%d failed: %s; retrying in %.1f s", 1, 4, '
            '"rate_limit", 0.7)\n'
        ),
        code_says="This sets up timestamped log lines and records one retry with its attempt, "
        "error and delay.",
        one_liner='logging.getLogger("course").info("request ok in %.2f s", 0.42)',
        related=("error_handling", "retries"),
    ),
    # --- data formats and output --------------------------------------------------------------
    Subject(
        key="json",
        title="JSON",
        aliases=(
            "json", "json format", "json data", "javascript object notation", "json.loads",
            "json.dumps", "parsing json", "json parsing", "parse json", "json output",
        ),
        what="JSON is a plain-text format for structured data((: objects in braces, lists in "
        "square brackets, and strings, numbers, booleans and null)).",
        why="JSON matters because programs can parse it reliably((, so APIs send data in it and "
        "you can ask a model for machine-readable answers)).",
        facts=(
            "`json.loads` turns JSON text into Python dictionaries and lists((, and "
            "`json.dumps` goes the other way)).",
            "Keys and strings use double quotes((; single quotes and trailing commas are "
            "invalid)).",
            "A JSON answer cut off by `max_output_tokens` is invalid((, so `json.loads` raises "
            "`JSONDecodeError`)).",
        ),
        tips=(
            'Check that `status` is `"completed"` before parsing a model\'s JSON((, so a cut '
            "answer fails with a clear message)).",
            "Use structured output with a schema((, when the shape must be exact)).",
        ),
        code=(
            "import json\n"
            "\n"
            'text = \'{"topic": "tokens", "points": ["pieces of text", "billed"]}\'\n'
            "data = json.loads(text)\n"
            'print(data["topic"], len(data["points"]))\n'
        ),
        code_says="This parses a JSON string into a dictionary and reads two of its fields.",
        one_liner='data = json.loads(\'{"ok": true, "tokens": 42}\')',
        related=("structured_output", "dictionaries"),
    ),
    Subject(
        key="structured_output",
        title="Structured output",
        aliases=(
            "structured output", "structured outputs", "json schema", "json schemas",
            "json mode", "response_format", "response format", "strict schema", "schema",
            "schemas", "pydantic", "text.format",
        ),
        what="Structured output makes a model answer in JSON that matches a schema you "
        "supply((, so every field you asked for is present and correctly typed)).",
        why="Structured output lets code use an answer directly((, with no fragile parsing of "
        "free text)).",
        facts=(
            "The Responses API takes the schema in `text.format`((, with the type "
            '`"json_schema"`, a name, the schema and `strict` set to true)).',
            'JSON mode, `{"type": "json_object"}`, promises only valid JSON((, not any '
            "particular fields)).",
            "The SDK can build the schema from a Pydantic model((, and parse the answer back "
            "into it)).",
            "A structured answer can still be cut by `max_output_tokens`((, so check `status` "
            "first)).",
        ),
        tips=(
            "Keep schemas small and flat((: fewer fields means fewer tokens and fewer "
            "mistakes)).",
            "Validate the parsed data anyway((, since valid JSON can still hold a wrong "
            "value)).",
        ),
        code=(
            "import json\n"
            "\n"
            "schema = {\n"
            '    "type": "object",\n'
            '    "properties": {"topic": {"type": "string"}, "summary": {"type": "string"}},\n'
            '    "required": ["topic", "summary"],\n'
            '    "additionalProperties": False,\n'
            "}\n"
            'fmt = {"type": "json_schema", "name": "summary", "schema": schema, "strict": True}\n'
            "response = client.responses.create(\n"
            '    model="$MODEL", input="Summarise HTTP caching.", text={"format": fmt}\n'
            ")\n"
            'print(json.loads(response.output_text)["summary"])\n'
        ),
        code_says="This asks for an answer that must match a two-field schema and reads one "
        "field from it.",
        one_liner='text_config = {"format": {"type": "json_object"}}',
        related=("json", "token_limits"),
    ),
    Subject(
        key="caching",
        title="Caching",
        aliases=(
            "caching", "cache", "caches", "response caching", "cache responses",
            "caching responses", "memoization", "memoisation", "memoize", "memoise",
            "lru_cache", "functools.cache", "result caching",
        ),
        what="Caching means keeping a result you already computed((, so the next identical "
        "request is answered from memory instead of being paid for again)).",
        why="Caching matters for API work because a repeated prompt then costs nothing the "
        "second time((, and the answer comes back at once)).",
        facts=(
            "A cache key must capture everything that changes the answer((: the model, the "
            "prompt and the settings)).",
            "Cached results go stale((, so give entries a time to live when the truth can "
            "change)).",
            "`functools.lru_cache` keeps a function's results in memory((, keyed by its "
            "arguments)).",
            "Only repeatable requests are worth caching((; a creative answer may be meant to "
            "vary)).",
        ),
        tips=(
            "Measure the hit rate((: a cache that never hits only adds complexity)).",
            "Never cache errors as if they were answers((, or one failure keeps coming back)).",
        ),
        code=(
            "import functools\n"
            "\n"
            "@functools.lru_cache(maxsize=256)\n"
            "def answer(prompt):\n"
            '    return client.responses.create(model="$MODEL", input=prompt).output_text\n'
            "\n"
            'answer("What is a token?")  # calls the API\n'
            'answer("What is a token?")  # served from the cache: free and instant\n'
        ),
        code_says="This caches answers by prompt, so asking the same question twice calls the "
        "API once.",
        one_liner="cached_answer = functools.lru_cache(maxsize=256)(answer)",
        related=("prompt_caching", "http_caching", "cost"),
    ),
    Subject(
        key="http_caching",
        title="HTTP caching",
        aliases=(
            "http caching", "http cache", "http caches", "cache-control", "cache control",
            "etag", "etags", "browser cache", "browser caching", "web caching", "cdn caching",
            "304", "not modified", "conditional request", "conditional requests",
        ),
        what="HTTP caching lets browsers and proxies keep copies of responses((, so a repeated "
        "request is answered locally or with a tiny check instead of a full download)).",
        why="HTTP caching cuts bandwidth, server load and waiting time((, often for most of a "
        "site's traffic)).",
        facts=(
            "The server's `Cache-Control` header says who may store a response and for how "
            "long((, such as `max-age=3600` for one hour)).",
            "While a copy is fresh, the client reuses it without asking the server at all((, "
            "which is the fastest case)).",
            "Once it is stale, the client revalidates with `If-None-Match` and the `ETag`((, "
            "and a `304 Not Modified` reply means the copy is still good)).",
            "`no-store` forbids caching entirely((, which suits private or fast-changing "
            "data)).",
            "`private` lets only the user's own browser keep a copy((, while `public` also "
            "allows shared caches such as CDNs)).",
        ),
        tips=(
            "Give static files long lifetimes and versioned names((, so a new release gets a new "
            "URL)).",
            "Never let shared caches store personal data((; mark such responses `private` or "
            "`no-store`)).",
        ),
        code=(
            "import hashlib\n"
            "\n"
            "body = b'{\"forecast\": \"sunny\"}'\n"
            "etag = '\"' + hashlib.sha256(body).hexdigest()[:16] + '\"'\n"
            'headers = {"Cache-Control": "public, max-age=3600", "ETag": etag}\n'
            "\n"
            "def respond(if_none_match=None):\n"
            '    return (304, b"") if if_none_match == etag else (200, body)\n'
            "\n"
            "print(respond()[0], respond(etag)[0])  # 200 304\n"
        ),
        code_says="This builds the caching headers for a response and answers a repeat request "
        "that carries the same ETag with `304 Not Modified`.",
        one_liner='headers = {"Cache-Control": "public, max-age=3600"}',
        related=("caching", "http"),
    ),
    Subject(
        key="prompt_caching",
        title="Prompt caching",
        aliases=(
            "prompt caching", "prompt cache", "cached tokens", "cached token", "cached input",
            "cached_tokens", "cached input tokens", "prefix caching",
        ),
        what="Prompt caching is the provider reusing its work on a prompt's opening tokens((, "
        "when a later request starts with exactly the same text)).",
        why="Prompt caching matters because cached input tokens are billed at a steep "
        "discount((, and they come back faster)).",
        facts=(
            "It applies automatically to long prompts((, from about 1,024 tokens, whose "
            "beginning matches a recent request)).",
            "`usage.input_tokens_details.cached_tokens` reports how many input tokens came from "
            "the cache((, and they are part of `input_tokens`)).",
            "Only an exact shared prefix counts((; one changed character early in the prompt "
            "ends the match there)).",
        ),
        tips=(
            "Put fixed instructions and examples first and the changing question last((, so the "
            "prefix stays the same)).",
            "Check `cached_tokens` in the usage((, to confirm the saving is real)).",
        ),
        code=(
            'rules = open("long_instructions.txt").read()  # the same long prefix every time\n'
            'for question in ["What is a token?", "Define jitter."]:\n'
            '    usage = client.responses.create(model="$MODEL", instructions=rules, '
            "input=question).usage\n"
            '    print(usage.input_tokens, "input,", usage.input_tokens_details.cached_tokens, '
            '"cached")\n'
        ),
        code_says="This sends the same long instructions before two questions and prints how "
        "many input tokens came from the cache.",
        one_liner="cached = response.usage.input_tokens_details.cached_tokens",
        related=("caching", "cost"),
    ),
    Subject(
        key="streaming",
        title="Streaming",
        aliases=(
            "streaming", "stream", "streams", "streamed", "server-sent events",
            "server sent events", "sse", "stream=true", "streaming responses",
            "token streaming",
        ),
        what="Streaming sends a model's answer in small pieces as it is written((, instead of "
        "all at once at the end)).",
        why="Streaming matters for user experience because the first words appear in a "
        "fraction of a second((, even when the whole answer takes much longer)).",
        facts=(
            "With `stream=True` the SDK yields events((, and the text arrives in "
            "`response.output_text.delta` events)).",
            "An answer costs the same tokens streamed or not((; only the wait feels shorter)).",
            "The usage arrives in the final event((, after the last piece of text)).",
            "Errors can happen mid-stream((, so handle a broken stream as well as a failed "
            "request)).",
        ),
        tips=(
            "Stream answers that a person reads((, and skip streaming for batch jobs and JSON "
            "you parse at the end)).",
            "Show partial text as it arrives((, but act on it only once the stream "
            "completes)).",
        ),
        code=(
            'stream = client.responses.create(model="$MODEL", input="Explain retries.", '
            "stream=True)\n"
            "for event in stream:\n"
            '    if event.type == "response.output_text.delta":\n'
            '        print(event.delta, end="", flush=True)\n'
        ),
        code_says="This streams an answer and prints each piece of text the moment it "
        "arrives.",
        one_liner='stream = client.responses.create(model="$MODEL", input=prompt, stream=True)',
        related=("latency", "batch"),
    ),
    Subject(
        key="batch",
        title="Batch processing",
        aliases=(
            "batch", "batches", "batch processing", "batch api", "batch job", "batch jobs",
            "batching", "bulk requests", "bulk processing", "offline processing", "jsonl",
            "batch requests",
        ),
        what="Batch processing means sending many requests as one job((: with the Batch API "
        "you upload a JSONL file of requests and collect the results later)).",
        why="Batch processing cuts cost because batch jobs are billed at about half the normal "
        "price((, in exchange for waiting up to 24 hours)).",
        facts=(
            "Each line of the input file is one request with its own `custom_id`((, which you "
            "use to match results to requests)).",
            "Batch jobs have their own, much larger limits((, so they do not eat into your "
            "normal rate limits)).",
            "Results come back as a JSONL file((, one line per request, in any order)).",
            "Some lines can fail while others succeed((, so check each result on its own)).",
        ),
        tips=(
            "Use batches for work nobody is waiting for((, such as nightly summaries or "
            "evaluations)).",
            "Write each result as soon as it finishes((, so a crash or a restart loses nothing "
            "and the job can resume where it stopped)).",
            "Keep each request small and capped((, since failures are then cheaper to "
            "rerun)).",
        ),
        code=(
            "import json\n"
            "\n"
            'prompts = ["What is a token?", "Define jitter."]\n'
            'with open("batch.jsonl", "w") as f:\n'
            "    for i, prompt in enumerate(prompts):\n"
            '        body = {"model": "$MODEL", "input": prompt, "max_output_tokens": 100}\n'
            '        line = {"custom_id": f"q{i}", "method": "POST", "url": "/v1/responses", '
            '"body": body}\n'
            '        f.write(json.dumps(line) + "\\n")\n'
        ),
        code_says="This writes a JSONL batch file with one capped request per line, each with "
        "its own `custom_id`.",
        one_liner='line = {"custom_id": "q1", "method": "POST", "url": "/v1/responses", '
        '"body": body}',
        related=("cost", "rate_limits"),
    ),
    Subject(
        key="cost",
        title="API costs",
        aliases=(
            "cost", "costs", "api cost", "api costs", "pricing", "price", "prices", "billing",
            "spend", "spending", "budget", "budgets", "token cost", "token costs",
            "cost per token", "cost estimation", "estimate cost", "estimating cost",
            "cost per request", "money",
        ),
        what="API cost is what you pay per token((: a price per million input tokens plus a "
        "usually higher price per million output tokens)).",
        why="Cost matters because small prices per request multiply((: a tenth of a cent per "
        "call is a hundred dollars per 100,000 calls)).",
        facts=(
            "Cost is input tokens times the input price plus output tokens times the output "
            "price((, each per million tokens)).",
            "Output tokens often cost four to eight times as much as input tokens((, so long "
            "answers dominate the bill)).",
            "Cached input tokens are billed at a discount((, and batch jobs at about half "
            "price)).",
            "Reasoning tokens are billed as output((, even though you never see them)).",
        ),
        tips=(
            "Estimate the cost per 1,000 requests before launch((, from measured `usage`, not "
            "guesses)).",
            "Set a spending limit and an alert((, so a bug cannot run up a large bill)).",
        ),
        code=(
            "def cost_usd(input_tokens, output_tokens, input_per_m=0.75, output_per_m=4.50):\n"
            "    return (input_tokens * input_per_m + output_tokens * output_per_m) / 1_000_000\n"
            "\n"
            "per_call = cost_usd(500, 200)\n"
            'print(f"${per_call:.6f} per call, ${per_call * 1000:.2f} per 1,000 calls")\n'
        ),
        code_says="This prices one call from its token counts and scales it to 1,000 calls.",
        one_liner="cost_usd = (input_tokens * 0.75 + output_tokens * 4.50) / 1_000_000",
        related=("tokens", "model_choice", "batch"),
    ),
    Subject(
        key="model_choice",
        title="Choosing a model",
        aliases=(
            "model choice", "choosing a model", "choose a model", "model selection",
            "selecting a model", "select a model", "which model", "pick a model",
            "picking a model", "model size", "model sizes", "smaller model", "smaller models",
            "small model", "small models", "mini model", "mini models", "nano model",
            "model tier", "model tiers", "best model", "right model",
        ),
        what="Model choice means picking the smallest, cheapest model that does your task well "
        "enough((, rather than the most powerful one by default)).",
        why="Model choice matters because prices and speeds differ many times over between "
        "models((, while for simple tasks the answers are often just as good)).",
        facts=(
            "Small models suit classification, extraction and short summaries((, where speed and "
            "price matter most)).",
            "Large models suit hard reasoning and long, careful writing((, where quality is worth "
            "the cost)).",
            "Only a test on your own examples shows which model is good enough((; public "
            "benchmarks are a starting point, not an answer)).",
            "Each model has its own limits, context window and price((, so switching is more "
            "than a one-word change)).",
        ),
        tips=(
            "Start with a small model((, and move up only when measured quality falls short)).",
            "Route by task((: send easy requests to a small model and hard ones to a large "
            "one)).",
        ),
        code=(
            'SMALL, LARGE = "$MODEL", "$LARGE_MODEL"\n'
            "\n"
            "def pick_model(task):\n"
            '    """A cheap model for routine work, a large one only for hard cases."""\n'
            '    return SMALL if task in {"classify", "extract", "summarise"} else LARGE\n'
            "\n"
            'print(pick_model("extract"))\n'
        ),
        code_says="This routes routine tasks to a small model and keeps the large one for hard "
        "cases.",
        one_liner='model = "$MODEL" if task == "classify" else "$LARGE_MODEL"',
        related=("cost", "latency", "llm"),
    ),
    Subject(
        key="chunking",
        title="Chunking",
        aliases=(
            "chunking", "chunk", "chunks", "splitting text", "text splitting", "split text",
            "long document", "long documents", "long text", "long texts", "text chunking",
            "document chunking",
        ),
        what="Chunking means splitting a long text into pieces that each fit a token budget((, "
        "ideally cutting at sentence or paragraph ends)).",
        why="Chunking matters because a document larger than the context window cannot be sent "
        "whole((, while its chunks can be processed one by one)).",
        facts=(
            "Count each chunk's tokens with the model's tokeniser((, not by characters, so every "
            "chunk really fits)).",
            "Cutting at sentence ends keeps each chunk readable((, so the model is never handed "
            "half a thought)).",
            "A small overlap between chunks keeps context that spans a boundary((, at the cost "
            "of a few repeated tokens)).",
            "Summaries of the chunks can be combined into one summary((, a pattern often called "
            "map-reduce)).",
        ),
        tips=(
            "Leave room in the budget for instructions and the answer((, not just the "
            "chunk)).",
            "Keep chunks in order and numbered((, so the results can be put back together)).",
        ),
        code=(
            "import tiktoken\n"
            "\n"
            'encoding = tiktoken.get_encoding("o200k_base")\n'
            "\n"
            "def chunk(sentences, max_tokens):\n"
            "    chunks, current = [], []\n"
            "    for sentence in sentences:\n"
            '        if current and len(encoding.encode(" ".join([*current, sentence]))) > '
            "max_tokens:\n"
            '            chunks.append(" ".join(current))\n'
            "            current = []\n"
            "        current.append(sentence)\n"
            '    return chunks + [" ".join(current)] if current else chunks\n'
        ),
        code_says="This packs whole sentences into chunks that each stay within a token "
        "budget.",
        one_liner="pieces = [text[i : i + 4000] for i in range(0, len(text), 4000)]",
        related=("context_window", "tokens"),
    ),
)

# fmt: on

# Subjects whose long answers always show their code example (beginner Python).
PYTHON_SUBJECTS = frozenset((
    "python", "decorators", "list_comprehensions", "functions", "variables", "lists",
    "dictionaries", "loops", "fstrings", "exceptions", "classes", "modules", "venv", "type_hints",
    "generators", "async", "context_managers", "lambda", "csv",
))  # fmt: skip

# Ready-made sentences for a pair of subjects asked about together ("X vs Y"), keyed by the
# two subject keys in either order.
COMPARISONS: dict[frozenset[str], str] = {
    frozenset(("retries", "backoff")): "Retries decide whether to try again, while backoff "
    "decides how long to wait before each new attempt.",
    frozenset(("backoff", "jitter")): "Backoff makes each wait longer than the last, while "
    "jitter randomises each wait so clients spread out, and the two work best together.",
    frozenset(("rate_limits", "quota")): "A rate limit clears after a short wait, while a quota "
    "error lasts until you add credit or raise the spending limit.",
    frozenset(("http_429", "quota")): "A rate-limit 429 clears after a short wait, while an "
    "`insufficient_quota` 429 lasts until you add credit.",
    frozenset(("tokens", "tokenizer")): "Tokens are the pieces of text, while the tokeniser is "
    "the program that cuts text into them.",
    frozenset(("json", "structured_output")): "Plain JSON output only promises valid syntax, "
    "while structured output also guarantees the fields and types of your schema.",
    frozenset(("streaming", "batch")): "Streaming shows one answer as it is written, for a "
    "person who is waiting, while batch processing runs many requests cheaply for nobody in "
    "particular.",
    frozenset(("context_window", "token_limits")): "The context window bounds input and output "
    "together, while `max_output_tokens` bounds only the answer.",
    frozenset(("list_comprehensions", "loops")): "A list comprehension builds a list in one "
    "expression, while a `for` loop can run any number of statements for each item.",
    frozenset(("caching", "prompt_caching")): "Your own cache skips the API call entirely, while "
    "prompt caching still calls the API but bills the repeated prefix at a discount.",
    frozenset(("timeouts", "retries")): "A timeout limits how long one attempt may take, while "
    "retries decide how many attempts there are.",
    frozenset(("server_errors", "client_errors")): "A 5xx error is the server's fault and often "
    "passes, while a 4xx error is the request's fault and needs a fix.",
    frozenset(("transient_errors", "client_errors")): "A transient error may pass if you retry, "
    "while a client error such as a 400 or 401 fails the same way every time.",
    frozenset(("http_429", "server_errors")): "A 429 says you sent too much and should slow "
    "down, while a 5xx error says the server itself failed.",
    frozenset(("lists", "dictionaries")): "A list finds items by their position, while a "
    "dictionary finds values by their key.",
    frozenset(("functions", "lambda")): "A `def` function has a name, a docstring and any "
    "number of statements, while a lambda is one unnamed expression.",
    frozenset(("generators", "list_comprehensions")): "A list comprehension builds every item "
    "at once, while a generator produces them one at a time as you ask.",
    frozenset(("exceptions", "error_handling")): "Exceptions are Python's signal that something "
    "failed, while error handling is your plan for what to do about it.",
    frozenset(("rate_limits", "rpm_tpm")): "RPM and TPM are the two units rate limits are "
    "measured in: requests per minute and tokens per minute.",
    frozenset(("api", "http")): "HTTP is the protocol that carries requests, while an API is the "
    "set of requests a particular service agrees to answer.",
    frozenset(("caching", "http_caching")): "HTTP caching keeps copies of web responses in "
    "browsers and proxies, while caching in your own code keeps results you computed or paid "
    "for.",
    frozenset(("reasoning", "verbosity")): "Reasoning effort sets how much hidden thinking a "
    "model does, while verbosity sets how long its visible answer is.",
}

# Padding a verbose, open-ended prompt invites: real models add sentences like these too.
HEDGES: tuple[str, ...] = (
    "It is worth saying that the details vary from one situation to another.",
    "Of course, there are exceptions, and the right choice depends on your context.",
    "That said, it helps to keep the bigger picture in mind as you go.",
    "In many cases this is enough, although larger systems may need more care.",
    "There is rarely a single right answer here, only trade-offs to weigh.",
    "As always, it is a good idea to try this on a small example first.",
)
TRANSITIONS: tuple[str, ...] = (
    "Here is how it works in practice.",
    "A few details make this clearer.",
    "It helps to look at the mechanics.",
)
TIPS_INTROS: tuple[str, ...] = (
    "A few practical tips help.",
    "Some advice from practice is worth keeping in mind.",
    "In day-to-day work, a couple of habits pay off.",
)
CLOSERS: tuple[str, ...] = (
    "Start small, check the result, and grow from there.",
    "Try it on a tiny example first, then apply it where it matters.",
    "With that in place, you can use it with confidence.",
)
LONG_CLOSER = "In short: {summary}"

# The short, honest answer for a subject outside the course. ``{about}`` is "about X" (or
# "how to X") with X the subject as the prompt named it.
COURSE_SUBJECTS = (
    "tokens, prompts, rate limits, retries and backoff, error handling, JSON and beginner Python"
)
UNKNOWN: tuple[str, ...] = (
    "I can't tell you {about}: I am the course's simulated model, not a real language model.",
    f"I only know this course's subjects, such as {COURSE_SUBJECTS}.",
    "To ask a real model, set COURSE_BACKEND=openai and use your own API key.",
    "The token counts, costs and limits you see are still real, so you can keep practising "
    "with them.",
)
UNKNOWN_ONE_SENTENCE = (
    "I am the course's simulated model, so I can't tell you {about}: I only know this "
    "course's subjects, such as tokens, rate limits, retries and beginner Python."
)
NO_SUBJECT: tuple[str, ...] = (
    "Which subject should I explain?",
    f"I am the course's simulated model, and I know this course's subjects, such as "
    f"{COURSE_SUBJECTS}.",
    "Ask about one of them, and say how long an answer you want.",
)

NO_SUBJECT_ONE_SENTENCE = (
    "Which of the course's subjects, such as tokens, rate limits or retries, should I explain?"
)

# Greetings. ``GREETING_WORDS`` is cut to the number of words a prompt asks for.
GREETING = (
    "Hello! I am the course's simulated model: ask me about tokens, prompts, rate limits, "
    "retries or error handling."
)
GREETING_WORDS = (  # GREETING_WORDS[n - 1] has n words
    "Hi!",
    "Hello there!",
    "Hi there, learner!",
    "Hello and welcome, learner!",
    "Hello, and welcome to class!",
    "Hello, and welcome to the course!",
    "Hello, and a warm welcome to class!",
    "Hello, and welcome to the course on tokens!",
    "Hello, and a warm welcome to the course, learner!",
    "Hello, and welcome to the course on tokens and limits!",
    "Hello, and welcome to the course on tokens, limits and errors!",
)
META: tuple[str, ...] = (
    "I am the course's simulated model: a small offline stand-in that answers like a language "
    "model, with real token counts, limits and errors.",
    "My answers come from a knowledge base written for this course, so I only know its "
    "subjects, such as tokens, rate limits, retries and beginner Python.",
    "With COURSE_BACKEND=openai the same code talks to a real model instead.",
)
