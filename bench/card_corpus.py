"""The card-number corpus: every way a PAN is written into a request, and realistic merchant values that
are not card numbers. Deterministic (seeded), shared by the corpus test and ``make bench``.

The merchant values are generated the way the systems that produce them do (clocks, sequences, check-digit
schemes, national numbering plans), never filtered by what the detector says about them.
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from card_transactions.handlers.domain.card_numbers import NETWORKS, luhn_valid

SEED = 20261206
VALUES_PER_CLASS = 800
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_EPOCH_START = datetime(2020, 1, 1, tzinfo=UTC)
_EPOCH_SPAN_S = int((datetime(2030, 1, 1, tzinfo=UTC) - _EPOCH_START).total_seconds())


# --- card numbers ---------------------------------------------------------------------------------


def luhn_complete(partial: str) -> str:
    """``partial`` followed by its Luhn check digit."""
    return next(partial + d for d in "0123456789" if luhn_valid(partial + d))


def sample_pans(rng: random.Random) -> list[tuple[str, str]]:
    """(network, PAN) for every network, every length it issues and both ends of every prefix range."""
    pans = []
    for network in NETWORKS:
        for lo, hi in network.prefixes:
            for prefix in sorted({lo, hi}):
                for length in network.lengths:
                    body = str(prefix) + "".join(rng.choice(string.digits) for _ in range(length))
                    pans.append((network.name, luhn_complete(body[: length - 1])))
    return pans


def _groups(pan: str, sizes: tuple[int, ...]) -> list[str]:
    groups, start = [], 0
    for size in sizes:
        if start < len(pan):
            groups.append(pan[start : start + size])
            start += size
    if start < len(pan):
        groups.append(pan[start:])
    return groups


def _in_fours(pan: str) -> list[str]:
    return _groups(pan, (4,) * 5)


def _digits_as(pan: str, zero: int) -> str:
    return "".join(chr(zero + int(d)) for d in pan)


# How a PAN is written: each name maps a PAN to its written form.
WRITINGS: dict[str, Callable[[str], str]] = {
    "plain": lambda p: p,
    "spaces": lambda p: " ".join(_in_fours(p)),
    "dashes": lambda p: "-".join(_in_fours(p)),
    "dots": lambda p: ".".join(_in_fours(p)),
    "underscores": lambda p: "_".join(_in_fours(p)),
    "slashes": lambda p: "/".join(_in_fours(p)),
    "double spaces": lambda p: "  ".join(_in_fours(p)),
    "tabs": lambda p: "\t".join(_in_fours(p)),
    "no-break spaces": lambda p: "\u00a0".join(_in_fours(p)),
    "mixed dash and space": lambda p: "".join(
        g + ("-" if i % 2 == 0 else " ") for i, g in enumerate(_in_fours(p))
    ).rstrip(" -"),
    "spaced dashes": lambda p: " - ".join(_in_fours(p)),
    "4-6-5 (Amex style)": lambda p: " ".join(_groups(p, (4, 6))),
    "zero-width space between groups": lambda p: "\u200b".join(_in_fours(p)),
    "zero-width space between digits": "\u200b".join,
    "soft hyphens": lambda p: "\u00ad".join(_in_fours(p)),
    "full-width digits": lambda p: _digits_as(p, 0xFF10),
    "full-width digits and ideographic spaces": lambda p: "\u3000".join(_in_fours(_digits_as(p, 0xFF10))),
    "Arabic-Indic digits": lambda p: _digits_as(p, 0x0660),
    "Extended Arabic-Indic digits": lambda p: _digits_as(p, 0x06F0),
    "Devanagari digits": lambda p: _digits_as(p, 0x0966),
    "glued to letters before": lambda p: f"card{p}",
    "glued to letters on both sides": lambda p: f"PAN{p}exp",
    "in prose": lambda p: f"Customer paid with {' '.join(_in_fours(p))} yesterday, please refund",
    "after =": lambda p: f"card={p}",
    "after :": lambda p: f"pan: {p}",
    "in a JSON string": lambda p: f'{{"pan": "{p}", "exp": "12/27"}}',
    "followed by expiry and CVV": lambda p: f"{' '.join(_in_fours(p))} 12/27 123",
    "pipe-delimited dump": lambda p: f"{p}|12|2027|123",
    "after a label": lambda p: f"Card number: {' '.join(_in_fours(p))}",
    "Track 1": lambda p: f"%B{p}^DOE/JOHN A^27121010000000000000?",
    "Track 1 without sentinels": lambda p: f"B{p}^DOE/JOHN^2712101000000",
    "Track 2": lambda p: f";{p}=27121010000000000000?",
    "Track 2 without sentinels": lambda p: f"{p}=2712101000000",
}
# Writings a transaction id ([A-Za-z0-9_-]{1,64}) can carry.
ID_WRITINGS = ("plain", "dashes", "underscores", "glued to letters before", "glued to letters on both sides")
BASE_PAYLOAD = {"transaction_id": "txn_1", "merchant_id": "m_1", "amount": "15.00", "currency": "USD"}


@dataclass(frozen=True)
class Encoding:
    """A request carrying a PAN: which network, how it is written, where it sits."""

    network: str
    writing: str
    place: str
    payload: dict[str, Any]


def card_number_encodings(seed: int = SEED) -> list[Encoding]:
    """Every sampled PAN in every writing as a metadata value and a metadata key, in the id-safe writings
    as the transaction id and the merchant id, and plain as the amount."""
    rng = random.Random(seed)
    encodings = []
    for network, pan in sample_pans(rng):
        for writing, write in WRITINGS.items():
            text = write(pan)
            encodings.append(Encoding(network, writing, "metadata value", _with(metadata={"note": text})))
            encodings.append(Encoding(network, writing, "metadata key", _with(metadata={text: "x"})))
        for writing in ID_WRITINGS:
            text = WRITINGS[writing](pan)
            encodings.append(Encoding(network, writing, "transaction_id", _with(transaction_id=text)))
            encodings.append(Encoding(network, writing, "merchant_id", _with(merchant_id=text)))
        encodings.append(Encoding(network, "plain", "amount", _with(amount=int(pan))))
    return encodings


def _with(**fields: Any) -> dict[str, Any]:
    return {**BASE_PAYLOAD, **fields}


# --- merchant values ------------------------------------------------------------------------------


def _moment(rng: random.Random) -> datetime:
    return _EPOCH_START + timedelta(seconds=rng.randrange(_EPOCH_SPAN_S), milliseconds=rng.randrange(1000))


def _epoch_ms(rng: random.Random) -> int:
    return int(_moment(rng).timestamp() * 1000)


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def timestamp_ids(rng: random.Random) -> str:
    """Ids built from a clock and a counter, as order systems and log pipelines mint them."""
    epoch_s, epoch_ms = _epoch_ms(rng) // 1000, _epoch_ms(rng)
    prefix = rng.choice(["x", "txn", "ord", "pay", "inv", "evt", "req"])
    return rng.choice(
        [
            f"order-{epoch_ms}",
            f"{prefix}_{epoch_s}_{rng.randrange(100_000)}",
            f"{prefix}-{epoch_ms}-{rng.randrange(10_000):04d}",
            f"{prefix}_{epoch_ms}{rng.randrange(1000):03d}",
            f"{epoch_s}{rng.randrange(1_000_000):06d}",
            f"{prefix}-{rng.randrange(1, 10_000_000)}",
        ]
    )


def snowflake_ids(rng: random.Random) -> str:
    """Twitter/Discord snowflakes (19 digits): milliseconds since the service epoch, worker, sequence."""
    service_epoch_ms = rng.choice([1288834974657, 1420070400000])  # Twitter, Discord
    elapsed = _epoch_ms(rng) - service_epoch_ms
    value = elapsed << 22 | rng.randrange(1024) << 12 | rng.randrange(4096)
    return rng.choice([str(value), f"id_{value}", f"user:{value}"])


def uuids_and_ulids(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if kind == 1:  # UUIDv7: 48-bit milliseconds, version, random
        raw = _epoch_ms(rng) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64 | 0b10 << 62 | rng.getrandbits(62)
        return str(uuid.UUID(int=raw))
    if kind == 2:
        return uuid.UUID(int=rng.getrandbits(128), version=4).hex
    ulid = _epoch_ms(rng) << 80 | rng.getrandbits(80)
    return "".join(CROCKFORD[(ulid >> shift) & 31] for shift in range(125, -1, -5))


def order_numbers(rng: random.Random) -> str:
    kind = rng.randrange(7)
    if kind == 0:  # Amazon: marketplace-3-7-7
        market = rng.choice(
            ["111", "112", "113", "114", "202", "203", "204", "205", "302", "303", "304", "403", "405"]
        )
        return f"{market}-{_digits(rng, 7)}-{_digits(rng, 7)}"
    if kind == 1:  # Shopify / WooCommerce: a counter
        return rng.choice(["#", "", "WC-", "SO"]) + str(rng.randrange(1001, 2_000_000))
    if kind == 2:  # Magento increment ids
        return f"{rng.choice(['1', '2', '3', '0'])}{rng.randrange(10**8):08d}"
    if kind == 3:  # dated purchase orders
        return f"PO-{rng.randrange(2019, 2031)}-{rng.randrange(1_000_000):06d}"
    if kind == 4:  # eBay
        return f"{_digits(rng, 2)}-{_digits(rng, 5)}-{_digits(rng, 5)}"
    if kind == 5:  # ERP document numbers: year + sequence
        return f"{rng.randrange(2019, 2031)}{rng.randrange(10**8):08d}"
    return f"ORD{rng.randrange(10**10):010d}"


_PHONE_PLANS: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"+1 ({r.randrange(201, 990)}) {r.randrange(200, 1000)}-{_digits(r, 4)}",
    lambda r: f"{r.randrange(201, 990)}-{r.randrange(200, 1000)}-{_digits(r, 4)}",
    lambda r: f"+1{r.randrange(201, 990)}{r.randrange(200, 1000)}{_digits(r, 4)}",
    lambda r: f"+44 20 {_digits(r, 4)} {_digits(r, 4)}",
    lambda r: f"+44 7{_digits(r, 3)} {_digits(r, 6)}",
    lambda r: f"07{_digits(r, 3)} {_digits(r, 6)}",
    lambda r: f"+49 {r.choice(['30', '40', '89', '69'])} {_digits(r, 8)}",
    lambda r: f"+49 15{r.randrange(10)} {_digits(r, r.choice([7, 8]))}",
    lambda r: f"+4917{r.randrange(10)}{_digits(r, 7)}",
    lambda r: f"+33 {r.choice('67')} " + " ".join(_digits(r, 2) for _ in range(4)),
    lambda r: f"+33{r.choice('1234567')}{_digits(r, 8)}",
    lambda r: f"+81 90-{_digits(r, 4)}-{_digits(r, 4)}",
    lambda r: f"+91 9{_digits(r, 4)} {_digits(r, 5)}",
    lambda r: f"+55 11 9{_digits(r, 4)}-{_digits(r, 4)}",
    lambda r: f"+61 4{_digits(r, 2)} {_digits(r, 3)} {_digits(r, 3)}",
    lambda r: f"+86 1{r.randrange(30, 90)} {_digits(r, 4)} {_digits(r, 4)}",
    lambda r: f"+62 8{_digits(r, 2)}-{_digits(r, 4)}-{_digits(r, 4)}",
    lambda r: f"+7 9{_digits(r, 2)} {_digits(r, 3)}-{_digits(r, 2)}-{_digits(r, 2)}",
)


def phone_numbers(rng: random.Random) -> str:
    return rng.choice(_PHONE_PLANS)(rng)


def dates_and_timestamps(rng: random.Random) -> str:
    moment = _moment(rng)
    formats = [
        "%Y-%m-%d",
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%dT%H:%M:%S.%f+00:00",
        "%Y-%m-%d %H:%M:%S",
        "%d.%m.%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%m/%d/%Y %I:%M:%S %p",
        "%a, %d %b %Y %H:%M:%S +0000",
        "%Y%m%d%H%M%S",
        "%Y%m%d",
    ]
    choice = rng.randrange(len(formats) + 2)
    if choice == len(formats):
        return str(int(moment.timestamp()))
    if choice == len(formats) + 1:
        return str(int(moment.timestamp() * 1000))
    return moment.strftime(formats[choice])


_IBAN_LAYOUTS = {  # country: BBAN as (kind, length) parts, kind d = digits, A = capital letters, c = either
    "DE": (("d", 8), ("d", 10)),
    "GB": (("A", 4), ("d", 6), ("d", 8)),
    "FR": (("d", 5), ("d", 5), ("d", 11), ("d", 2)),
    "ES": (("d", 4), ("d", 4), ("d", 2), ("d", 10)),
    "IT": (("A", 1), ("d", 5), ("d", 5), ("d", 12)),
    "NL": (("A", 4), ("d", 10)),
    "BE": (("d", 12),),
    "AT": (("d", 5), ("d", 11)),
    "CH": (("d", 5), ("d", 12)),
    "PL": (("d", 24),),
}


def _iban_check(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in rearranged))
    return f"{98 - number % 97:02d}"


def ibans(rng: random.Random) -> str:
    country = rng.choice(sorted(_IBAN_LAYOUTS))
    bban = "".join(
        "".join(rng.choice(string.digits if kind == "d" else string.ascii_uppercase) for _ in range(n))
        for kind, n in _IBAN_LAYOUTS[country]
    )
    iban = country + _iban_check(country, bban) + bban
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.5 else iban


def _mod10_weights(body: str, odd: int, even: int) -> str:
    """GS1 / USPS style check digit: weights from the right alternate ``odd``, ``even``."""
    total = sum(int(d) * (odd if i % 2 == 0 else even) for i, d in enumerate(reversed(body)))
    return str(-total % 10)


def tracking_numbers(rng: random.Random) -> str:
    kind = rng.randrange(7)
    if kind == 0:  # UPS
        shipper = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(6))
        return f"1Z{shipper}{_digits(rng, 10)}"
    if kind == 1:  # FedEx Express (12) and Ground (15)
        return _digits(rng, rng.choice([12, 15]))
    if kind in (2, 3):  # USPS IMpb: 9x + service + mailer + serial + check digit (22 digits)
        body = rng.choice(["9400", "9205", "9407", "9303", "9270"]) + _digits(rng, 17)
        number = body + _mod10_weights(body, 3, 1)
        return " ".join(number[i : i + 4] for i in range(0, 22, 4)) if kind == 3 else number
    if kind == 4:  # DHL Express
        return _digits(rng, 10)
    if kind == 5:  # UPU S10 (Royal Mail, La Poste, ...)
        return (
            f"{rng.choice(['RR', 'CP', 'LX', 'EE'])}{_digits(rng, 9)}{rng.choice(['GB', 'FR', 'DE', 'CN'])}"
        )
    return f"JJD{_digits(rng, 18)}"  # DHL Paket


_GS1_PREFIXES = (
    [f"{p:03d}" for p in range(0, 140)]
    + [f"{p}" for p in range(300, 380)]
    + [f"{p}" for p in range(400, 441)]
    + [f"{p}" for p in (*range(450, 460), *range(490, 500), *range(500, 510), *range(690, 700))]
    + [
        f"{p}"
        for p in (*range(760, 770), *range(800, 840), *range(840, 850), *range(870, 880), 880, 890, 978, 979)
    ]
)


def product_codes(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:  # UPC-A
        body = _digits(rng, 11)
    elif kind == 1:  # EAN-13 / ISBN-13
        prefix = rng.choice(_GS1_PREFIXES)
        body = prefix + _digits(rng, 12 - len(prefix))
    elif kind == 2:  # GTIN-14: packaging indicator + EAN-13 body
        prefix = rng.choice(_GS1_PREFIXES)
        body = str(rng.randrange(1, 9)) + prefix + _digits(rng, 12 - len(prefix))
    else:  # EAN-8
        body = _digits(rng, 7)
    return body + _mod10_weights(body, 3, 1)


def amounts(rng: random.Random) -> str:
    value = rng.randrange(1, 10**11) if rng.random() < 0.2 else rng.randrange(1, 10**6)
    whole, cents = divmod(value, 100)
    kind = rng.randrange(5)
    if kind == 0:
        return f"{whole}.{cents:02d}"
    if kind == 1:
        return f"{whole:,}.{cents:02d}"
    if kind == 2:
        return f"€{whole:,}".replace(",", ".") + f",{cents:02d}"
    if kind == 3:
        return f"${whole:,}.{cents:02d} USD"
    return f"{whole} {cents:02d}"


def ip_addresses(rng: random.Random) -> str:
    kind = rng.randrange(3)
    octets = ".".join(str(rng.randrange(1, 256)) for _ in range(4))
    if kind == 0:
        return octets
    if kind == 1:
        return f"{octets}:{rng.choice([443, 8080, 8443, rng.randrange(1024, 65536)])}"
    return ":".join(f"{rng.getrandbits(16):x}" for _ in range(8))


def versions(rng: random.Random) -> str:
    major, minor, patch = rng.randrange(0, 30), rng.randrange(0, 50), rng.randrange(0, 200)
    return rng.choice(
        [
            f"{major}.{minor}.{patch}",
            f"v{major}.{minor}.{patch}-beta.{rng.randrange(1, 10)}",
            f"{rng.randrange(2019, 2031)}.{rng.randrange(1, 13):02d}.{rng.randrange(1, 29):02d}",
            f"10.0.{rng.randrange(10000, 26000)}.{rng.randrange(1, 5000)}",
            f"{major}.{minor}.{patch}+build.{rng.randrange(1, 100000)}",
        ]
    )


def skus(rng: random.Random) -> str:
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randrange(2, 5)))
    return rng.choice(
        [
            f"SKU-{_digits(rng, 5)}-{rng.choice(['BLU', 'RED', 'BLK'])}-{rng.choice('SMLX')}",
            f"{letters}-{_digits(rng, 4)}-{rng.choice(['XS', 'S', 'M', 'L', 'XL'])}",
            f"{_digits(rng, 3)}-{_digits(rng, 3)}-{_digits(rng, 3)}",
            _digits(rng, rng.randrange(6, 11)),
            f"{letters}{_digits(rng, 4)}-{_digits(rng, 3)}",
        ]
    )


MERCHANT_CLASSES: dict[str, Callable[[random.Random], str]] = {
    "timestamp and sequence ids": timestamp_ids,
    "snowflake ids": snowflake_ids,
    "UUIDs and ULIDs": uuids_and_ulids,
    "order numbers": order_numbers,
    "phone numbers": phone_numbers,
    "dates and timestamps": dates_and_timestamps,
    "IBANs": ibans,
    "parcel tracking numbers": tracking_numbers,
    "EAN/UPC/GTIN codes": product_codes,
    "amounts": amounts,
    "IP addresses": ip_addresses,
    "versions": versions,
    "SKUs": skus,
}


def merchant_values(seed: int = SEED, per_class: int = VALUES_PER_CLASS) -> Iterator[tuple[str, str]]:
    """(class, value) for ``per_class`` values of every class in ``MERCHANT_CLASSES``."""
    rng = random.Random(seed)
    for name, generate in MERCHANT_CLASSES.items():
        for _ in range(per_class):
            yield name, generate(rng)
