"""The household engine's tidy tables, from the sums its passes take (``engine.py``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sovsim import calendar
from sovsim.households import engine_kernels as K
from sovsim.population.cells import N_CELLS
from sovsim.regions import CLASSES, REGIONS, TENURES

STOCK_NAMES = ("households", "persons", "grain_t", "horses", "cattle", "area_last_ha")
FLOW_NAMES = {
    K.F_BIRTHS: ("births", "persons"), K.F_DEATHS: ("deaths", "persons"),
    K.F_MIGRANTS: ("out_migrants", "persons"), K.F_RETURNERS: ("return_migrants", "persons"),
    K.F_HARVEST: ("harvest_net_t", "t"), K.F_RELIEF: ("relief_t", "t"),
    K.F_PROCURED: ("procured_t", "t"), K.F_QUOTA: ("quota_t", "t"),
    K.F_SHORTFALL: ("quota_shortfall_t", "t"), K.F_DEP_HH: ("deported_households", "households"),
    K.F_DEP_PERSONS: ("deported_persons", "persons"), K.F_CONFISCATED: ("confiscated_t", "t"),
    K.F_JOINED_HH: ("joined_kolkhoz_households", "households"),
    K.F_LEFT_HH: ("left_kolkhoz_households", "households"),
    K.F_HORSES_LOST: ("horses_net_loss_head", "head"),
    K.F_SLAUGHTER_HH: ("slaughtering_households", "households"),
    K.F_HORSES_SLAUGHTERED: ("horses_slaughtered_head", "head"),
    K.F_DIED_OUT_HH: ("died_out_households", "households"),
    K.F_ALL_LEFT_HH: ("all_left_households", "households"),
}
# Grain per head: bin 0 no grain (under 0.1 kg a head), then 0.1 kg .. 100 t in 0.025 decades.
LOG_LO, LOG_STEP, N_BINS = -1.0, 0.025, 1 + 240
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


# -- observations of the table -------------------------------------------------------------
def grain_observed(table, corr, pooled, S, nblocks) -> tuple[np.ndarray, np.ndarray]:
    """The households' grain per head now: a histogram by cell (``N_BINS`` log bins, weighted
    by persons) and the totals; a pooled cell's households all hold its grain per head."""
    hist = np.zeros((nblocks, N_CELLS, N_BINS))
    totals = np.zeros((nblocks, N_CELLS, 3))
    K.grain_histogram(table.cell, table.X, corr, pooled, S, LOG_LO, LOG_STEP, hist, totals)
    hist, totals = hist.sum(axis=0), totals.sum(axis=0)
    for c in np.flatnonzero(pooled & (totals[:, 0] > 0)):  # one grain per head for the cell
        kg = 1000.0 * totals[c, 1] / totals[c, 0]
        k = 0 if kg < 10.0**LOG_LO else int(
            np.clip(1 + np.floor((np.log10(kg) - LOG_LO) / LOG_STEP), 1, N_BINS - 1))
        hist[c, k] += totals[c, 0]
    return hist, totals


def horses_observed(table, corr, pooled, S, nblocks) -> np.ndarray:
    """The horses now of the households noted at the reference month, by cell and by the
    year they entered a kolkhoz (``horses_by_entry``)."""
    n_cohorts = calendar.N_MONTHS // 12 + 1
    out = np.zeros((nblocks, N_CELLS, n_cohorts, 3))
    K.horses_by_entry(table.cell, table.X, table.entry, table.horses_ref, corr, pooled, S,
                      n_cohorts, out)
    return out.sum(axis=0)


# -- tables ------------------------------------------------------------------------------------
def cell_labels() -> pd.DataFrame:
    idx = np.arange(N_CELLS)
    nk, nt = len(CLASSES), len(TENURES)
    return pd.DataFrame({"region": np.array(REGIONS)[idx // (nk * nt)],
                         "class": np.array(CLASSES)[(idx // nt) % nk],
                         "tenure": np.array(TENURES)[idx % nt]})


def flows_table(flows_year: np.ndarray, cell_flows_year: np.ndarray, n_months: int
                 ) -> pd.DataFrame:
    labels = cell_labels()
    years = (n_months + 11) // 12
    ks = list(FLOW_NAMES)
    shape = (years, len(ks), N_CELLS)  # year, variable, cell
    y, v, c = (a.ravel() for a in np.indices(shape))
    names = np.array([FLOW_NAMES[k][0] for k in ks])
    units = np.array([FLOW_NAMES[k][1] for k in ks])
    return pd.DataFrame({
        "year": calendar.START_YEAR + y, "region": labels.region.values[c],
        "class": labels["class"].values[c], "tenure": labels.tenure.values[c],
        "variable": names[v],
        "value": flows_year[:years][:, :, ks].transpose(0, 2, 1).ravel(),
        "cell_model_value": cell_flows_year[:years][:, :, ks].transpose(0, 2, 1).ravel(),
        "unit": units[v],
    })


def totals_table(totals: np.ndarray) -> pd.DataFrame:
    """By month, cell and stock: the households' own sums before the alignment, and the cell
    model's."""
    labels = cell_labels()
    months = totals.shape[0]
    m, k, c = (a.ravel() for a in np.indices((months, K.N_STOCKS, N_CELLS)))
    periods = np.array([calendar.label(i) for i in range(months)])
    return pd.DataFrame({
        "period": periods[m], "region": labels.region.values[c],
        "class": labels["class"].values[c], "tenure": labels.tenure.values[c],
        "stock": np.array(STOCK_NAMES)[k],
        "households_value": totals[:, :, 0, :].transpose(0, 2, 1).ravel(),
        "cell_model_value": totals[:, :, 1, :].transpose(0, 2, 1).ravel(),
    })


def quantiles(hist: np.ndarray) -> list[float]:
    """Quantiles (kg per head) from a persons-weighted histogram, linear within a bin (on the
    log scale); bin 0 (no grain) is 0 kg."""
    total = hist.sum()
    if total <= 0:
        return [np.nan] * len(QUANTILES)
    cum = np.cumsum(hist) / total
    out = []
    for q in QUANTILES:
        k = int(np.searchsorted(cum, q, side="left"))
        if k == 0:
            out.append(0.0)
            continue
        below = cum[k - 1]
        frac = (q - below) / max(cum[k] - below, 1e-300)
        out.append(float(10 ** (LOG_LO + (k - 1 + frac) * LOG_STEP)))
    return out


def _groups(by_tenure: bool) -> list[tuple[tuple[str, ...], np.ndarray]]:
    """Labels and 0/1 masks over the cells: each cell (or region x tenure), region x class,
    region, USSR x class, USSR (or the region and USSR totals by tenure)."""
    idx = np.arange(N_CELLS)
    nk, nt = len(CLASSES), len(TENURES)
    region, klass, tenure = idx // (nk * nt), (idx // nt) % nk, idx % nt
    out = []
    if by_tenure:  # horses: region (and USSR) x tenure (and all)
        for r, rname in [*enumerate(REGIONS), (None, "USSR")]:
            for t, tname in [(None, "all"), *enumerate(TENURES)]:
                in_region = idx >= 0 if r is None else region == r
                out.append(((rname, tname), in_region & (idx >= 0 if t is None else tenure == t)))
    else:
        for c in idx:
            out.append(((REGIONS[region[c]], CLASSES[klass[c]], TENURES[tenure[c]]), idx == c))
        for r, rname in enumerate(REGIONS):
            for k, kname in enumerate(CLASSES):
                out.append(((rname, kname, "all"), (region == r) & (klass == k)))
            out.append(((rname, "all", "all"), region == r))
        for k, kname in enumerate(CLASSES):
            out.append((("USSR", kname, "all"), klass == k))
        out.append((("USSR", "all", "all"), idx >= 0))
    return [(lab, m.astype(float)) for lab, m in out]


def grain_table(obs: list) -> pd.DataFrame:
    groups = _groups(False)
    masks = np.array([m for _, m in groups])
    rows = []
    for month, (hist, tot) in obs:
        g_hist, g_tot = masks @ hist, masks @ tot
        for (labels, _), hst, (persons, grain, hh) in zip(groups, g_hist, g_tot):
            if persons <= 0:
                continue
            rows.append((calendar.label(month), *labels, persons, hh, 1000.0 * grain / persons,
                         *quantiles(hst), hst[0] / persons))
    cols = ["period", "region", "class", "tenure", "persons", "households", "mean_kg",
            *[f"p{int(q * 100)}_kg" for q in QUANTILES], "share_without_grain"]
    return pd.DataFrame(rows, columns=cols)


def horses_table(obs: list, ref_month: int) -> pd.DataFrame:
    groups = _groups(True)
    masks = np.array([m for _, m in groups])
    rows = []
    for month, arr in obs:
        n_cohorts = arr.shape[1]
        summed = np.einsum("gc,ckv->gkv", masks, arr)  # group, cohort, [hh, now, then]
        for ((region, tenure), _), by_cohort in zip(groups, summed):
            for k, (hh, now, then) in enumerate(by_cohort):
                if hh <= 0:
                    continue
                cohort = "never" if k == n_cohorts - 1 else str(calendar.START_YEAR + k)
                rows.append((calendar.label(month), calendar.label(ref_month), region, cohort,
                             tenure, hh, now / hh, then / hh,
                             (now - then) / then if then > 0 else np.nan))
    cols = ["period", "reference", "region", "entered_kolkhoz", "tenure_now", "households",
            "horses_per_household", "horses_per_household_at_reference", "change_share"]
    return pd.DataFrame(rows, columns=cols)


def panel_table(rows: np.ndarray, parts: list[dict], start_weight: np.ndarray) -> pd.DataFrame:
    """The panel, a row a household and month; ``start_weight``: each household's weight as
    the run starts (in the order of ``rows``)."""
    labels = cell_labels()
    frames = []
    for part in parts:
        now, fl = part["now"], part["flows"]
        cells = now[:, 0].astype(int)
        entry = part["entry"]
        frames.append(pd.DataFrame({
            "period": calendar.label(part["month"]), "household_id": rows,
            "region": labels.region.values[cells], "class": labels["class"].values[cells],
            "tenure": labels.tenure.values[cells], "weight": now[:, 1], "persons": now[:, 2],
            "grain_t": now[:, 3], "horses": now[:, 4], "cattle": now[:, 5],
            "area_ha": now[:, 6], "procured_t": fl[:, 0], "quota_t": fl[:, 1],
            "deaths": fl[:, 2], "births": fl[:, 3], "out_migrants": fl[:, 4],
            "harvest_net_t": fl[:, 5], "died_out": fl[:, 6] > 0, "all_left": fl[:, 7] > 0,
            "entered_kolkhoz": [calendar.label(int(e)) if e >= 0 else "" for e in entry],
        }))
    out = pd.concat(frames, ignore_index=True)
    # A household keeps its size in the table and its weight follows its members: its persons
    # now are its size times its weight over its weight as the run starts (at full scale,
    # weight 1: its size times its weight).
    first = np.tile(start_weight, len(parts))
    out["household_persons"] = np.where(first > 0, out["persons"] * out["weight"]
                                        / np.where(first > 0, first, 1.0), 0.0)
    # its fate by the end of each month: died out, all left for the towns, or its tenure
    gone = out.groupby("household_id")[["died_out", "all_left"]].cummax()
    out["fate"] = np.select([gone.died_out, gone.all_left],
                            ["died out", "left for the towns"],
                            out["tenure"].map(FATE_OF_TENURE).to_numpy())
    return out


FATE_OF_TENURE = {"individual": "farming alone", "kolkhoz": "in a kolkhoz",
                  "deported": "deported"}



def member_summary(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """A household run's outcomes in one tidy frame (period, region, class, measure, value),
    small enough to gather from every member of an ensemble: grain per head (mean, p10, p50,
    p90, share without grain) by region and class in every observed month; deaths,
    deportees, procurement and the quota's shortfall by region, class and year; the horses of
    each entry cohort against the reference (USSR)."""
    g = tables["household_grain_per_head"]
    g = g[g["tenure"] == "all"].melt(
        id_vars=["period", "region", "class"], var_name="measure",
        value_vars=["mean_kg", "p10_kg", "p50_kg", "p90_kg", "share_without_grain"])
    f = tables["household_flows"]
    f = f[f["variable"].isin(["deaths", "deported_persons", "procured_t", "quota_shortfall_t"])]
    f = (f.groupby(["year", "region", "class", "variable"], sort=False)["value"].sum()
         .reset_index().rename(columns={"year": "period", "variable": "measure"}))
    f["period"] = f["period"].astype(str)
    h = tables["household_horses"]
    h = h[(h["region"] == "USSR") & (h["tenure_now"] == "all")]
    h = pd.DataFrame({"period": h["period"], "region": "USSR", "class": "all",
                      "measure": "horses_change_share_entered_" + h["entered_kolkhoz"],
                      "value": h["change_share"]})
    return pd.concat([g, f, h], ignore_index=True)[["period", "region", "class", "measure",
                                                   "value"]]


def gap_rows(month: int, gaps: dict, raw: np.ndarray, target: np.ndarray) -> list[tuple]:
    """Per stock: the households' total over the cell model's, less 1; the largest such gap
    of a cell holding at least a millionth of the total (cells nearly emptied of a stock have
    gaps of rounding over almost nothing); the share of the total in cells without a row."""
    period = "start" if month < 0 else calendar.label(month)
    ratio = gaps["ratio"]
    out = []
    for k, name in enumerate(STOCK_NAMES):
        total = target[:, k].sum()
        held = (raw[:, k] > 0) & (target[:, k] > 1e-6 * max(total, 1.0))
        g = np.abs(ratio[held, k] - 1.0)
        missing = target[(raw[:, k] <= 0) & (target[:, k] > 0), k].sum()
        out.append((period, name,
                    # (over at least one unit: a stock emptied to rounding, as the villages'
                    # grain in a famine's last month, has gaps of rounding over nothing;
                    # issue 15, stategrain)
                    float(abs(raw[:, k].sum() - total) / max(total, 1.0)),
                    float(g.max()) if g.size else 0.0,
                    float(missing / total) if total > 0 else 0.0))
    return out
