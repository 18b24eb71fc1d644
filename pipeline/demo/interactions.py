"""Interactions: generated per year (channel, type, start, topic, phone and chat outcomes,
e-mail responses) and written as ``interactions_<year>.parquet``.

Service-request interactions each create one of the year's SRs (and give it its channel);
status updates refer to an SR created earlier. Every draw comes from one seeded stream per
(seed, year), in a fixed order: the steps below must keep that order for the files to stay
byte-identical.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from .allocation import exact_sum_adjust, largest_remainder, scaled
from .calendar import DAY_US, US, Calendar, fix_dst_gap
from .calibration import (
    CHAT_TRANSFER_RATE,
    HOUR_PROFILE_DIGITAL,
    HOUR_PROFILE_PHONE,
    LANGUAGE_NOT_RECORDED_SHARE,
    MONTH_SL_OFFSET,
    PHONE_TRANSFER_RATE,
    SHORT_ABANDON_S,
    SL_THRESHOLD_S,
    SR_BONUS,
    STORM_DATE,
    SU_BONUS,
    TRANSFER_NOT_RECORDED_SHARE,
    UNLINKED_SR_CHANNEL,
    VHT_PHONE_CALLS_2024,
    VHT_TRANSFER_RATE,
    channel_counts,
    phone_targets,
)
from .parquet import id_array, take, ts, write_parquet
from .reference import LANGUAGE_P, LANGUAGES, TOPICS, VHT
from .sampling import INTERACTION_STREAM, rng, sample_days, time_of_day
from .schema import (
    ABANDONED,
    ANSWERED,
    CHANNELS,
    CHAT,
    EMAIL,
    GI,
    INPERSON,
    INTERACTION_TYPES,
    INTERACTIONS_SCHEMA,
    N_CHANNELS,
    OUTCOMES,
    PHONE,
    SRI,
    SU,
)


# --- channel, type, start ------------------------------------------------------------------
def _assign_types(gen: np.random.Generator, channel: np.ndarray, n_sr_int: int, n_su: int):
    """Interaction type per row (SR and status-update rows favour their channels); SR rows."""
    n = len(channel)
    itype = np.full(n, GI, np.int8)
    key = gen.random(n) + SR_BONUS[channel]
    sr_rows = np.argpartition(-key, n_sr_int - 1)[:n_sr_int] if n_sr_int else np.zeros(0, np.int64)
    itype[sr_rows] = SRI
    key2 = gen.random(n) + SU_BONUS[channel]
    key2[sr_rows] = -1.0
    if n_su:
        itype[np.argpartition(-key2, n_su - 1)[:n_su]] = SU
    return itype, np.sort(sr_rows)


def _link_service_requests(gen, cal: Calendar, sr: dict, channel, sr_rows, started, sr_ref) -> None:
    """Each SR interaction creates one SR, started a few minutes before it (same day)."""
    n_sr_int = len(sr_rows)
    linked = gen.permutation(sr["n"])[:n_sr_int]
    created = sr["created"][linked]
    since_midnight = (created - cal.day_us[0]) % DAY_US
    lead = np.minimum(gen.gamma(2.0, 120.0, n_sr_int).astype(np.int64) * US, since_midnight)
    started[sr_rows] = created - lead
    sr_ref[sr_rows] = linked
    sr["channel"][linked] = channel[sr_rows]
    unlinked = sr["channel"] < 0
    sr["channel"][unlinked] = gen.choice(N_CHANNELS, size=int(unlinked.sum()), p=UNLINKED_SR_CHANNEL)


def _channel_day_weights(cal: Calendar, c: int, season: np.ndarray) -> np.ndarray:
    if c in (PHONE, CHAT, INPERSON):
        w = season * cal.weekday_factor(0.55, 0.6)
    else:
        w = season * cal.weekday_factor(0.8, 0.85)
    if c == PHONE:
        w = w * np.where(cal.month == 0, 1.08, 1.0)
        storm_idx = cal.index_of(STORM_DATE)
        if storm_idx is not None:
            w[storm_idx] *= 1.9
    return w


def _start_other(gen, cal: Calendar, channel, itype, started) -> None:
    """Starts of the interactions that created no SR: seasonal day weights by channel."""
    other = np.flatnonzero(itype != SRI)
    ch_o = channel[other]
    season = cal.season(200, 0.12)
    for c in range(N_CHANNELS):
        sel = other[ch_o == c]
        if not len(sel):
            continue
        w = _channel_day_weights(cal, c, season)
        profile = HOUR_PROFILE_PHONE if c in (PHONE, INPERSON) else HOUR_PROFILE_DIGITAL
        started[sel] = cal.day_us[sample_days(gen, len(sel), w)] + time_of_day(gen, len(sel), profile)


def _refer_status_updates(gen, sr: dict, itype, started, sr_ref) -> None:
    """Status updates refer to an SR created earlier (recent ones more often); 8% to none."""
    su_rows = np.flatnonzero(itype == SU)
    k = np.searchsorted(sr["created"], started[su_rows])
    pick = np.floor(k * (1 - gen.random(len(su_rows)) ** 2)).astype(np.int64)
    sr_ref[su_rows] = np.where((k > 0) & (gen.random(len(su_rows)) < 0.92), np.minimum(pick, k - 1), -1)


# --- topics --------------------------------------------------------------------------------
def _vht_probability(year: int, month: np.ndarray, phone_gi: np.ndarray) -> np.ndarray:
    """Chance that a general inquiry is about the Vacant Home Tax (by month, phone or not)."""
    if year == 2024:
        other = np.select([month < 6, month < 9, month == 9], [0.04, 0.02, 0.015], 0.002)
        phone = np.select([month < 6, month < 9, month == 9], [0.0, 0.05, 0.03], 0.003)
        return np.where(phone_gi, phone, other)
    if year == 2023:
        return np.where(phone_gi, np.select([month < 3, month < 6], [0.05, 0.11], 0.04), 0.03)
    return np.zeros(len(month))


def _topics(gen, year: int, scale: float, itype, channel, month) -> np.ndarray:
    """Topic index of each general inquiry (-1 for other types); 2024 VHT calls as published."""
    n = len(itype)
    topic = np.full(n, -1, np.int16)
    gi = itype == GI
    phone_gi = gi & (channel == PHONE)
    is_vht = gi & (gen.random(n) < _vht_probability(year, month, phone_gi))
    if year == 2024:
        quarter = month // 3
        for q, calls in VHT_PHONE_CALLS_2024.items():
            rows = np.flatnonzero(phone_gi & (quarter == q))
            want = min(scaled(calls, scale), len(rows))
            is_vht[gen.choice(rows, size=want, replace=False)] = True
    rest = np.flatnonzero(gi & ~is_vht)
    tw_rest = np.array([w for _, w in TOPICS])
    tw_rest[VHT] = 0
    topic[rest] = gen.choice(len(TOPICS), size=len(rest), p=tw_rest / tw_rest.sum())
    topic[is_vht] = VHT
    return topic


# --- phone ---------------------------------------------------------------------------------
def _phone_abandons(gen, ph_month, ph_day, storm_idx):
    """(abandoned, short abandon, queue seconds of the abandoned) per phone call."""
    p_ab = (0.082 - 0.9 * MONTH_SL_OFFSET[ph_month]).clip(0.02, 0.2)
    if storm_idx is not None:
        p_ab = np.where(ph_day == storm_idx, 0.14, p_ab)
    abandoned = gen.random(len(ph_month)) < p_ab
    short = abandoned & (gen.random(len(ph_month)) < 0.22)
    q = np.zeros(len(ph_month), np.int64)
    q[short] = gen.integers(0, SHORT_ABANDON_S, int(short.sum()))
    long_ab = abandoned & ~short
    q[long_ab] = SHORT_ABANDON_S + (np.exp(gen.normal(np.log(90), 0.8, int(long_ab.sum())))).astype(np.int64)
    return abandoned, short, q


def _within_threshold(gen, ph_month, short, ans_rows, ans_day, storm_idx, sl_target: float) -> np.ndarray:
    """Which answered calls are answered within the threshold: the year's service level
    exactly, spread over the months by MONTH_SL_OFFSET (worse on the storm day)."""
    denom_m = np.bincount(ph_month[~short], minlength=12)
    denom = int(denom_m.sum())
    within_total = min(int(round(sl_target * denom)), len(ans_rows))
    base = (sl_target * denom - (MONTH_SL_OFFSET * denom_m).sum()) / max(denom, 1)
    ans_month = ph_month[ans_rows]
    ans_m = np.bincount(ans_month, minlength=12)
    want_m = np.minimum(largest_remainder(within_total, (base + MONTH_SL_OFFSET) * denom_m), ans_m)
    rkey = gen.random(len(ans_rows))
    if storm_idx is not None:
        rkey = rkey + np.where(ans_day == storm_idx, 0.6, 0.0)
    o = np.lexsort((rkey, ans_month))
    starts = np.concatenate([[0], np.cumsum(ans_m)[:-1]])
    rank = np.empty(len(o), np.int64)
    rank[o] = np.arange(len(o)) - np.repeat(starts, ans_m)
    return rank < want_m[ans_month]


def _answered_queue(gen, within: np.ndarray, asa: float) -> np.ndarray:
    """Queue seconds of answered calls: within or over the threshold, averaging ``asa``."""
    qa = np.empty(len(within), np.int64)
    nw = int(within.sum())
    fast = gen.random(nw) < 0.38
    quick = gen.integers(0, 12, nw)  # drawn before ``slow``: the stream's order
    decay = 28.0
    slow = -np.log(1 - gen.random(nw) * (1 - np.exp(-SL_THRESHOLD_S / decay))) * decay
    qa[within] = np.where(fast, quick, np.minimum(slow, SL_THRESHOLD_S).astype(np.int64))
    no = len(within) - nw
    over = SL_THRESHOLD_S + 1
    qa[~within] = over + np.exp(gen.normal(np.log(110), 0.75, no)).astype(np.int64)
    if no:
        qa[~within] = exact_sum_adjust(
            gen, qa[~within], over, int(round(asa * len(within))) - int(qa[within].sum())
        )
    return qa


def _phone(gen, cal: Calendar, targets: tuple[float, float, float], channel, month, day_idx, it: dict):
    """Outcome, queue and handle seconds of phone calls, on the year's published targets.

    Returns the phone rows and which of them were answered.
    """
    sl_target, asa, aht = targets
    storm_idx = cal.index_of(STORM_DATE)
    ph = np.flatnonzero(channel == PHONE)
    ph_month, ph_day = month[ph], day_idx[ph]
    abandoned, short, q = _phone_abandons(gen, ph_month, ph_day, storm_idx)
    it["outcome"][ph] = np.where(abandoned, ABANDONED, ANSWERED)
    ans_rows = np.flatnonzero(~abandoned)
    within = _within_threshold(gen, ph_month, short, ans_rows, ph_day[ans_rows], storm_idx, sl_target)
    q[ans_rows] = _answered_queue(gen, within, asa)
    it["queue"][ph] = q
    it["queue_null"][ph] = False
    h = (30 + np.exp(gen.normal(np.log(235), 0.62, len(ans_rows)))).astype(np.int64)
    h = exact_sum_adjust(gen, h, 30, int(round(aht * len(ans_rows))))
    ph_h = np.zeros(len(ph), np.int64)
    ph_h[ans_rows] = h
    it["handle"][ph] = ph_h
    it["handle_null"][ph] = abandoned
    return ph, ~abandoned


def _live_chat(gen, channel, it: dict):
    """Outcome and handle seconds of live chats; returns the chat rows and which were answered."""
    lc = np.flatnonzero(channel == CHAT)
    lc_ab = gen.random(len(lc)) < 0.07
    it["outcome"][lc] = np.where(lc_ab, ABANDONED, ANSWERED)
    it["handle"][lc] = (60 + np.exp(gen.normal(np.log(480), 0.6, len(lc)))).astype(np.int64)
    it["handle_null"][lc] = lc_ab
    return lc, ~lc_ab


def _transfers(gen, year: int, it: dict, phone: tuple, chat: tuple, topic: np.ndarray) -> None:
    """Some answered phone calls and chats are transferred (Vacant Home Tax calls less often)."""
    (ph, ph_answered), (lc, lc_answered) = phone, chat
    rate = np.where(topic[ph] == VHT, VHT_TRANSFER_RATE, PHONE_TRANSFER_RATE.get(year, PHONE_TRANSFER_RATE[2024]))
    it["transferred"][ph] = ph_answered & (gen.random(len(ph)) < rate)
    it["transferred"][lc] = lc_answered & (gen.random(len(lc)) < CHAT_TRANSFER_RATE)


def _not_recorded(gen, channel: np.ndarray, language: np.ndarray, it: dict) -> None:
    """Blank transferred (other channels; some calls and chats) and blank languages. Drawn
    after everything else, so the other columns do not depend on these shares."""
    n = len(channel)
    it["transferred_null"] = ~np.isin(channel, (PHONE, CHAT)) | (gen.random(n) < TRANSFER_NOT_RECORDED_SHARE)
    language[gen.random(n) < LANGUAGE_NOT_RECORDED_SHARE] = -1


def _email_responses(gen, year: int, channel, started, it: dict) -> None:
    """E-mails are answered after about 14 hours (3% not yet)."""
    em = np.flatnonzero(channel == EMAIL)
    delay = np.maximum(np.exp(gen.normal(np.log(14 * 3600), 0.78, len(em))), 300).astype(np.int64) * US
    it["responded"][em] = fix_dst_gap(started[em] + delay, (year, year + 1))
    it["responded_null"][em] = gen.random(len(em)) < 0.03


# --- the year ------------------------------------------------------------------------------
def _empty_outcomes(n: int) -> dict:
    return {
        "outcome": np.full(n, -1, np.int8),
        "queue": np.zeros(n, np.int64),
        "queue_null": np.ones(n, bool),
        "handle": np.zeros(n, np.int64),
        "handle_null": np.ones(n, bool),
        "transferred": np.zeros(n, bool),
        "transferred_null": np.ones(n, bool),
        "responded": np.zeros(n, np.int64),
        "responded_null": np.ones(n, bool),
    }


def _starts(gen, cal: Calendar, sr: dict, ref: dict, scale: float):
    """(channel, type, started, sr_ref) of every interaction, sorted by start."""
    ch_counts = channel_counts(cal.year, scale, ref)
    n = int(ch_counts.sum())
    shares = ref["figures"]["2024"]["interaction_type_share"]
    n_sr_int = min(int(round(shares["service_request"] * n)), sr["n"])
    n_su = int(round(shares["status_update"] * n))
    channel = gen.permutation(np.repeat(np.arange(N_CHANNELS), ch_counts)).astype(np.int8)
    itype, sr_rows = _assign_types(gen, channel, n_sr_int, n_su)
    started = np.empty(n, np.int64)
    sr_ref = np.full(n, -1, np.int64)
    _link_service_requests(gen, cal, sr, channel, sr_rows, started, sr_ref)
    _start_other(gen, cal, channel, itype, started)
    # every start (those linked to an SR too, a few minutes before its creation) off the gap
    started = fix_dst_gap(started, (cal.year,))
    _refer_status_updates(gen, sr, itype, started, sr_ref)
    order = np.argsort(started, kind="stable")
    return channel[order], itype[order], started[order], sr_ref[order]


def generate_interactions(year: int, scale: float, seed: int, ref: dict, sr: dict) -> dict:
    """The year's interactions as arrays of codes, sorted by start; sets ``sr["channel"]``."""
    gen = rng(seed, year, INTERACTION_STREAM)
    cal = Calendar(year)
    channel, itype, started, sr_ref = _starts(gen, cal, sr, ref, scale)
    n = len(channel)
    day_idx = cal.day_index(started)
    month = cal.month[day_idx]
    it = _empty_outcomes(n)
    topic = _topics(gen, year, scale, itype, channel, month)
    phone = _phone(gen, cal, phone_targets(year, ref), channel, month, day_idx, it)
    chat = _live_chat(gen, channel, it)
    _transfers(gen, year, it, phone, chat, topic)
    _email_responses(gen, year, channel, started, it)
    language = gen.choice(len(LANGUAGES), size=n, p=LANGUAGE_P / LANGUAGE_P.sum()).astype(np.int8)
    _not_recorded(gen, channel, language, it)
    return {
        "n": n,
        "started": started,
        "channel": channel,
        "type": itype,
        "topic": topic,
        "topic_values": [t for t, _ in TOPICS],
        "sr_ref": sr_ref,
        "language": language,
        **it,
    }


def write_interactions(path: Path, year: int, it: dict, sr_n: int) -> int:
    n = it["n"]
    width = max(7, len(str(n)))
    sr_width = max(7, len(str(sr_n)))
    topics = pa.array(it["topic_values"], pa.string())

    def batch(lo: int, hi: int) -> dict[str, pa.Array]:
        s = slice(lo, hi)
        ref = it["sr_ref"][s]
        return {
            "interaction_id": id_array(f"I{year}-", np.arange(lo + 1, hi + 1), width),
            "started_at": ts(it["started"][s]),
            "channel": take(CHANNELS, it["channel"][s]),
            "interaction_type": take(INTERACTION_TYPES, it["type"][s]),
            "topic": take(topics, it["topic"][s]),
            "outcome": take(OUTCOMES, it["outcome"][s]),
            "queue_seconds": pa.array(it["queue"][s].astype(np.int32), mask=it["queue_null"][s]),
            "handle_seconds": pa.array(it["handle"][s].astype(np.int32), mask=it["handle_null"][s]),
            "transferred": pa.array(it["transferred"][s], mask=it["transferred_null"][s]),
            "responded_at": ts(it["responded"][s], it["responded_null"][s]),
            "sr_id": id_array(f"SR{year}-", np.maximum(ref, 0) + 1, sr_width, valid=ref >= 0),
            "language": take(LANGUAGES, it["language"][s]),
        }

    write_parquet(path, INTERACTIONS_SCHEMA, n, batch)
    return n
