"""Seeded synthetic CRM export: weekly B2B leads and their late-arriving outcomes.

This module *is* the bundled CRM, so it names its columns literally; the bundled
contract (contracts/synthetic_crm.yaml) describes what it writes. Every week draws
from its own RNG seeded by (seed, week), so week k is the same whether 3 or 30
weeks are asked for, and no output depends on today's date.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from app.demo import crm_history, deal_value

DEFAULT_START = date(2026, 1, 5)  # a Monday
SCENARIOS = ("stable", "covariate-drift", "conversion-drop", crm_history.SCENARIO)
OUTCOME_WINDOW_DAYS = 7  # the bundled contract's outcome_window_days; every outcome lands inside
DAY = 86_400  # seconds

SOURCES = ("web", "referral", "paid_search", "events", "outbound", "partner")
SOURCE_SHARE = {
    "stable": (0.30, 0.16, 0.18, 0.10, 0.16, 0.10),
    "drift": (0.22, 0.05, 0.47, 0.07, 0.11, 0.08),
}
SOURCE_LIFT = (0.0, 1.0, -0.4, 0.5, -0.7, 0.6)
INDUSTRIES = (
    "software",
    "finance",
    "healthcare",
    "manufacturing",
    "retail",
    "education",
    "media",
    "logistics",
)
INDUSTRY_SHARE = (0.24, 0.14, 0.12, 0.12, 0.11, 0.09, 0.09, 0.09)
INDUSTRY_LIFT = (0.35, 0.2, 0.0, -0.1, -0.2, -0.45, -0.1, 0.1)
COUNTRIES = ("US", "GB", "DE", "FR", "CA", "AU", "NL", "IN")
COUNTRY_SHARE = (0.40, 0.13, 0.11, 0.08, 0.08, 0.07, 0.06, 0.07)
# (technology, how common in stacks, conversion lift): CRM and marketing-automation
# users already run the workflows the product plugs into.
TECH = (
    ("Salesforce", 3.0, 0.45),
    ("HubSpot", 2.5, 0.25),
    ("Marketo", 1.2, 0.45),
    ("Slack", 4.0, 0.0),
    ("Zendesk", 1.5, 0.0),
    ("Snowflake", 1.2, 0.15),
    ("AWS", 3.5, 0.0),
    ("Azure", 2.0, 0.0),
    ("GCP", 1.5, 0.0),
    ("Shopify", 1.0, -0.2),
    ("Stripe", 1.5, 0.0),
    ("Intercom", 1.0, 0.1),
    ("Segment", 0.8, 0.25),
    ("Tableau", 1.2, 0.0),
    ("Workday", 1.0, 0.0),
)
NEW_TECH, NEW_TECH_SHARE, NEW_TECH_LIFT = "Clay", 0.40, 1.8
# (level, share, lift, title templates); {f} is the job function, {r} its IC role.
SENIORITY = (
    ("C-level", 0.05, 0.7, ("CEO", "CTO", "COO", "CMO", "Founder")),
    ("VP", 0.08, 1.0, ("VP of {f}",)),
    ("Director/Head", 0.15, 0.8, ("Director of {f}", "Head of {f}")),
    ("Manager", 0.22, 0.3, ("{f} Manager", "Account Manager")),
    ("Senior IC", 0.20, 0.0, ("Senior {r}",)),
    ("IC", 0.25, -0.5, ("{r}",)),
    ("Intern", 0.05, -2.0, ("{f} Intern",)),
)
FUNCTIONS = (
    ("Sales", "Account Executive"),
    ("Marketing", "Marketing Specialist"),
    ("Growth", "Growth Analyst"),
    ("Engineering", "Software Engineer"),
    ("Data", "Data Engineer"),
    ("Operations", "Operations Analyst"),
)
FIRST_NAMES = (
    "anna",
    "ben",
    "carla",
    "david",
    "elena",
    "farid",
    "grace",
    "hiro",
    "ines",
    "jonas",
    "kemi",
    "liam",
    "maya",
    "noah",
    "olga",
    "priya",
)
LAST_NAMES = (
    "smith",
    "garcia",
    "mueller",
    "rossi",
    "tanaka",
    "okafor",
    "kowalski",
    "nguyen",
    "patel",
    "dubois",
    "jensen",
    "silva",
    "cohen",
    "larsen",
)
FREE_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com")
EDU_DOMAINS = ("mit.edu", "stanford.edu", "umich.edu", "harvard.edu")
COMPANY_WORDS = (
    (
        "acme",
        "globex",
        "initech",
        "umbrella",
        "hooli",
        "vandelay",
        "wayne",
        "stark",
        "tyrell",
        "wonka",
        "soylent",
        "cyberdyne",
    ),
    (
        "robotics",
        "labs",
        "systems",
        "analytics",
        "health",
        "capital",
        "media",
        "logistics",
        "works",
        "cloud",
    ),
)
EMAIL_KIND_SHARE = (0.30, 0.63, 0.07)  # free, company, edu
EMAIL_KIND_LIFT = (-1.1, 0.0, -1.3)
LEAD_COLUMNS = [
    "lead_id",
    "created_at",
    "lead_source",
    "industry",
    "country",
    "company_size",
    "annual_revenue",
    "page_views",
    "email_opens",
    "form_fills",
    "webinars_attended",
    "days_since_last_activity",
    "legacy_lead_score",
    "marketing_opt_in",
    "technographics",
    "email",
    "job_title",
]


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. Same config, same bytes."""

    weeks: int = 12
    leads_per_week: int = 2000
    seed: int = 7
    scenario: str = "stable"
    drift_week: int = 9  # 1-based week where drift starts (ignored for stable and real-history)
    start: date = DEFAULT_START
    # Share of lead rows given one CRM-export defect each (see DEFECTS); 0 keeps files clean.
    defect_share: float = 0.0
    # Ids are <prefix><ISO year and week of creation>-<n>: exports of other weeks (another
    # --start) never reuse an id; a prefix keeps two exports of the same weeks apart.
    id_prefix: str = "L"

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"scenario {self.scenario!r}: choose one of {', '.join(SCENARIOS)}")
        if self.weeks < 1 or self.leads_per_week < 1 or self.drift_week < 1:
            raise ValueError("weeks, leads_per_week and drift_week must be >= 1")
        if not 0.0 <= self.defect_share < 1.0:
            raise ValueError("defect_share must be in [0, 1)")

    def drifted(self, week: int) -> bool:
        """Whether ``week`` is on or after the drift of a drifting scenario."""
        # real-history changes gradually over all its weeks, with no single drift week.
        steps = ("covariate-drift", "conversion-drop")
        return self.scenario in steps and week >= self.drift_week


def _pick(rng: np.random.Generator, n: int, shares: tuple[float, ...]) -> np.ndarray:
    p = np.asarray(shares, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _people(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Seniority, job title and email; who the lead is matters as much as the company."""
    level = _pick(rng, n, tuple(s[1] for s in SENIORITY))
    func, u_title = rng.integers(len(FUNCTIONS), size=n), rng.random(n)
    templates = [SENIORITY[lv][3] for lv in level]
    titles = [
        t[int(u * len(t))].format(f=FUNCTIONS[f][0], r=FUNCTIONS[f][1])
        for t, f, u in zip(templates, func, u_title, strict=True)
    ]
    first, last = rng.integers(len(FIRST_NAMES), size=n), rng.integers(len(LAST_NAMES), size=n)
    kind = _pick(rng, n, EMAIL_KIND_SHARE)
    word_a, word_b = rng.integers(12, size=n), rng.integers(10, size=n)
    pick3, pick4 = rng.integers(3, size=n), rng.integers(4, size=n)
    domains = [
        FREE_DOMAINS[p3]
        if k == 0
        else EDU_DOMAINS[p4]
        if k == 2
        else f"{COMPANY_WORDS[0][a]}-{COMPANY_WORDS[1][b]}.com"
        for k, a, b, p3, p4 in zip(kind, word_a, word_b, pick3, pick4, strict=True)
    ]
    emails = [
        f"{FIRST_NAMES[f]}.{LAST_NAMES[s]}@{d}"
        for f, s, d in zip(first, last, domains, strict=True)
    ]
    return {
        "level": level,
        "func": func,
        "job_title": np.array(titles, dtype=object),
        "email": np.array(emails, dtype=object),
        "email_kind": kind,
    }


def _technographics(rng: np.random.Generator, size: np.ndarray, new_tech: bool) -> np.ndarray:
    """n x (len(TECH) + 1) membership matrix, the new tool last; 0-6 tools per lead.

    Bigger companies run bigger stacks.
    """
    n = len(size)
    k = rng.binomial(6, np.clip(0.12 + 0.08 * np.log10(size), 0.05, 0.8))
    # Gumbel top-k: a weighted draw without replacement, vectorised over rows.
    keys = np.log([t[1] for t in TECH]) - np.log(-np.log(rng.random((n, len(TECH)))))
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    has_new = (rng.random(n) < NEW_TECH_SHARE) & new_tech
    has = rank < np.minimum(k, 6 - has_new)[:, None]
    return np.column_stack([has, has_new])


def _conversion_logit(
    lead: pd.DataFrame, people: dict[str, np.ndarray], stack: np.ndarray
) -> np.ndarray:
    """The hidden truth: non-linear, with interactions, so a good model is good, not perfect."""
    log_size = np.log10(lead["company_size"].to_numpy())
    who = (
        np.array([s[2] for s in SENIORITY])[people["level"]]
        + 0.3 * (people["func"] <= 2)  # sales, marketing and growth are the buyers
        + 0.4 * (people["level"] <= 2) * np.clip(log_size - 2, -2, 2)  # deciders at big firms
        - 0.25 * (log_size - 2.7) ** 2  # mid-market sweet spot
        + np.array(EMAIL_KIND_LIFT)[people["email_kind"]]
        + np.array(SOURCE_LIFT)[lead["lead_source"].map(SOURCES.index)]
        + np.array(INDUSTRY_LIFT)[lead["industry"].map(INDUSTRIES.index)]
        + stack.astype(float) @ np.array([t[2] for t in TECH] + [NEW_TECH_LIFT])
    )
    # Engagement saturates, and interest decays with days since the last touch.
    engaged = (
        1.8 * np.tanh(lead["page_views"] / 10)
        + 1.5 * np.tanh(lead["form_fills"] / 1.5)
        + 0.5 * np.minimum(lead["webinars_attended"], 2)
        + 0.25 * np.tanh(lead["email_opens"] / 6)
        + 1.2 * np.exp(-lead["days_since_last_activity"] / 14)
        + 0.2 * lead["marketing_opt_in"]
    )
    return -4.85 + who + engaged.to_numpy(dtype=float)


def _legacy_score(lead: pd.DataFrame, level: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The old rule-based score sales used: linear points, capped, noisy."""
    points = (
        20 * (level <= 2)
        + 2 * np.minimum(lead["page_views"], 10)
        + 10 * np.minimum(lead["form_fills"], 2)
        + 5 * np.minimum(lead["webinars_attended"], 2)
        + 15 * lead["lead_source"].isin(["referral", "events"])
        + 10 * (lead["company_size"] >= 200)
        + rng.normal(0, 8, len(lead))
    )
    return np.clip(np.round(points), 0, 100).astype(int)


def _firmographics(rng: np.random.Generator, n: int, shifted: bool) -> pd.DataFrame:
    """Who the company is, and how engaged the lead has been."""
    # Covariate drift: paid search floods in and the product moves upmarket.
    source_share = SOURCE_SHARE["drift" if shifted else "stable"]
    size_mu = math.log(80) + (1.0 if shifted else 0.0)
    size = np.clip(np.round(np.exp(rng.normal(size_mu, 1.6, n))), 1, 100_000).astype(int)
    intent = rng.normal(0, 1, n)  # unobserved buying intent drives every engagement count
    return pd.DataFrame(
        {
            "lead_source": np.array(SOURCES)[_pick(rng, n, source_share)],
            "industry": np.array(INDUSTRIES)[_pick(rng, n, INDUSTRY_SHARE)],
            "country": np.array(COUNTRIES)[_pick(rng, n, COUNTRY_SHARE)],
            "company_size": size,
            "annual_revenue": np.round(size * np.exp(rng.normal(math.log(150_000), 0.5, n)), 2),
            "page_views": rng.poisson(np.exp(1.6 + 0.6 * intent)),
            "email_opens": rng.poisson(np.exp(1.1 + 0.4 * intent)),
            "form_fills": rng.poisson(np.exp(-0.8 + 0.6 * intent)),
            "webinars_attended": rng.poisson(np.exp(-1.6 + 0.5 * intent)),
            "days_since_last_activity": np.floor(rng.exponential(np.exp(2.4 - 0.4 * intent))),
            "marketing_opt_in": rng.random(n) < 0.62,
        }
    ).astype({"days_since_last_activity": int})


def _leads(
    rng: np.random.Generator, config: GeneratorConfig, week: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """One week of leads in contract column order, and each lead's conversion logit."""
    n = config.leads_per_week
    shifted = config.scenario == "covariate-drift" and config.drifted(week)
    week_start = pd.Timestamp(config.start) + pd.Timedelta(weeks=week - 1)
    seconds = np.sort(rng.integers(0, 7 * DAY, size=n))
    lead = _firmographics(rng, n, shifted).assign(
        lead_id=[f"{config.id_prefix}{week_start:%G%V}-{i:06d}" for i in range(1, n + 1)],
        created_at=week_start + pd.to_timedelta(seconds, unit="s"),
    )
    people = _people(rng, n)
    stack = _technographics(rng, lead["company_size"].to_numpy(), new_tech=shifted)
    names = [t[0] for t in TECH] + [NEW_TECH]
    lead["legacy_lead_score"] = _legacy_score(lead, people["level"], rng)
    lead["technographics"] = [
        json.dumps([t for t, h in zip(names, row, strict=True) if h], separators=(",", ":"))
        for row in stack
    ]
    lead["email"], lead["job_title"] = people["email"], people["job_title"]
    logit = _conversion_logit(lead, people, stack) + rng.normal(0, 0.2, n)
    return lead[LEAD_COLUMNS], logit + _intercept_shift(config, week)


def _intercept_shift(config: GeneratorConfig, week: int) -> float:
    if not config.drifted(week):
        return 0.0
    # Covariate drift: the new tool lifts many leads; pull back so the overall rate holds.
    # Conversion drop: the same leads, a worse market.
    return -0.85 if config.scenario == "covariate-drift" else -0.65


def conversion_delays(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds from creation to conversion: 2 hours to 7 days, most in the first days."""
    window = OUTCOME_WINDOW_DAYS * DAY
    return 2 * 3600 + np.floor(rng.beta(1.6, 3.0, n) * (window - 3 * 3600))


def generate_week(config: GeneratorConfig, week: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leads created in week ``week`` (1-based) and all their outcomes, whenever they arrive.

    Returns:
        (leads, outcomes). Converted leads become opportunities 2 hours to 7 days after
        creation; about 60% of the rest get a disqualified row 1-7 days after creation;
        the others never do and count as not converted once the window has passed.
    """
    if config.scenario == crm_history.SCENARIO:
        return _history_week(config, week)
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, week]))
    lead, logit = _leads(rng, config, week)
    n = len(lead)
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    # Most conversions come within the first days; every outcome lands strictly inside
    # the window. Whole seconds keep timestamps exact in CSV.
    window = OUTCOME_WINDOW_DAYS * DAY
    won_delay = conversion_delays(rng, n)
    lost_delay = DAY + np.floor(rng.random(n) * (window - DAY - 1))
    reported = converted | (rng.random(n) < 0.6)
    delay = np.where(converted, won_delay, lost_delay)[reported]
    outcomes = pd.DataFrame(
        {
            "lead_id": lead["lead_id"][reported].to_numpy(),
            "converted": converted[reported],
            "converted_at": lead["created_at"][reported].to_numpy()
            + pd.to_timedelta(delay, unit="s"),
            # Won deals carry an amount (lost ones none); its own stream keeps the rest as was.
            deal_value.DEAL_COLUMN: np.where(
                converted,
                deal_value.draw_amounts(lead, np.random.default_rng([config.seed, week, 2])),
                np.nan,
            )[reported],
        }
    )
    if config.defect_share:
        lead = with_defects(
            lead,
            config.defect_share,
            np.random.default_rng(np.random.SeedSequence([config.seed, week, 1])),
        )
    return lead, outcomes


def _history_week(config: GeneratorConfig, week: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A week of the real-history scenario (app/demo/crm_history.py says what changes).

    ``leads_per_week`` is the first week's volume; the leads carry two more columns
    (contracts/real_history/real_history.yaml) and every lead gets a won or lost row.
    """
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, week]))
    n = crm_history.weekly_volume(config.leads_per_week, week, config.weeks)
    lead, logit = _leads(rng, replace(config, leads_per_week=n), week)
    history, lift = crm_history.contact_history(rng, n, week, config.weeks)
    lead = pd.concat([lead, history], axis=1)
    logit = logit + lift + crm_history.rate_shift(week, config.weeks)
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    delay = crm_history.decision_delays(rng, n, OUTCOME_WINDOW_DAYS)
    outcomes = pd.DataFrame(
        {
            "lead_id": lead["lead_id"].to_numpy(),
            "converted": converted,
            "converted_at": lead["created_at"].to_numpy() + pd.to_timedelta(delay, unit="s"),
        }
    )
    if config.defect_share:
        defects = np.random.default_rng(np.random.SeedSequence([config.seed, week, 1]))
        lead = with_defects(lead, config.defect_share, defects)
    return lead, outcomes


# What real exports get wrong, one per defective row: (column, value as exported).
DEFECTS = (
    ("company_size", "-12"),
    ("lead_source", ""),
    ("technographics", '["Salesforce", "HubSpot"'),
    ("legacy_lead_score", "140"),
    ("page_views", "n/a"),
)


def with_defects(lead: pd.DataFrame, share: float, rng: np.random.Generator) -> pd.DataFrame:
    """A copy of ``lead`` where ``share`` of the rows carry one defect from DEFECTS each.

    Defects go in after the outcomes are drawn, so the clean rows (and every outcome)
    are the same as with no defects.
    """
    count = int(round(len(lead) * share))
    if count == 0:
        return lead
    lead = lead.astype({column: object for column, _ in DEFECTS})
    rows = rng.choice(len(lead), size=count, replace=False)
    for i, row in enumerate(sorted(rows)):
        column, value = DEFECTS[i % len(DEFECTS)]
        lead.iat[row, lead.columns.get_loc(column)] = value
    return lead


def generate(config: GeneratorConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All leads of weeks 1..config.weeks and all their outcomes."""
    parts = [generate_week(config, week) for week in range(1, config.weeks + 1)]
    return (
        pd.concat([p[0] for p in parts], ignore_index=True),
        pd.concat([p[1] for p in parts], ignore_index=True),
    )


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    # Lower-case booleans and a fixed line end keep files byte-identical across platforms.
    flags = frame.select_dtypes(bool).columns
    frame = frame.assign(**{c: frame[c].map({True: "true", False: "false"}) for c in flags})
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S", lineterminator="\n")
    return path


def write_dataset(config: GeneratorConfig, out_dir: Path) -> list[Path]:
    """Write weekly leads files and weekly outcome files keyed by arrival week.

    ``outcomes/outcomes_week_NN.csv`` holds the outcomes whose ``converted_at`` falls in
    week NN; files run past ``config.weeks`` up to the outcome window so none are lost.

    Returns:
        The paths written, leads first.
    """
    out_dir = Path(out_dir)
    parts = [generate_week(config, week) for week in range(1, config.weeks + 1)]
    paths = [
        _write_csv(leads, out_dir / "leads" / f"leads_week_{week:02d}.csv")
        for week, (leads, _) in enumerate(parts, start=1)
    ]
    outcomes = pd.concat([p[1] for p in parts], ignore_index=True)
    arrival_week = (outcomes["converted_at"] - pd.Timestamp(config.start)).dt.days // 7 + 1
    outcomes = outcomes.assign(_week=arrival_week).sort_values(["converted_at", "lead_id"])
    # Leads of the last week can close up to the window later; keep writing until then.
    last_week = config.weeks + math.ceil(OUTCOME_WINDOW_DAYS / 7)
    for week in range(1, last_week + 1):
        rows = outcomes[outcomes["_week"] == week].drop(columns="_week")
        paths.append(_write_csv(rows, out_dir / "outcomes" / f"outcomes_week_{week:02d}.csv"))
    return paths


BLOCK_LEADS = 50_000


def write_big_leads_csv(path: Path, target_bytes: int, seed: int = 11) -> int:
    """A leads CSV of at least ``target_bytes``, written fast: one generated week of
    BLOCK_LEADS leads repeated, each repetition's ids prefixed with its number, so every
    row is a distinct lead (silver and gold grow with the file, as with a real export).
    For memory tests and the ingest bench; returns the number of rows.
    """
    import io

    leads, _ = generate_week(GeneratorConfig(weeks=1, leads_per_week=BLOCK_LEADS, seed=seed), 1)
    flags = leads.select_dtypes(bool).columns
    leads = leads.assign(**{c: leads[c].map({True: "true", False: "false"}) for c in flags})
    text = io.StringIO()
    leads.to_csv(text, index=False, date_format="%Y-%m-%dT%H:%M:%S", lineterminator="\n")
    header, _, body = text.getvalue().encode().partition(b"\n")
    lines = body.rstrip(b"\n").split(b"\n")
    assert all(line.startswith(b"L") for line in lines[:3]), "lead_id must be the first column"
    rows, written = 0, 0
    with Path(path).open("wb") as out:
        out.write(header + b"\n")
        repetition = 0
        while written < target_bytes:
            prefix = b"R%04d" % repetition
            chunk = b"\n".join(prefix + line for line in lines) + b"\n"
            out.write(chunk)
            written, rows, repetition = written + len(chunk), rows + len(lines), repetition + 1
    return rows
