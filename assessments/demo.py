"""Demo reference data and candidates, modelled on Almaty's demonstration exams in 2025.

Eighteen competence centres (the city's count), real WorldSkills skills with their
numbers and WSOS sections, Almaty colleges, dual-training enterprises and a few hundred
candidates with valid IINs and Kazakh names. Everything goes through the same services
as the admin pages, and a second run finds every record by its code or IIN and adds
nothing. The enterprises' BINs and the candidates' IINs are generated (valid check
digits, not real people or registrations); e-mail addresses use example.kz.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from assessments.iin import make_bin, make_iin
from assessments.models import Candidate, Centre, College, Competence, Enterprise
from assessments.personal_data import iin_lookup_hash
from assessments.services.candidates.records import save_candidate
from assessments.services.reference.saving import (
    save_centre,
    save_college,
    save_competence,
    save_enterprise,
)
from assessments.translit import transliterate

WORK = (
    "Жұмысты ұйымдастыру және өзін-өзі басқару",
    "Организация работы и самоуправление",
    "Work organization and self-management",
)
COMMUNICATION = (
    "Коммуникация және тұлғааралық дағдылар",
    "Коммуникация и навыки межличностного общения",
    "Communication and interpersonal skills",
)

# code, (kk, ru, en), [(section name kk/ru/en, weight %)]
COMPETENCES: list[tuple[str, tuple[str, str, str], list[tuple[tuple[str, str, str], int]]]] = [
    ("05", ("Инженерлік дизайн CAD", "Инженерный дизайн CAD", "Mechanical Engineering CAD"), [
        (WORK, 5), (COMMUNICATION, 5),
        (("3D модельдеу және жобалау", "3D-моделирование и проектирование",
          "3D modelling and design"), 35),
        (("Техникалық сызбалар мен құжаттама", "Технические чертежи и документация",
          "Technical drawings and documentation"), 30),
        (("Құрастыру, механизмдер және анимация", "Сборки, механизмы и анимация",
          "Assemblies, mechanisms and animation"), 25),
    ]),
    ("10", ("Дәнекерлеу технологиялары", "Сварочные технологии", "Welding"), [
        (WORK, 10),
        (("Сызбалар мен дәнекерлеу белгілерін оқу", "Чтение чертежей и обозначений сварки",
          "Drawings and welding symbols"), 10),
        (("Дайындау және құрастыру", "Подготовка и сборка", "Preparation and assembly"), 15),
        (("Пластиналарды дәнекерлеу", "Сварка пластин", "Welding of plates"), 30),
        (("Құбырларды дәнекерлеу", "Сварка труб", "Welding of pipes"), 25),
        (("Дәнекерлеу жіктерін сынау және сапасы", "Контроль и качество сварных швов",
          "Weld testing and quality"), 10),
    ]),
    ("15", ("Сантехника және жылыту", "Сантехника и отопление", "Plumbing and Heating"), [
        (WORK, 5), (COMMUNICATION, 5),
        (("Сызбаларды оқу және өлшеу", "Чтение чертежей и измерения",
          "Reading drawings and measuring"), 15),
        (("Жылыту жүйелерін монтаждау", "Монтаж систем отопления",
          "Installation of heating systems"), 35),
        (("Сумен жабдықтау және санитарлық жабдықтар", "Водоснабжение и санитарное оборудование",
          "Water supply and sanitary equipment"), 30),
        (("Сынау және іске қосу", "Испытания и пуск", "Testing and commissioning"), 10),
    ]),
    ("17", ("Веб-технологиялар", "Веб-технологии", "Web Technologies"), [
        (WORK, 5), (COMMUNICATION, 5),
        (("Дизайнды іске асыру", "Реализация дизайна", "Design Implementation"), 10),
        (("Front-End әзірлеу", "Front-End разработка", "Front-End Development"), 50),
        (("Back-End әзірлеу", "Back-End разработка", "Back-End Development"), 30),
    ]),
    ("18", ("Электрмонтаж", "Электромонтаж", "Electrical Installations"), [
        (WORK, 5), (COMMUNICATION, 5),
        (("Сымдар мен жабдықтарды монтаждау", "Монтаж проводки и оборудования",
          "Installation of wiring and equipment"), 45),
        (("Сынау, іске қосу және ақауларды іздеу", "Испытания, наладка и поиск неисправностей",
          "Testing, commissioning and fault finding"), 30),
        (("Құжаттама және стандарттар", "Документация и стандарты",
          "Documentation and standards"), 15),
    ]),
    ("29", ("Шаштараз өнері", "Парикмахерское искусство", "Hairdressing"), [
        (WORK, 10),
        (("Клиентпен жұмыс және коммуникация", "Работа с клиентом и коммуникация",
          "Client care and communication"), 10),
        (("Шаш қию", "Стрижка", "Cutting"), 30),
        (("Шаш бояу", "Окрашивание", "Colouring"), 25),
        (("Сән үлгісі және ұзын шаш", "Укладка и причёски на длинных волосах",
          "Styling and long hair"), 25),
    ]),
    ("33", ("Автомобильдерге техникалық қызмет көрсету",
            "Ремонт и обслуживание легковых автомобилей", "Automobile Technology"), [
        (WORK, 5), (COMMUNICATION, 5),
        (("Қозғалтқышты басқару жүйелері", "Системы управления двигателем",
          "Engine management systems"), 25),
        (("Электр және электрондық жүйелер", "Электрические и электронные системы",
          "Electrical and electronic systems"), 25),
        (("Шасси, рульдік басқару және тежегіштер", "Шасси, рулевое управление и тормоза",
          "Chassis, steering and brakes"), 20),
        (("Трансмиссия", "Трансмиссия", "Transmission"), 20),
    ]),
    ("34", ("Аспаздық іс", "Поварское дело", "Cooking"), [
        (("Жұмысты ұйымдастыру, еңбек қауіпсіздігі және гигиена",
          "Организация работы, безопасность и гигиена",
          "Work organization, safety and hygiene"), 15),
        (("Мәзірді жоспарлау және коммуникация", "Планирование меню и коммуникация",
          "Menu planning and communication"), 5),
        (("Суық цех", "Холодный цех", "Cold kitchen"), 20),
        (("Ыстық цех", "Горячий цех", "Hot kitchen"), 40),
        (("Кондитерлік өнімдер мен десерттер", "Кондитерские изделия и десерты",
          "Pastry and desserts"), 20),
    ]),
    ("39", ("Желілік және жүйелік әкімшілендіру", "Сетевое и системное администрирование",
            "IT Network Systems Administration"), [
        (WORK, 5), (COMMUNICATION, 5),
        (("Linux ортасы", "Среда Linux", "Linux environment"), 30),
        (("Windows ортасы", "Среда Windows", "Windows environment"), 30),
        (("Желілік инфрақұрылым", "Сетевая инфраструктура", "Network infrastructure"), 30),
    ]),
    ("41", ("Медициналық және әлеуметтік күтім", "Медицинский и социальный уход",
            "Health and Social Care"), [
        (WORK, 10), (COMMUNICATION, 20),
        (("Клиникалық күтім және денсаулықты нығайту",
          "Клинический уход и укрепление здоровья", "Clinical care and health promotion"), 35),
        (("Қауіпсіздік және инфекциялық бақылау", "Безопасность и инфекционный контроль",
          "Safety and infection control"), 20),
        (("Оңалту және әлеуметтік күтім", "Реабилитация и социальный уход",
          "Rehabilitation and social care"), 15),
    ]),
]  # fmt: skip

WEB_COMPETENCE = "17"

# code, (kk, ru, en)
COLLEGES: list[tuple[str, tuple[str, str, str]]] = [
    ("C01", ("Алматы мемлекеттік политехникалық колледжі",
             "Алматинский государственный политехнический колледж",
             "Almaty State Polytechnic College")),
    ("C02", ("Алматы энергетика және электрондық технологиялар мемлекеттік колледжі",
             "Алматинский государственный колледж энергетики и электронных технологий",
             "Almaty State College of Energy and Electronic Technologies")),
    ("C03", ("Алматы байланыс колледжі", "Алматинский колледж связи",
             "Almaty College of Communications")),
    ("C04", ("Алматы көлік және коммуникациялар колледжі",
             "Алматинский колледж транспорта и коммуникаций",
             "Almaty College of Transport and Communications")),
    ("C05", ("Алматы сервис және технологиялар мемлекеттік колледжі",
             "Алматинский государственный колледж сервиса и технологий",
             "Almaty State College of Service and Technology")),
    ("C06", ("Алматы құрылыс және менеджмент колледжі",
             "Алматинский колледж строительства и менеджмента",
             "Almaty College of Construction and Management")),
    ("C07", ("Алматы жоғары медициналық колледжі", "Высший медицинский колледж Алматы",
             "Almaty Higher Medical College")),
    ("C08", ("Алматы автомеханикалық колледжі", "Алматинский автомеханический колледж",
             "Almaty Automotive College")),
    ("C09", ("Алматы мемлекеттік бизнес колледжі", "Алматинский государственный бизнес-колледж",
             "Almaty State Business College")),
    ("C10", ("Алматы қоғамдық тамақтану және сервис колледжі",
             "Алматинский колледж общественного питания и сервиса",
             "Almaty College of Catering and Service")),
    ("C11", ("Алматы ақпараттық технологиялар колледжі",
             "Алматинский колледж информационных технологий",
             "Almaty College of Information Technology")),
    ("C12", ("Алматы машина жасау колледжі", "Алматинский машиностроительный колледж",
             "Almaty Mechanical Engineering College")),
    ("C13", ("Алматы сән және дизайн колледжі", "Алматинский колледж моды и дизайна",
             "Almaty College of Fashion and Design")),
    ("C14", ("Алматы технологиялық колледжі", "Алматинский технологический колледж",
             "Almaty Technological College")),
]  # fmt: skip

DEMO_COLLEGE = "C01"

# BIN registration (year, month, serial), (kk, ru, en)
ENTERPRISES: list[tuple[tuple[int, int, int], tuple[str, str, str]]] = [
    ((1999, 3, 1201), ("«Қазақтелеком» АҚ", "АО «Казахтелеком»", "Kazakhtelecom JSC")),
    ((2006, 4, 2317), ("«Алматы электр станциялары» АҚ", "АО «Алматинские электрические станции»",
                       "Almaty Power Stations JSC")),
    ((2007, 5, 3188), ("«Алатау Жарық Компаниясы» АҚ", "АО «Алатау Жарык Компаниясы»",
                       "Alatau Zharyk Company JSC")),
    ((2003, 9, 4402), ("«Astana Motors» ЖШС", "ТОО «Astana Motors»", "Astana Motors LLP")),
    ((1998, 8, 5521), ("«Кселл» АҚ", "АО «Кселл»", "Kcell JSC")),
    ((2010, 11, 6630), ("«Rixos Almaty» қонақүйі", "Отель «Rixos Almaty»", "Rixos Almaty Hotel")),
    ((2001, 2, 7745), ("«Алматы Су» МКК", "ГКП «Алматы Су»", "Almaty Su State Enterprise")),
]  # fmt: skip

# code, (kk, ru, en), street address, workstations, accredited competences
CENTRES: list[tuple[str, tuple[str, str, str], str, int, list[str]]] = [
    ("ALM-01", ("Ақпараттық технологиялар құзыреттілік орталығы",
                "Центр компетенций информационных технологий",
                "Information Technology Competence Centre"),
     "Төле би көшесі, 285", 16, ["17", "39", "05"]),
    ("ALM-02", ("Политехникалық колледж жанындағы құзыреттілік орталығы",
                "Центр компетенций при политехническом колледже",
                "Competence Centre at the Polytechnic College"),
     "Абай даңғылы, 10", 12, ["05", "10"]),
    ("ALM-03", ("Энергетика құзыреттілік орталығы", "Центр компетенций энергетики",
                "Energy Competence Centre"), "Сейфуллин даңғылы, 597", 14, ["18"]),
    ("ALM-04", ("Байланыс колледжі жанындағы құзыреттілік орталығы",
                "Центр компетенций при колледже связи",
                "Competence Centre at the College of Communications"),
     "Райымбек даңғылы, 163", 12, ["39", "17"]),
    ("ALM-05", ("Көлік және коммуникациялар құзыреттілік орталығы",
                "Центр компетенций транспорта и коммуникаций",
                "Transport and Communications Competence Centre"),
     "Жетісу көшесі, 1", 10, ["33"]),
    ("ALM-06", ("Сервис және технологиялар құзыреттілік орталығы",
                "Центр компетенций сервиса и технологий",
                "Service and Technology Competence Centre"),
     "Жандосов көшесі, 55", 12, ["29", "34"]),
    ("ALM-07", ("Құрылыс құзыреттілік орталығы", "Центр компетенций строительства",
                "Construction Competence Centre"), "Рысқұлов даңғылы, 72", 12, ["15", "18"]),
    ("ALM-08", ("Медициналық құзыреттілік орталығы", "Медицинский центр компетенций",
                "Medical Competence Centre"), "Қазыбек би көшесі, 149", 10, ["41"]),
    ("ALM-09", ("Автомеханикалық колледж жанындағы құзыреттілік орталығы",
                "Центр компетенций при автомеханическом колледже",
                "Competence Centre at the Automotive College"),
     "Бекмаханов көшесі, 93", 12, ["33", "10"]),
    ("ALM-10", ("Бизнес колледжі жанындағы құзыреттілік орталығы",
                "Центр компетенций при бизнес-колледже",
                "Competence Centre at the Business College"),
     "Сүйінбай даңғылы, 38", 16, ["17"]),
    ("ALM-11", ("Қоғамдық тамақтану құзыреттілік орталығы",
                "Центр компетенций общественного питания",
                "Catering Competence Centre"), "Гагарин даңғылы, 124", 10, ["34"]),
    ("ALM-12", ("Машина жасау құзыреттілік орталығы", "Центр компетенций машиностроения",
                "Mechanical Engineering Competence Centre"),
     "Мақатаев көшесі, 117", 14, ["05", "10"]),
    ("ALM-13", ("Сән және дизайн құзыреттілік орталығы", "Центр компетенций моды и дизайна",
                "Fashion and Design Competence Centre"), "Байзақов көшесі, 222", 10, ["29"]),
    ("ALM-14", ("Технологиялық колледж жанындағы құзыреттілік орталығы",
                "Центр компетенций при технологическом колледже",
                "Competence Centre at the Technological College"),
     "Момышұлы даңғылы, 2", 12, ["15", "34"]),
    ("ALM-15", ("«Алматы электр станциялары» оқу орталығы",
                "Учебный центр АО «Алматинские электрические станции»",
                "Almaty Power Stations Training Centre"), "Төле би көшесі, 201", 8, ["18"]),
    ("ALM-16", ("«Astana Motors» оқу орталығы", "Учебный центр «Astana Motors»",
                "Astana Motors Training Centre"), "Сүйінбай даңғылы, 2", 8, ["33"]),
    ("ALM-17", ("«Қазақтелеком» корпоративтік университеті",
                "Корпоративный университет АО «Казахтелеком»",
                "Kazakhtelecom Corporate University"), "Әл-Фараби даңғылы, 17", 12, ["39"]),
    ("ALM-18", ("Денсаулық сақтау және әлеуметтік күтім құзыреттілік орталығы",
                "Центр компетенций здравоохранения и социального ухода",
                "Health and Social Care Competence Centre"), "Төлебаев көшесі, 94", 10, ["41"]),
]  # fmt: skip

DEMO_CENTRE = "ALM-01"

# competence → (specialty, colleges that train it, enterprises that take its students)
TRAINING: dict[str, tuple[str, list[str], list[int]]] = {
    "05": ("07150600 Машина жасау технологиясы", ["C12", "C01"], []),
    "10": ("07150100 Дәнекерлеу ісі", ["C01", "C12", "C08"], [1]),
    "15": ("07320900 Инженерлік жүйелерді монтаждау және пайдалану", ["C06", "C14"], [6]),
    "17": ("06130100 Бағдарламалық қамтамасыз ету", ["C11", "C03", "C09", "C01"], [0, 4]),
    "18": ("07130100 Электр жабдықтарын монтаждау және пайдалану", ["C02", "C06"], [1, 2]),
    "29": ("10120100 Шаштараз өнері", ["C05", "C13"], []),
    "33": ("07161300 Автомобиль көлігіне техникалық қызмет көрсету", ["C08", "C04"], [3]),
    "34": ("10130300 Тамақтандыруды ұйымдастыру", ["C10", "C05", "C14"], [5]),
    "39": ("06120100 Есептеу техникасы және ақпараттық желілер", ["C03", "C11"], [0, 4]),
    "41": ("09130100 Мейірбике ісі", ["C07"], []),
}

MALE_NAMES = [
    "Нұрлан",
    "Ерлан",
    "Дәулет",
    "Асқар",
    "Бауыржан",
    "Ержан",
    "Қайрат",
    "Мұрат",
    "Нұрсұлтан",
    "Арман",
    "Әлібек",
    "Бекзат",
    "Дархан",
    "Елдос",
    "Жандос",
    "Ілияс",
    "Қуаныш",
    "Мейрамбек",
    "Нұржан",
    "Олжас",
    "Санжар",
    "Темірлан",
    "Ұлан",
    "Әділет",
    "Ғалымжан",
    "Серік",
    "Айбек",
    "Алмас",
    "Еркебұлан",
    "Рүстем",
    "Өмірзақ",
    "Үмбетәлі",
]
FEMALE_NAMES = [
    "Айгерім",
    "Әйгерім",
    "Аружан",
    "Гүлнар",
    "Дана",
    "Жанерке",
    "Жұлдыз",
    "Індира",
    "Қарлығаш",
    "Мадина",
    "Назерке",
    "Сәуле",
    "Томирис",
    "Ұлжан",
    "Айдана",
    "Балнұр",
    "Ақмаржан",
    "Гүлім",
    "Динара",
    "Еркежан",
    "Жансая",
    "Камила",
    "Ләззат",
    "Меруерт",
    "Назым",
    "Әсем",
    "Інжу",
    "Шынар",
    "Ғалия",
    "Өмірзая",
    "Үміт",
]
SURNAMES = [
    "Сейтқалиев",
    "Нұрланов",
    "Омаров",
    "Жақыпов",
    "Әбдірахманов",
    "Бекмұхамедов",
    "Қасымов",
    "Төлегенов",
    "Ахметов",
    "Есенгелдиев",
    "Мұқанов",
    "Сәрсенбаев",
    "Ғабитов",
    "Құдайбергенов",
    "Үсенов",
    "Жұмабаев",
    "Оспанов",
    "Серікбаев",
    "Әлиев",
    "Ізбасаров",
    "Қалиев",
    "Шәкенов",
    "Өтегенов",
    "Ұзақов",
    "Байжанов",
    "Иманбаев",
    "Темірбеков",
    "Досмұхамедов",
]
CANDIDATES_PER_COMPETENCE = 24


@dataclass
class SeedResult:
    summary: str
    demo_centre_id: int
    demo_college_id: int


def _names(triple: tuple[str, str, str], prefix: str = "") -> dict[str, str]:
    return {
        f"{prefix}name_{code}": value
        for code, value in zip(("kk", "ru", "en"), triple, strict=True)
    }


def _seed_competences(session: Session) -> int:
    existing = set(session.scalars(select(Competence.code)))
    created = 0
    for code, names, sections in COMPETENCES:
        if code in existing:
            continue
        save_competence(
            session,
            None,
            {"code": code, **_names(names)},
            [
                {"section": str(number), **_names(section, "section_"), "weight": str(weight)}
                for number, (section, weight) in enumerate(sections, start=1)
            ],
        )
        created += 1
    return created


def _seed_colleges(session: Session) -> int:
    existing = set(session.scalars(select(College.code)))
    created = 0
    for code, names in COLLEGES:
        if code not in existing:
            save_college(session, None, {"code": code, **_names(names), "city": "Алматы"})
            created += 1
    return created


def _seed_enterprises(session: Session) -> list[str]:
    bins = [make_bin(*registration) for registration, _names_ in ENTERPRISES]
    existing = set(session.scalars(select(Enterprise.bin)))
    for bin_, (_registration, names) in zip(bins, ENTERPRISES, strict=True):
        if bin_ not in existing:
            save_enterprise(session, None, {"bin": bin_, **_names(names)})
    return bins


def _seed_centres(session: Session) -> int:
    existing = set(session.scalars(select(Centre.code)))
    created = 0
    for code, names, address, workstations, competences in CENTRES:
        if code in existing:
            continue
        save_centre(
            session,
            None,
            {
                "code": code,
                **_names(names),
                "city": "Алматы",
                "address": address,
                "workstations": str(workstations),
                "competences": " ".join(competences),
            },
        )
        created += 1
    return created


def demo_candidates(bins: list[str]) -> list[dict[str, str]]:
    """Return the demo candidates as import rows, the same on every run (fixed seed)."""
    rng = random.Random(2025)  # demo data, not security
    centres_for = {c: [code for code, *_rest, comps in CENTRES if c in comps] for c in TRAINING}
    rows = []
    seen: set[str] = set()
    serial = 100
    for competence, (specialty, colleges, enterprises) in TRAINING.items():
        for index in range(CANDIDATES_PER_COMPETENCE):
            sex = rng.choice("MF")
            first = rng.choice(MALE_NAMES if sex == "M" else FEMALE_NAMES)
            father = rng.choice(MALE_NAMES)
            surname = rng.choice(SURNAMES)
            style = rng.random()
            if sex == "F":
                surname += "а"
            if style < 0.15:
                # the newer Kazakh practice: the patronymic serves as the surname
                surname, middle = father + ("ұлы" if sex == "M" else "қызы"), ""
            elif style < 0.75:
                middle = father + ("ұлы" if sex == "M" else "қызы")
            else:
                middle = _russian_patronymic(father, sex)
            birth = date(2003, 1, 1) + timedelta(days=rng.randrange(4 * 365))
            iin = make_iin(birth, sex, serial)
            while iin in seen:
                serial += 1
                iin = make_iin(birth, sex, serial)
            seen.add(iin)
            serial += 1
            enterprise = ""
            if enterprises and rng.random() < 0.6:
                enterprise = bins[rng.choice(enterprises)]
            centres = centres_for[competence]
            centre = DEMO_CENTRE if competence == WEB_COMPETENCE and index % 2 == 0 else ""
            centre = centre or centres[index % len(centres)]
            email = ""
            if rng.random() < 0.5:
                local = f"{transliterate(first)}.{transliterate(surname)}{index}".lower()
                email = f"{local}@example.kz"
            rows.append(
                {
                    "iin": iin,
                    "last_name": surname,
                    "first_name": first,
                    "middle_name": middle,
                    "college_code": colleges[index % len(colleges)],
                    "specialty": specialty,
                    "email": email,
                    "enterprise_bin": enterprise,
                    "centre_code": centre,
                }
            )
    return rows


def _russian_patronymic(father: str, sex: str) -> str:
    stem = father[:-1] + "ев" if father.endswith("й") else father + "ов"
    return stem + ("ич" if sex == "M" else "на")


def _seed_candidates(session: Session, bins: list[str]) -> int:
    rows = demo_candidates(bins)
    existing = set(session.scalars(select(Candidate.iin_hash)))
    created = 0
    for row in rows:
        if iin_lookup_hash(row["iin"]) in existing:
            continue
        save_candidate(session, None, row)
        created += 1
    return created


def seed_reference(session: Session) -> SeedResult:
    """Create the demo reference data and candidates that are missing; return what was done."""
    competences = _seed_competences(session)
    colleges = _seed_colleges(session)
    enterprises_before = len(set(session.scalars(select(Enterprise.bin))))
    bins = _seed_enterprises(session)
    enterprises = len(set(session.scalars(select(Enterprise.bin)))) - enterprises_before
    centres = _seed_centres(session)
    candidates = _seed_candidates(session, bins)
    session.flush()
    centre_id = session.scalar(select(Centre.id).where(Centre.code == DEMO_CENTRE))
    college_id = session.scalar(select(College.id).where(College.code == DEMO_COLLEGE))
    summary = (
        f"competences: {competences} new, centres: {centres} new, colleges: {colleges} new, "
        f"enterprises: {enterprises} new, candidates: {candidates} new"
    )
    return SeedResult(summary, centre_id, college_id)


def section_weights(code: str) -> dict[int, Decimal]:
    """Return the demo WSOS weights of a competence by section number (for tests and docs)."""
    for competence_code, _competence_names, sections in COMPETENCES:
        if competence_code == code:
            return {n: Decimal(w) for n, (_s, w) in enumerate(sections, start=1)}
    raise KeyError(code)
