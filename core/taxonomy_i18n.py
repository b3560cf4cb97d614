"""Event types in words people use: synonyms in every language, and labels (in the catalogues, `type.CODE`).

Labels name a type in the report, the exports and the dashboard; synonyms let a search for "ДТП",
"авария" or "crash" find `COLLISION`, and "драка" find `FIGHT`, whatever language the model wrote its
descriptions in. Covers exactly the types an engine produces (the VLM taxonomies of every domain and
what the local engine measures; tests/test_search.py holds the two to each other); an unknown type,
such as an analyst's concern or one an older version stored, still gets a readable label made from
its code.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.i18n import LANGUAGES, Language, has, text


@dataclass(frozen=True)
class TypeWords:
    code: str
    synonyms_en: tuple[str, ...] = ()
    synonyms_ru: tuple[str, ...] = ()

    def label(self, lang: Language) -> str:
        key = f"type.{self.code}"
        return text(lang, key) if has(key) else self.code.replace("_", " ").strip().capitalize() or "?"

    @property
    def phrases(self) -> tuple[str, ...]:
        """Every way to say this type: code words, labels in every language and synonyms."""
        labels = (self.label(lang) for lang in LANGUAGES)
        return (self.code.replace("_", " ").lower(), *labels, *self.synonyms_en, *self.synonyms_ru)


_TYPES = (
    # traffic (core.prompts.TAXONOMY; the words of the seed's example NEAR_CRASH name NEAR_MISS)
    TypeWords(
        "COLLISION",
        ("crash", "accident", "car crash", "collide", "rear-end", "impact", "wreck", "smash"),
        ("ДТП", "авария", "столкнулись", "врезался", "удар автомобилей", "аварийная ситуация"),
    ),
    TypeWords(
        "NEAR_MISS",
        ("near collision", "near crash", "close call", "almost hit", "almost crashed", "narrowly avoided"),
        (
            "чуть не столкнулись",
            "едва не столкнулись",
            "почти столкновение",
            "почти авария",
            "предаварийная ситуация",
        ),
    ),
    TypeWords(
        "PEDESTRIAN_HIT",
        ("pedestrian struck", "hit a pedestrian", "run over", "knocked down", "cyclist hit", "bicycle crash"),
        ("наезд", "сбил пешехода", "сбила пешехода", "ДТП с пешеходом", "сбил велосипедиста"),
    ),
    TypeWords(
        "WRONG_WAY",
        ("wrong way", "oncoming lane", "against traffic", "ghost driver"),
        ("встречка", "выезд на встречную", "против движения"),
    ),
    TypeWords(
        "RED_LIGHT",
        ("red light", "ran the light", "traffic signal violation"),
        ("красный свет", "проезд на запрещающий сигнал", "светофор"),
    ),
    TypeWords(
        "DANGEROUS_MANEUVER",
        (
            "dangerous maneuver",
            "swerve",
            "cutting in",
            "cut off",
            "reckless overtaking",
            "u-turn",
            "speeding",
        ),
        ("опасный маневр", "подрезал", "резкое перестроение", "обгон", "разворот", "превышение скорости"),
    ),
    TypeWords(
        "VEHICLE_FIRE",
        ("car fire", "burning car", "burning vehicle"),
        ("горит машина", "пожар автомобиля", "возгорание"),
    ),
    TypeWords(
        "ROAD_OBSTRUCTION",
        ("debris", "fallen load", "stopped vehicle", "blocked lane", "obstacle", "stalled vehicle"),
        ("препятствие", "предмет на дороге", "обломки", "перекрыта полоса", "заглохший автомобиль"),
    ),
    # industrial
    TypeWords(
        "NO_HELMET",
        ("no helmet", "missing helmet", "no hard hat", "without helmet", "bare head"),
        ("нет каски", "без шлема", "без защитной каски", "отсутствие каски", "каска"),
    ),
    TypeWords(
        "NO_VEST",
        ("no vest", "missing vest", "no high visibility", "without vest"),
        ("нет жилета", "без жилета", "отсутствие жилета", "жилет"),
    ),
    TypeWords(
        "FALL",
        ("fell", "falling", "person down", "slipped", "tripped", "collapsed", "fall from height"),
        ("упал", "упала", "поскользнулся", "споткнулся", "падение с высоты", "лежит на полу"),
    ),
    TypeWords(
        "FORKLIFT_NEAR_MISS",
        ("forklift", "forklift close call", "loader near miss"),
        ("погрузчик", "автопогрузчик", "чуть не сбил погрузчик"),
    ),
    TypeWords(
        "FIRE_SMOKE",
        ("fire", "smoke", "flames", "burning", "blaze", "sparks"),
        ("пожар", "огонь", "дым", "возгорание", "задымление", "пламя", "искры"),
    ),
    TypeWords(
        "RESTRICTED_ZONE",
        ("restricted area", "danger zone", "hazardous area", "unauthorized entry", "intrusion"),
        ("запретная зона", "опасная зона", "посторонний", "проникновение"),
    ),
    TypeWords(
        "FALLING_OBJECT",
        ("dropped load", "object fell", "falling load", "dropped object"),
        ("упал груз", "падение груза", "уронил", "сорвался груз"),
    ),
    TypeWords(
        "UNSAFE_LIFTING",
        ("suspended load", "load over people", "crane load", "lifting"),
        ("груз над людьми", "под грузом", "кран", "подъём тяжести"),
    ),
    # violence
    TypeWords(
        "FIGHT",
        ("fighting", "brawl", "scuffle", "punching", "fistfight", "altercation", "wrestling"),
        ("драка", "дерутся", "потасовка", "избиение", "мордобой", "стычка"),
    ),
    TypeWords(
        "ASSAULT",
        ("attack", "beating", "kick", "punch", "attacked", "aggression"),
        ("напал", "нападение", "избил", "удар", "пинок", "агрессия"),
    ),
    TypeWords(
        "WEAPON",
        ("gun", "knife", "firearm", "pistol", "baseball bat", "armed"),
        ("нож", "пистолет", "бита", "вооружён", "огнестрельное оружие"),
    ),
    TypeWords(
        "ROBBERY",
        ("theft", "mugging", "stealing", "snatching"),
        ("ограбление", "кража", "разбой", "вырвал сумку"),
    ),
    TypeWords(
        "VANDALISM",
        ("property damage", "smashing", "breaking windows", "graffiti"),
        ("порча имущества", "разбил", "погром", "граффити"),
    ),
    TypeWords(
        "CROWD_PANIC",
        ("stampede", "crowd running", "crowd crush", "scatter"),
        ("давка", "паника", "толпа бежит"),
    ),
    TypeWords(
        "OTHER",
        ("other incident", "unclassified", "anomaly", "unusual"),
        ("прочее", "другое событие", "аномалия", "необычное"),
    ),
    # what the local engine measures in tracks (issue 11): types the VLM taxonomy has no code for
    TypeWords(
        "STOPPED_VEHICLE",
        ("stopped vehicle", "stalled vehicle", "broken down", "vehicle stopped", "stopped car"),
        ("остановился", "заглохший автомобиль", "стоящая машина", "остановка транспорта"),
    ),
    TypeWords(
        "RUNNING",
        ("running", "runs", "sprinting", "fleeing", "ran"),
        ("бежит", "бегущий", "убегает", "бегство"),
    ),
    # what the local engine measures (motion, not meaning)
    TypeWords(
        "SUDDEN_MOTION",
        ("abrupt motion", "sudden movement", "motion spike", "jolt", "motion"),
        ("всплеск движения", "внезапное движение", "рывок", "движение"),
    ),
    TypeWords(
        "MOTION_BURST",
        ("burst of activity", "sustained motion", "flurry of movement", "agitation", "motion"),
        ("вспышка движения", "продолжительное движение", "суматоха", "активность", "движение"),
    ),
)

TYPES: dict[str, TypeWords] = {t.code: t for t in _TYPES}


def words_for(code: str) -> TypeWords:
    """The words for a type; a type nobody described yet gets its code made readable."""
    return TYPES.get(code) or TypeWords(code)


def type_label(code: str, lang: Language = "en") -> str:
    return words_for(code).label(lang)


def review_label(status: str | None, lang: Language = "en") -> str:
    """Review state in words: confirmed, dismissed, or not reviewed yet."""
    return text(lang, f"review.{status}" if status in ("confirmed", "dismissed") else "review.none")


def severity_label(level: int | None, lang: Language = "en") -> str:
    """Severity in words (0 note, 1 concern, 2 danger, as the engines rate it), or "not rated"."""
    return text(lang, f"severity.{level}" if level in (0, 1, 2) else "severity.none")
