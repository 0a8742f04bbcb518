"""Where people live: real cities with their real postal codes, per country of residence.

Faker draws a city and a postal code independently (fr_FR: a made-up town, any department's
code), so an address would not hold together; this short gazetteer gives the city and a postal
code of that city, Faker the street. Weights are populations in thousands (rounded), so big
cities hold more clients. Great Britain lists outward codes (the district): the inward part
("1AB") is drawn.
"""

from __future__ import annotations

import numpy as np


def _codes(prefix: str, first: int, last: int) -> str:
    """Five-digit codes of numbered districts: Paris 75001 ... 75020."""
    return " ".join(f"{prefix}{i:0{5 - len(prefix)}d}" for i in range(first, last + 1))


# country -> (city, population in thousands, its postal codes separated by spaces)
CITIES: dict[str, tuple[tuple[str, int, str], ...]] = {
    "FR": (
        ("Paris", 2100, _codes("750", 1, 20)),
        ("Marseille", 870, _codes("130", 1, 16)),
        ("Lyon", 520, _codes("6900", 1, 9)),
        ("Toulouse", 500, "31000 31100 31200 31300 31400 31500"),
        ("Nice", 340, "06000 06100 06200 06300"),
        ("Nantes", 320, "44000 44100 44200 44300"),
        ("Montpellier", 300, "34000 34070 34080 34090"),
        ("Strasbourg", 290, "67000 67100 67200"),
        ("Bordeaux", 260, "33000 33100 33200 33300 33800"),
        ("Lille", 235, "59000 59160 59260 59800"),
        ("Rennes", 225, "35000 35200 35700"),
        ("Reims", 180, "51100"),
        ("Toulon", 180, "83000 83100 83200"),
        ("Saint-Étienne", 175, "42000 42100"),
        ("Le Havre", 165, "76600 76610 76620"),
        ("Grenoble", 160, "38000 38100"),
        ("Dijon", 160, "21000"),
        ("Angers", 155, "49000 49100"),
        ("Nîmes", 150, "30000 30900"),
        ("Clermont-Ferrand", 147, "63000 63100"),
        ("Aix-en-Provence", 145, "13090 13100"),
        ("Brest", 140, "29200"),
        ("Tours", 137, "37000 37100 37200"),
        ("Amiens", 134, "80000 80080 80090"),
        ("Limoges", 130, "87000 87100 87280"),
        ("Annecy", 130, "74000"),
        ("Boulogne-Billancourt", 120, "92100"),
        ("Metz", 120, "57000 57050 57070"),
        ("Perpignan", 120, "66000 66100"),
        ("Besançon", 118, "25000"),
        ("Orléans", 116, "45000 45100"),
        ("Rouen", 114, "76000 76100"),
        ("Saint-Denis", 113, "93200"),
        ("Montreuil", 110, "93100"),
        ("Mulhouse", 108, "68100 68200"),
        ("Caen", 106, "14000"),
        ("Nancy", 104, "54000 54100"),
        ("Avignon", 90, "84000"),
        ("Versailles", 85, "78000"),
        ("La Rochelle", 78, "17000"),
        ("Pau", 76, "64000"),
        ("Ajaccio", 72, "20000 20090"),
    ),
    "DE": (
        ("Berlin", 3700, "10115 10117 10119 10178 10243 10405 10437 10551 10785 12043 13353"),
        ("Hamburg", 1900, "20095 20097 20144 20249 22041 22765"),
        ("München", 1500, "80331 80333 80335 80469 80636 81667"),
        ("Köln", 1080, "50667 50668 50672 50733 50937"),
        ("Frankfurt am Main", 770, "60311 60313 60316 60389 60594"),
        ("Stuttgart", 630, "70173 70174 70176 70372"),
        ("Düsseldorf", 620, "40210 40211 40213 40477"),
        ("Leipzig", 600, "04103 04107 04109 04177"),
        ("Dortmund", 590, "44135 44137 44139"),
        ("Essen", 580, "45127 45128"),
        ("Bremen", 570, "28195 28203"),
        ("Dresden", 560, "01067 01069 01097"),
        ("Hannover", 540, "30159 30161"),
        ("Nürnberg", 520, "90402 90403 90429"),
    ),
    "ES": (
        ("Madrid", 3300, "28001 28004 28005 28010 28012 28013 28015 28020"),
        ("Barcelona", 1650, "08001 08002 08007 08010 08012 08015 08036"),
        ("Valencia", 800, "46001 46002 46004 46010"),
        ("Sevilla", 680, "41001 41003 41004"),
        ("Zaragoza", 680, "50001 50003 50004"),
        ("Málaga", 580, "29001 29005 29010"),
        ("Murcia", 460, "30001 30002"),
        ("Palma", 420, "07001 07003"),
        ("Bilbao", 345, "48001 48005 48009"),
        ("Alicante", 340, "03001 03002"),
        ("Valladolid", 300, "47001 47002"),
        ("Granada", 230, "18001 18009"),
    ),
    "IT": (
        ("Roma", 2750, "00118 00184 00185 00186 00187 00192 00197"),
        ("Milano", 1370, "20121 20122 20123 20124 20135 20144"),
        ("Napoli", 910, "80121 80132 80133 80138"),
        ("Torino", 840, "10121 10122 10123 10128"),
        ("Palermo", 630, "90133 90134 90139"),
        ("Genova", 560, "16121 16123 16124"),
        ("Bologna", 390, "40121 40122 40123 40126"),
        ("Firenze", 360, "50122 50123 50125 50129"),
        ("Bari", 315, "70121 70122"),
        ("Catania", 300, "95121 95124"),
        ("Verona", 255, "37121 37122"),
        ("Venezia", 250, "30121 30122 30124"),
    ),
    "BE": (
        ("Antwerpen", 530, "2000 2018 2060"),
        ("Gent", 265, "9000"),
        ("Brussel", 185, "1000"),
        ("Brugge", 120, "8000"),
        ("Leuven", 102, "3000"),
        ("Aalst", 88, "9300"),
        ("Mechelen", 87, "2800"),
        ("Hasselt", 80, "3500"),
        ("Sint-Niklaas", 79, "9100"),
        ("Kortrijk", 78, "8500"),
        ("Oostende", 72, "8400"),
        ("Genk", 66, "3600"),
    ),
    "GB": (
        ("London", 8900, "SW1A EC1A EC2V WC2N W1D N1 E1 SE1 NW1 SW3"),
        ("Birmingham", 1150, "B1 B2 B3 B5 B15"),
        ("Leeds", 800, "LS1 LS2 LS6"),
        ("Glasgow", 630, "G1 G2 G3 G12"),
        ("Sheffield", 580, "S1 S2 S10"),
        ("Manchester", 550, "M1 M2 M3 M4 M13"),
        ("Edinburgh", 530, "EH1 EH2 EH3"),
        ("Liverpool", 500, "L1 L2 L3 L8"),
        ("Bristol", 470, "BS1 BS2 BS8"),
        ("Cardiff", 360, "CF10 CF11 CF24"),
        ("Nottingham", 330, "NG1 NG7"),
        ("Newcastle upon Tyne", 300, "NE1 NE2"),
    ),
    "CH": (
        ("Zürich", 420, "8001 8002 8003 8004 8005 8006 8008 8032"),
        ("Basel", 175, "4051 4052 4053 4056"),
        ("Bern", 135, "3011 3012 3013 3014"),
        ("Winterthur", 115, "8400 8404 8406"),
        ("Luzern", 82, "6003 6004 6005"),
        ("St. Gallen", 76, "9000 9008"),
        ("Biel/Bienne", 56, "2502 2503"),
        ("Thun", 44, "3600"),
        ("Chur", 38, "7000"),
        ("Schaffhausen", 37, "8200"),
        ("Zug", 31, "6300"),
        ("Aarau", 22, "5000"),
    ),
}
_INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))  # those a British inward code uses


def draw_places(rng: np.random.Generator, country: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` (city, postal code) pairs of `country`, cities weighted by population."""
    cities = CITIES[country]
    weight = np.array([people for _, people, _ in cities], float)
    city = rng.choice(len(cities), n, p=weight / weight.sum())
    codes = [cities[c][2].split() for c in city]
    code = np.array([c[int(x * len(c))] for c, x in zip(codes, rng.random(n))], dtype=object)
    if country == "GB":
        digit = rng.integers(0, 10, n).astype(str)
        letters = _INWARD_LETTERS[rng.integers(0, len(_INWARD_LETTERS), (n, 2))]
        code = code + " " + digit.astype(object) + letters[:, 0] + letters[:, 1]
    return np.array([cities[c][0] for c in city], dtype=object), code
