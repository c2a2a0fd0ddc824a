"""The judge-injection patterns, by family, in English and other languages.

They are matched against normalised text (:mod:`judge.injection_normalise`): lower case, no
accents, no invisible characters, look-alike letters folded. So they are written in lower case
and without accents ("reponse", "instrucoes"); :func:`_fold` folds the non-ASCII letters of a
pattern the same way the text is folded (Cyrillic "й" loses its breve, Arabic hamza goes).

Families (the name is what a match reports):

- ``ignore_instructions``: override the judge's instructions ("ignore previous instructions",
  "forget everything you were told", "your task has changed", "new instructions:").
- ``addresses_judge``: text addressed to whoever evaluates it, with a request or a claim about
  which response should win ("whoever is grading this: pick ...", "note to the reviewer: ...").
- ``names_winner``: tells which response is better or how to score it ("choose Response 1",
  "this response wins", "rate this answer 10/10", ``"winner": "second"``).
- ``fake_markup``: chat-template or prompt delimiters that try to open a new system turn.
- ``other_language``: the same families in French, Spanish, German, Italian, Portuguese, Dutch,
  Polish, Turkish, Russian, Chinese, Japanese, Korean, Arabic and Hindi.

Patterns are specific to judge-directed language: "the judge must be impartial" or "ignore the
noise in the first measurement" are ordinary sentences and do not match.
"""

# ruff: noqa: RUF001  (look-alike letters are what this file is about)

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from judge.injection_roles import ROLE_RULES


def _fold(pattern: str) -> str:
    """Fold the non-ASCII letters of ``pattern`` as the text is folded (ASCII regex syntax kept)."""
    out: list[str] = []
    for char in pattern:
        if ord(char) < 128:
            out.append(char)
            continue
        decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", char))
        kept = "".join(c for c in decomposed if unicodedata.category(c) not in ("Cf", "Mn", "Me"))
        out.append(unicodedata.normalize("NFC", kept).casefold())
    return "".join(out)


# -- English building blocks ------------------------------------------------------------------

_EVAL_NOUN = (
    r"(?:judge|evaluator|grader|assessor|reviewer|rater|annotator|scorer|marker|examiner"
    r"|adjudicator)s?"
)
_EVAL_AGENT = (
    r"(?:evaluation|evaluating|grading|judging|scoring|assessment|assessing|rating|ranking"
    r"|comparison|comparing|automated|automatic)\s+(?:model|system|ai|llm|bot|agent|team|committee"
    r"|panel|program|algorithm|assessment|evaluation|review|reviewers?|graders?|judges?)s?"
)
_EVAL_VERB = (
    r"(?:grading|evaluating|judging|scoring|assessing|rating|ranking|comparing|reviewing|reading"
    r"|grades|evaluates|judges|scores|assesses|rates|ranks|compares|reviews|reads|grade|evaluate"
    r"|judge|score|assess|rate|rank|compare|review)"
)
_EVAL_ACTOR = (
    r"(?:whoever|anyone|anybody|whichever\s+\w+|the\s+(?:one|person|people|model|ai|llm|system"
    r"|bot|assistant)|an?\s+(?:ai|llm|model|language\s+model|bot|assistant)|any\s+(?:ai|llm"
    r"|model|one|system|assistant)|ais?|llms?|models?|assistants?|you)\s+(?:that\s+|who\s+|which\s+)?(?:is\s+|are\s+|will\s+be\s+|'s\s+"
    rf"|'re\s+|now\s+)?{_EVAL_VERB}\b"
)
_DOING_IT = (
    r"\b(?:ai|model|llm|system|assistant|person|one|whoever|anyone)\s+(?:doing|performing|running"
    r"|making|handling|in\s+charge\s+of|responsible\s+for|tasked\s+with)\s+(?:the\s+|this\s+)?"
    r"(?:comparison|comparing|evaluation|evaluating|grading|judging|scoring|assessment|review"
    r"|ranking|rating)\b"
)
_WHEN_JUDGING = (
    r"\bwhen\s+(?:you\s+)?(?:are\s+)?(?:judging|grading|evaluating|scoring|comparing|assessing"
    r"|rating|ranking|reviewing|judge|grade|evaluate|score|compare|assess|rate|rank|review)\b"
)
_ADDRESSEE = rf"(?:\b{_EVAL_NOUN}\b|\b{_EVAL_AGENT}\b|\b{_EVAL_ACTOR}|{_WHEN_JUDGING}|{_DOING_IT})"
_ITEM = r"(?:response|answer|reply|output|submission|completion|solution|one|text|candidate)"
_TARGET = (
    rf"(?:(?:this|my|the\s+other|that|the\s+(?:first|second|above|following|previous))\s+"
    rf"(?:\w+\s+)?{_ITEM}s?\b|\b(?:response|answer|output|option|candidate)\s*[12ab]\b|\bme\b"
    r"|\bit\s+as\b|\b[ab12](?=\s*(?:[.;,!)]|$)))"
)
_STEER_VERB = (
    r"(?:choose|select|pick|prefer|favou?r|vote\s+for|rank|rate|score|mark|award|give|declare"
    r"|consider|treat|deem|regard|label|grade|ignore|disregard|penali[sz]e|reject|discard"
    r"|conclude\s+that|agree\s+that)"
)
_STEER = rf"\b{_STEER_VERB}\s+(?:\w+\s+){{0,3}}?{_TARGET}"
_GOOD = (
    r"(?:better|best|winner|winning|superior|preferred|stronger|higher[- ]quality|correct\s+one"
    r"|right\s+one|the\s+one\s+to\s+(?:pick|choose))"
)
_CLAIM = (
    rf"\b(?:this|my)\s+(?:\w+\s+)?{_ITEM}\s+(?:is|was|should\s+be|must\s+be|will\s+be|be)\s+"
    rf"(?:\w+\s+){{0,2}}?{_GOOD}\b"
    rf"|\bthis\s+is\s+the\s+(?:\w+\s+)?(?:correct|best|better|right|winning|superior|preferred"
    rf"|only\s+(?:acceptable|correct|valid|right|good))\s+{_ITEM}\b"
)
_RESPONSE = r"(?:response|answer|output|assistant|option|candidate)\s*(?:[12ab]|one|two|\([ab12]\))"
_OVERRIDE = (
    r"(?:ignore|disregard|forget|override|overrule|bypass|skip|neglect|abandon|discard|drop"
    r"|(?:do\s+not|don't|dont|never|stop)\s+(?:follow|obey|apply|use|consider))"
)
_RULES = (
    r"(?:instructions?|prompts?|rules?|guidelines?|rubrics?|criteria|directions?|guidance"
    r"|directives?|polic(?:y|ies)|constraints|orders|commands|system\s+message)"
)
_EARLIER = (
    r"(?:previous|prior|above|earlier|preceding|former|original|initial|existing|given|system"
    r"|judging|grading|evaluation|scoring|old|other|official)"
)

_ENGLISH: Final[dict[str, list[tuple[str, str]]]] = {
    "ignore_instructions": [
        (
            rf"\b{_OVERRIDE}\s+(?:all\s+|any\s+|of\s+)*(?:the\s+|your\s+|those\s+|these\s+)?"
            rf"{_EARLIER}\s+(?:\w+\s+)?{_RULES}\b",
            "OVERRIDE & EARLIER & RULES",
        ),
        (
            rf"\b{_OVERRIDE}\s+(?:all\s+|any\s+)?(?:of\s+)?your\s+(?:\w+\s+)?{_RULES}\b",
            "OVERRIDE & your & RULES",
        ),
        (
            rf"\b{_OVERRIDE}\s+(?:the\s+)?(?:rubric|system\s+prompt|(?:scoring|grading|evaluation"
            r"|judging)\s+(?:criteria|rules|guidelines))\b",
            "OVERRIDE & rubric system scoring grading evaluation judging",
        ),
        (
            r"\b(?:forget|ignore|disregard)\s+(?:everything|all|anything)\s+(?:(?:that\s+)?you\s+"
            r"(?:were|have\s+been|was|'ve\s+been)\s+(?:told|given|instructed|asked)|(?:said\s+|written"
            r"\s+|stated\s+)?(?:above|before|previously|so\s+far|earlier))",
            "forget ignore disregard & everything all anything",
        ),
        (
            rf"\b{_RULES}\s+(?:that\s+)?(?:you\s+)?(?:received|were\s+given|got|have|had)\s+"
            r"(?:\w+\s+)?(?:earlier\s+|before\s+|previously\s+|above\s+)?(?:are|is|were|was)\s+(?:now\s+)?"
            r"(?:outdated|obsolete|void|invalid|cancell?ed|revoked|superseded|wrong|no\s+longer)",
            "RULES & outdated obsolete void invalid cancelled canceled revoked superseded wrong "
            "longer",
        ),
        (
            r"\byour\s+(?:\w+\s+)?(?:task|instructions?|role|job|rubric|goal|objective|criteria)\s+"
            r"(?:has|have|is|are)\s+(?:now\s+)?(?:changed|been\s+(?:changed|updated|replaced|revised))",
            "your & changed updated replaced revised",
        ),
        (
            r"\byou\s+are\s+now\s+(?:a|an|the)\s+(?:\w+\s+){0,2}(?:judge|evaluator|grader|assistant"
            r"|ai|model)\b",
            "you & now & judge evaluator grader assistant ai model",
        ),
        (
            r"\b(?:new|updated|revised|real|actual|true|hidden|secret|override)\s+(?:system\s+)?"
            r"(?:instructions?|directives?|rubric|system\s+prompt)\s*[:\-]",
            "new updated revised real actual true hidden secret override & instruction "
            "instructions directive directives rubric system",
        ),
        (
            rf"\b(?:your|the|all|previous|prior|earlier|original|above|my)\s+(?:\w+\s+)?{_RULES}\s+"
            r"(?:are|is|were|was|have\s+been|has\s+been)\s+(?:now\s+)?(?:outdated|obsolete|void"
            r"|invalid|cancell?ed|revoked|superseded|replaced|overridden|withdrawn|suspended"
            r"|no\s+longer\s+(?:valid|apply|applies|in\s+effect))",
            "RULES & outdated obsolete void invalid cancelled canceled revoked superseded replaced "
            "overridden withdrawn suspended longer",
        ),
        (
            r"(?:ignore|disregard|forget|override)(?:all|any|the|your)*(?:previous|prior|above"
            r"|earlier|preceding|former|system)(?:instructions?|rules|prompts?|guidelines|rubric)",
            "",
        ),
        (
            r"\b(?:rubric|grading|scoring|evaluation|judging|evaluator|grader|judge|reviewer)\s+"
            r"(?:update|override|change|note|notice|memo|instructions?)s?\s*[:\-,;]",
            "rubric grading scoring evaluation judging evaluator grader judge reviewer & update "
            "updates override overrides change changes note notes notice notices memo memos "
            "instruction instructions",
        ),
        (
            rf"(?:^|[\n.!?]\s*)#+\s*(?:new\s+|updated\s+|system\s+)?{_RULES}\b",
            "RULES",
        ),
    ],
    "addresses_judge": [
        (
            rf"\b(?:dear|attention|hey|hi|hello|note\s+(?:to|for)|message\s+(?:to|for)|reminder"
            rf"\s+(?:to|for)|instructions?\s+(?:to|for)|memo\s+(?:to|for)|p\.?s\.?\s+(?:to|for))\s+"
            rf"(?:the\s+|an?\s+|all\s+|any\s+|my\s+|our\s+|fellow\s+)?(?:ai\s+|llm\s+|automated\s+"
            rf"|automatic\s+|human\s+)?(?:{_EVAL_NOUN}|{_EVAL_AGENT})\b",
            "dear attention hey hi hello note message reminder instruction instructions memo p ps "
            "& EVAL",
        ),
        (
            rf"\bas\s+(?:the|an?|my|our)\s+(?:ai\s+|llm\s+|automated\s+|human\s+)?"
            rf"(?:{_EVAL_NOUN}|{_EVAL_AGENT})\s*,?\s+(?:you|please|kindly)\b",
            "as & EVAL & you please kindly",
        ),
        (
            rf"(?:^|[\n.!?(]\s*)(?:to|for)\s+(?:the\s+|any\s+|all\s+)?(?:ai\s+|llm\s+)?"
            rf"(?:{_EVAL_NOUN}|{_EVAL_AGENT}|{_EVAL_ACTOR})[^\n.]{{0,40}}?\s*[:,\-]",
            "to for & EVAL EVAL_VERB",
        ),
        (
            rf"(?:^|[\n.!?(]\s*)(?:{_EVAL_NOUN}|{_EVAL_AGENT}|{_EVAL_ACTOR})(?:\s+(?:this|these|both"
            r"|them|it))?(?:\s+(?:take\s+note|note|listen|beware|attention))?\s*[:\-—]",
            "EVAL EVAL_VERB",
        ),
        (
            rf"\b{_EVAL_NOUN}\s*[:,]\s*(?:you|please|kindly|must|should|pick|choose|select|award|give"
            r"|rate|mark|prefer|note|this|remember|consider|vote)\b",
            "EVAL_NOUN",
        ),
        (
            rf"\b{_EVAL_NOUN}\s+(?:are|is|must|should|will|shall)\s+(?:\w+\s+){{0,3}}?(?:favou?r"
            r"|prefer|choose|select|pick|rank|rate|score|penali[sz]e|reward)\s+(?:\w+\s+)?"
            r"(?:responses?|answers?|replies|outputs?|this|the\s+(?:first|second|other|longer"
            r"|shorter))\b",
            "EVAL_NOUN & favor favour prefer choose select pick rank rate score penalize penalise "
            "reward",
        ),
        (
            rf"{_ADDRESSEE}[^\n]{{0,100}}?(?:{_STEER}|{_CLAIM})",
            "EVAL EVAL_VERB & STEER GOOD & ITEM",
        ),
        (
            rf"(?:{_STEER}|{_CLAIM})[^\n]{{0,100}}?{_ADDRESSEE}",
            "EVAL EVAL_VERB & STEER GOOD & ITEM",
        ),
    ],
    "names_winner": [
        (
            rf"\b(?:the\s+)?(?:correct|best|better|winning|right|preferred)\s+"
            rf"(?:answer|response|choice|output)\s+(?:is|=)\s+{_RESPONSE}\b",
            "correct best better winning right preferred & answer response choice output & "
            "RESPONSE",
        ),
        (
            rf"\b{_RESPONSE}\s+(?:is|should\s+be)\s+(?:clearly\s+)?(?:the\s+)?"
            r"(?:better|best|winner|correct|preferred)\b",
            "RESPONSE & better best winner correct preferred",
        ),
        (
            rf"\b(?:choose|select|pick|prefer|vote\s+for)\s+{_RESPONSE}\b",
            "choose select pick prefer vote & RESPONSE",
        ),
        (
            r"\b(?:choose|select|pick|prefer|vote\s+for)\s+(?:this|my)\s+(?:response|answer|reply"
            r"|output|submission)\b",
            "choose select pick prefer vote & this my",
        ),
        (
            r"\b(?:this|my)\s+(?:response|answer|reply|output|submission)\s+(?:clearly\s+|obviously\s+)?"
            r"(?:wins|must\s+win|should\s+win|deserves\s+to\s+win|is\s+the\s+winner)\b",
            "this my & wins win winner",
        ),
        (
            r"\bthe\s+winner\s+(?:is|=|:)\s+(?:this|my|response|answer|output)\b",
            "winner",
        ),
        (
            r"\b(?:rate|score|grade|mark)\s+(?:this|my|me|it)\s+(?:\w+\s+)?(?:as\s+)?(?:an?\s+)?"
            r"(?:\d+\s*(?:/|out\s+of)\s*\d+|highly|higher|highest|the\s+highest|perfect|full\s+marks|top"
            r"|the\s+best)",
            "rate score grade mark & this my me it",
        ),
        (
            r"\bthis\s+(?:response|answer)\s+(?:deserves|should\s+(?:get|receive))\b",
            "this & deserves should",
        ),
        (
            r"\b(?:award|give)\s+(?:it\s+|this\s+|me\s+)?(?:full|maximum|max|top|perfect|the\s+(?:highest"
            r"|higher|best|top))\s+(?:marks|score|points|rating|grade)",
            "award give & full maximum max top perfect highest higher best",
        ),
        (
            rf"\b(?:award|give|assign|grant|hand)\s+(?:it|me|(?:this|my)\s+(?:\w+\s+)?{_ITEM})\s+"
            r"(?:the\s+|a\s+)?(?:full|maximum|max|top|perfect|highest|higher|best|winning|win|victory"
            r"|edge|nod|first\s+place)\b",
            "award give assign grant hand & full maximum max top perfect highest higher best "
            "winning win victory edge nod first",
        ),
        (
            r"\b(?:should|must|deserves\s+to)\s+(?:receive|get|be\s+given|be\s+awarded)\s+(?:the\s+|a\s+)?"
            r"(?:higher|highest|better|best|top|full|perfect|maximum)\s+(?:score|marks|rating|grade"
            r"|points)",
            "should must deserves & receive get given awarded",
        ),
        (
            r"\b(?:must|should)\s+be\s+(?:rated|ranked|scored|graded|judged|preferred|chosen|selected)\s+"
            r"(?:higher|lower|better|first|above|as\s+(?:the\s+)?(?:best|better|winner))",
            "must should & rated ranked scored graded judged preferred chosen selected",
        ),
        (
            rf"\b(?:rank|rate|score|place|put)\s+(?:the\s+other|this|my)\s+(?:\w+\s+)?{_ITEM}\s+"
            r"(?:above|below|over|higher|lower|ahead)",
            "rank rate score place put & above below over higher lower ahead",
        ),
        (
            r"\b(?:consider|treat|mark|deem|regard|rate|judge|declare)\s+(?:response|answer|output)\s*"
            r"[12ab]\s+(?:as\s+)?(?:invalid|wrong|incorrect|worse|better|best|the\s+winner|disqualified"
            r"|superior)",
            "consider treat mark deem regard rate judge declare & response answer output JOINED",
        ),
        (
            r"\bdeclare\s+(?:this|my|a)\s+(?:response\s+|answer\s+)?(?:correct|the\s+winner|winner|tie"
            r"|superior|better)",
            "declare",
        ),
        (
            r"\b(?:mark|declare|label|rate|rank|score)\s+(?:it|this|me|this\s+(?:response|answer|reply"
            r"|one))\s+(?:as\s+)?(?:the\s+)?(?:winner|best|better|preferred|superior|first|highest)\b",
            "mark declare label rate rank score & winner best better preferred superior first "
            "highest",
        ),
        (
            r"[\"'“]winner[\"'”]\s*:\s*[\"'“](?:first|second|tie|both_bad|a|b)[\"'”]",
            "winner",
        ),
        (
            r"\bverdict\s*(?:=|:|is)\s*[\"'“]?(?:first|second|response\s*[12ab]|[ab])\b",
            "verdict",
        ),
        (
            r"\b(?:output|respond\s+with|answer\s+with|reply\s+with|return|say|print)\s+[\"'“‘]"
            r"(?:first|second|response\s*[12ab]|[ab12]|tie)[\"'”’]\s+(?:for|as|to|because)\b",
            "output respond answer reply return say print",
        ),
    ],
    "fake_markup": [
        (
            r"</?(?:response_[12]|user_prompt|system|instructions?)>",
            "response_1 response_2 user_prompt system instruction instructions",
        ),
        (
            r"<\|im_(?:start|end)\|>|\[/?inst\]|<<\s*/?sys\s*>>|\A\s*(?:system|assistant)\s*:",
            "im_start im_end inst sys system assistant",
        ),
        (
            r"<!--[^>]{0,200}?\b(?:judge|evaluator|grader|reviewer|rater|instructions?|system|prefer"
            r"|winner)\b",
            "judge evaluator grader reviewer rater instruction instructions system prefer winner",
        ),
        (
            r"(?:^|\n)\s*\[?(?:system|system\s+prompt|system\s+message)\]?\s*:\s*(?:the\s+)?"
            r"(?:judge|evaluator|grader|reviewer|assistant|you|ignore|override)\b",
            "system",
        ),
    ],
}

# -- other languages written in Latin letters (matched like English) ----------------------------

_LATIN_LANGUAGES: Final[list[tuple[str, str]]] = [
    # French
    (
        r"\b(?:ignore[rz]?|oublie[rz]?|ne\s+(?:tiens|tenez)\s+pas\s+compte)\s+(?:de\s+|des\s+)?"
        r"(?:toutes\s+|tous\s+)?(?:les|vos|tes|ces)\s+(?:\w+\s+)?(?:instructions|consignes"
        r"|regles|directives|indications)",
        "ignore ignorer ignorez oublie oublier oubliez tiens tenez & instructions consignes "
        "regles directives indications",
    ),
    (
        r"\b(?:choisissez|choisis|selectionnez|selectionne|preferez|votez\s+pour|vote\s+pour)\s+"
        r"(?:cette|ma)\s+(?:reponse|solution)",
        "choisissez choisis selectionnez selectionne preferez votez vote & reponse solution",
    ),
    (
        r"\b(?:evaluat(?:eur|rice)s?|correct(?:eur|rice)s?|juges?|examinat(?:eur|rice)s?"
        r"|notat(?:eur|rice)s?|quiconque\s+(?:evalue|note|corrige|juge))\b[^\n]{0,100}?"
        r"(?:choisi|votez|vote\s+pour|selectionn|prefere|meilleure|gagn|attribue[rz]?\s+la\s+note)",
        "evaluateur evaluatrice evaluateurs evaluatrices correcteur correctrice correcteurs "
        "correctrices juge juges examinateur examinatrice examinateurs notateur notatrice "
        "notateurs notatrices examinatrices quiconque",
    ),
    # Spanish
    (
        r"\b(?:ignora|ignore|ignoren|ignorar|olvida|olvide|olviden|omite|omita|descarta|descarte)\s+"
        r"(?:todas\s+)?(?:las|tus|sus)\s+(?:\w+\s+)?(?:instrucciones|reglas|indicaciones"
        r"|directrices|normas)",
        "ignora ignore ignoren ignorar olvida olvide olviden omite omita descarta descarte & "
        "instrucciones reglas indicaciones directrices normas",
    ),
    (
        r"\b(?:elige|elija|escoge|escoja|selecciona|seleccione|prefiere|vota\s+por)\s+(?:esta|mi"
        r"\s+respuesta|la\s+mia)\b",
        "elige elija escoge escoja selecciona seleccione prefiere vota & respuesta esta mia",
    ),
    (
        r"\b(?:evaluador(?:a|es)?|juez|jueza|calificador(?:a)?|corrector(?:a)?|revisor(?:a)?"
        r"|quien\s+(?:este|esta)\s+evaluando|quien\s+evalue|(?:modelo|ia|sistema)\s+que\s+"
        r"(?:evalua|compara|califica|juzga))\b[^\n]{0,100}?(?:debe|elija|elige|gan"
        r"|mejor|seleccion)",
        "evaluador evaluadora evaluadores juez jueza calificador calificadora corrector "
        "correctora revisor revisora quien evalua compara califica juzga",
    ),
    # German
    (
        r"\b(?:ignorier|vergiss|vergessen\s+sie|missachte|uberspring)\w*\s+(?:alle\s+)?"
        r"(?:die\s+|deine\s+|ihre\s+)?(?:\w+\s+)?(?:anweisungen|instruktionen|regeln|vorgaben"
        r"|richtlinien|befehle)",
        "ignorier* vergiss vergessen missachte* uberspring* & anweisungen instruktionen regeln "
        "vorgaben richtlinien befehle",
    ),
    (
        r"\b(?:wahle|wahlt|wahlen\s+sie|nimm|bevorzuge)\s+(?:diese|meine)\s+(?:antwort|hier)\b",
        "wahle wahlt wahlen nimm bevorzuge & antwort hier",
    ),
    (
        r"\b(?:bewerter(?:in)?|gutachter(?:in)?|prufer(?:in)?|korrektor(?:in)?)\b[^\n]{0,100}?"
        r"(?:wahl|besser|beste|gewinn|bevorzug|punkt)",
        "bewerter bewerterin gutachter gutachterin prufer pruferin korrektor korrektorin",
    ),
    # Italian
    (
        r"\b(?:ignora|ignorate|dimentica|dimenticate|trascura)\s+(?:tutte\s+)?(?:le\s+)?(?:\w+\s+)?"
        r"(?:istruzioni|regole|indicazioni|direttive)",
        "ignora ignorate dimentica dimenticate trascura & istruzioni regole indicazioni direttive",
    ),
    (
        r"\b(?:scegli|scegliete|seleziona|preferisci|vota\s+per)\s+(?:questa|la\s+mia)\s+risposta",
        "scegli scegliete seleziona preferisci vota & risposta",
    ),
    (
        r"\b(?:valutat(?:ore|rice)|giudice|corret(?:tore|trice)|esaminat(?:ore|rice))\b[^\n]{0,100}?"
        r"(?:scegli|miglior|vinc|preferi)",
        "valutatore valutatrice giudice correttore correttrice esaminatore esaminatrice",
    ),
    # Portuguese
    (
        r"\b(?:ignore|ignora|ignorem|esqueca|esquecam|desconsidere|desconsidera)\s+(?:todas\s+)?"
        r"(?:as|suas)\s+(?:\w+\s+)?(?:instrucoes|regras|orientacoes|diretrizes)",
        "ignore ignora ignorem esqueca esquecam desconsidere desconsidera & instrucoes regras "
        "orientacoes diretrizes",
    ),
    (
        r"\b(?:escolha|escolhe|selecione|prefira|vote\s+em)\s+(?:esta|minha)\s+resposta",
        "escolha escolhe selecione prefira vote & resposta",
    ),
    (
        r"\b(?:avaliador(?:a|es)?|juiz|corretor(?:a)?)\b[^\n]{0,100}?(?:escolh|melhor|venc|prefir)",
        "avaliador avaliadora avaliadores juiz corretor corretora",
    ),
    # Dutch
    (
        r"\b(?:negeer|vergeet)\s+(?:alle\s+)?(?:de\s+|je\s+|uw\s+)?(?:\w+\s+)?(?:instructies|regels"
        r"|aanwijzingen)",
        "negeer vergeet & instructies regels aanwijzingen",
    ),
    (
        r"\bkies\s+(?:dit|mijn)\s+antwoord",
        "kies & antwoord",
    ),
    # Polish
    (
        r"\b(?:zignoruj|ignoruj|zapomnij)\w*\s+(?:wszystkie\s+)?(?:\w+\s+)?(?:instrukcje|polecenia"
        r"|zasady)",
        "zignoruj* ignoruj* zapomnij* & instrukcje polecenia zasady",
    ),
    (
        r"\bwybierz\s+(?:te|moja)\s+odpowiedz",
        "wybierz & odpowiedz",
    ),
    # Turkish
    (
        r"\btalimat\w*\s+(?:\w+\s+)?(?:yok\s+say|gormezden\s+gel|unut)",
        "talimat* & yok gormezden unut",
    ),
    (
        r"\bbu\s+(?:cevab|yanit)\w*\s+sec",
        "bu & sec",
    ),
]

# -- other scripts (matched against the unfolded view) -------------------------------------------

_OTHER_SCRIPTS: Final[list[str]] = [
    # Russian
    r"(?:игнорир\w*|проигнорир\w*|забуд\w*|забыть|не\s+обращай\w*|пренебрег\w*|отбрось\w*"
    r"|не\s+следуй\w*)\s+(?:\w+\s+){0,3}(?:инструкци\w*|указани\w*|правил\w*|команд\w*)",
    r"(?:выбери\w*|выберите|предпочти\w*|отдайте\s+предпочтение)\s+(?:\w+\s+)?(?:этот|мой)\s+ответ",
    r"(?:оценщик\w*|судь[яеиюе]\w*|экзаменатор\w*|проверяющ\w*|рецензент\w*)[^\n]{0,100}?"
    r"(?:выбер|лучш|победи|предпоч)",
    # Chinese (simplified and traditional)
    r"(?:忽略|无视|忽视|無視|不要理会|不要理會|忘记|忘記|忘掉|抛开|拋開|别管|別管)[^。！？\n]{0,12}"
    r"(?:指令|指示|说明|說明|规则|規則|提示|要求|命令)",
    r"(?:选择|選擇|选|選)(?:这个|這個|这一个|此|我的)(?:回答|答案|回复|回覆|响应|回應)",
    r"(?:评审|評審|评委|評委|评估者|評估者|评分者|評分者|裁判|评判|評判|评价者|評價者|审核员|審核員"
    r"|阅卷|閱卷)[^。\n]{0,40}?(?:选择|選擇|选它|選它|最好|更好|胜出|勝出|满分|滿分|高分)",
    # Japanese
    r"(?:指示|命令|ルール|指令|規則)[^。\n]{0,10}(?:無視|忘れ)",
    r"この(?:回答|答え|応答)を選",
    r"(?:評価者|審査員|採点者|ジャッジ)[^。\n]{0,40}?(?:選|最も良い|満点)",
    # Korean
    r"(?:지시|지침|명령|규칙)\S*\s*(?:\S+\s+)?(?:무시|잊어)",
    r"이\s*(?:답변|응답|대답)\S*\s*선택",
    r"(?:평가자|심사위원|채점자|심사자)[^\n]{0,40}?(?:선택|최고|만점)",
    # Arabic
    r"(?:تجاهل|انس|أهمل|اهمل)\S*\s+(?:\S+\s+){0,2}(?:التعليمات|الأوامر|القواعد|التوجيهات|تعليمات)",
    r"(?:اختر|اختار|اختاروا)\S*\s+(?:هذه|هذا)\s+(?:الإجابة|الرد|الجواب)",
    # Hindi
    r"निर्देश\S*\s+(?:\S+\s+){0,3}(?:अनदेखा|नज़रअंदाज़|नजरअंदाज|भूल)",
    r"(?:इस|मेरे)\s+उत्तर\s+(?:\S+\s+)?चुन",
]


# -- word gates: a rule's regex runs only on a view holding a word of each of its groups -------

_GROUPS: Final[dict[str, str]] = {
    "OVERRIDE": "ignore ignoring disregard disregarding forget forgetting override overrule bypass "
    "skip neglect abandon discard drop not don dont never stop",
    "EARLIER": "previous prior above earlier preceding former original initial existing given "
    "system judging grading evaluation scoring old other official",
    "RULES": "instruction instructions prompt prompts rule rules guideline guidelines rubric "
    "rubrics criteria direction directions guidance directive directives policy policies "
    "constraints orders commands system",
    "EVAL_NOUN": "judge judges evaluator evaluators grader graders assessor assessors reviewer "
    "reviewers rater raters annotator annotators scorer scorers marker markers examiner "
    "examiners adjudicator adjudicators",
    "EVAL": "EVAL_NOUN evaluation evaluating grading judging scoring assessment assessing rating "
    "ranking comparison comparing automated automatic",
    "EVAL_VERB": "grading evaluating judging scoring assessing rating ranking comparing reviewing "
    "reading grades evaluates judges scores assesses rates ranks compares reviews reads grade "
    "evaluate judge score assess rate rank compare review",
    "STEER": "choose select pick prefer favor favour vote rank rate score mark award give declare "
    "consider treat deem regard label grade ignore disregard penalize penalise reject discard "
    "conclude agree",
    "GOOD": "better best winner winning superior preferred stronger higher correct right only",
    "ITEM": "response responses answer answers reply replies output outputs submission "
    "submissions completion completions solution solutions one ones text texts candidate "
    "candidates me it option options a b 1 2 JOINED",
    "RESPONSE": "response answer output assistant option candidate JOINED",
    # "Response1", "answerb": a label written without its space is one word
    "JOINED": " ".join(
        f"{item}{label}"
        for item in ("response", "answer", "output", "assistant", "option", "candidate")
        for label in ("1", "2", "a", "b")
    ),
}


def _group(spec: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """Words (and ``stem*`` prefixes) of one gate group, named groups expanded."""
    words: set[str] = set()
    stems: list[str] = []
    pending = spec.split()
    while pending:
        word = pending.pop()
        if word in _GROUPS:
            pending += _GROUPS[word].split()
        elif word.endswith("*"):
            stems.append(word[:-1])
        else:
            words.add(word)
    return frozenset(words), tuple(stems)


@dataclass(frozen=True)
class Rule:
    """One pattern of a family, and the words a view must hold before it is worth running."""

    family: str
    regex: re.Pattern[str]
    gate: tuple[tuple[frozenset[str], tuple[str, ...]], ...] = ()

    def opens(self, words: frozenset[str] | set[str]) -> bool:
        """True when ``words`` (a view's words) meet every group of the gate."""
        for exact, stems in self.gate:
            if not exact.isdisjoint(words):
                continue
            if stems and any(w.startswith(stems) for w in words):
                continue
            return False
        return True


def _rule(family: str, pattern: str, gate: str = "") -> Rule:
    groups = tuple(_group(part) for part in gate.split("&") if part.strip())
    groups = tuple(sorted(groups, key=lambda group: bool(group[1])))  # prefixes checked last
    return Rule(family, re.compile(_fold(pattern), re.MULTILINE), groups)


#: matched against the Latin views (English and other Latin-script languages)
RULES: Final[tuple[Rule, ...]] = tuple(
    [_rule(name, p, g) for name, patterns in _ENGLISH.items() for p, g in patterns]
    + [_rule(name, p, g) for name, p, g in ROLE_RULES]  # role markers, template/verdict tokens
    + [_rule("other_language", p, g) for p, g in _LATIN_LANGUAGES]
)
#: matched against the unfolded views (scripts whose letters the Latin folding would garble)
SCRIPT_RULES: Final[tuple[Rule, ...]] = tuple(_rule("other_language", p) for p in _OTHER_SCRIPTS)
#: the families, in the order they are reported
FAMILIES: Final[tuple[str, ...]] = (*_ENGLISH, "other_language")

__all__ = ["FAMILIES", "RULES", "SCRIPT_RULES", "Rule"]
