// The creator center page: plain JavaScript, no build step, nothing loaded from elsewhere.
//
// - The bearer token comes from the form or the URL fragment (#token=...; a fragment never
//   reaches a server or a log) and is kept in this tab's sessionStorage only; the fragment is
//   removed from the address bar at once. It travels only in the Authorization header of the
//   API calls, never in a query string.
// - Money arrives as integer minor units with its asset. It is parsed to BigInt from the
//   JSON text itself and formatted with the asset's decimals by integer arithmetic: no float
//   ever touches an amount.
// - Charts are inline SVG drawn here; the DOM is built with textContent only (no HTML from
//   data).
"use strict";

(() => {
  const TOKEN_KEY = "planet.creatorCenter.token";
  const CREATOR_KEY = "planet.creatorCenter.creator";
  const SVG = "http://www.w3.org/2000/svg";
  // Keys whose integers are kept exact (BigInt): money and milli-points.
  const EXACT = /(_minor|_milli_points)$/;
  const minorDigits = {};

  // ---- numbers ---------------------------------------------------------------------------

  /** JSON with every money / milli-point integer as a BigInt read from its own digits. */
  function parseJson(text) {
    return JSON.parse(text, function revive(key, value, context) {
      if (typeof value !== "number" || !EXACT.test(key)) {
        return value;
      }
      // context.source is the number as written (JSON.parse source text access); without it
      // a value is exact only up to 2^53, which is checked rather than assumed.
      if (context && typeof context.source === "string") {
        return BigInt(context.source);
      }
      if (!Number.isSafeInteger(value)) {
        throw new Error(`${key} is not an exact integer: ${value}`);
      }
      return BigInt(value);
    });
  }

  function groupThousands(digits) {
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  /** "1,234.56 USDT" from 123456n minor units of USDT (2 decimals), by integer arithmetic. */
  function formatMoney(minor, asset) {
    const amount = typeof minor === "bigint" ? minor : BigInt(minor || 0);
    const digits = minorDigits[asset];
    if (digits === undefined) {
      return `${amount.toString()} minor units of ${asset || "?"}`;
    }
    const negative = amount < 0n;
    const magnitude = negative ? -amount : amount;
    const base = 10n ** BigInt(digits);
    const whole = groupThousands((magnitude / base).toString());
    const fraction = digits > 0
      ? "." + (magnitude % base).toString().padStart(digits, "0") : "";
    return `${negative ? "-" : ""}${whole}${fraction} ${asset}`;
  }

  /** "12.345" points from 12345n milli-points. */
  function formatMilli(milli) {
    const value = typeof milli === "bigint" ? milli : BigInt(milli || 0);
    const negative = value < 0n;
    const magnitude = negative ? -value : value;
    const fraction = (magnitude % 1000n).toString().padStart(3, "0");
    return `${negative ? "-" : ""}${groupThousands((magnitude / 1000n).toString())}.${fraction}`;
  }

  function formatCount(n) {
    return groupThousands(String(n || 0));
  }

  /** "1h 02m 03s", "2m 05s", "40s". */
  function formatDwell(seconds) {
    let s = Math.floor(Number(seconds || 0));
    const h = Math.floor(s / 3600);
    s -= h * 3600;
    const m = Math.floor(s / 60);
    s -= m * 60;
    const pad = (x) => String(x).padStart(2, "0");
    if (h > 0) {
      return `${h}h ${pad(m)}m ${pad(s)}s`;
    }
    return m > 0 ? `${m}m ${pad(s)}s` : `${s}s`;
  }

  // ---- DOM helpers -----------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      node.setAttribute(name, String(value));
    }
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      node.setAttribute(name, String(value));
    }
    if (text !== undefined) {
      node.textContent = String(text);
    }
    return node;
  }

  function status(message, state) {
    document.getElementById("status").textContent = message;
    document.body.dataset.state = state;
  }

  // ---- the token -------------------------------------------------------------------------

  /** Take #token=...&creator=... into sessionStorage and out of the address bar. */
  function adoptFragment() {
    if (!location.hash || location.hash.length < 2) {
      return;
    }
    const params = new URLSearchParams(location.hash.slice(1));
    const token = params.get("token");
    const creator = params.get("creator");
    if (token) {
      sessionStorage.setItem(TOKEN_KEY, token);
    }
    if (creator) {
      sessionStorage.setItem(CREATOR_KEY, creator);
    }
    history.replaceState(null, "", location.pathname + location.search);
  }

  /** The token's subject (its user id), read from the JWT's payload; "" if unreadable. */
  function subjectOf(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const padded = part + "=".repeat((4 - (part.length % 4)) % 4);
      const claims = JSON.parse(atob(padded));
      return typeof claims.sub === "string" ? claims.sub : "";
    } catch (_error) {
      return "";
    }
  }

  // ---- the API ---------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, token) {
    const response = await fetch(path, {
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
    const text = await response.text();
    let body = null;
    try {
      body = text ? parseJson(text) : null;
    } catch (error) {
      if (response.ok) {
        throw new ApiError(response.status, `unreadable answer from ${path}: ${error.message}`);
      }
    }
    if (!response.ok) {
      const reason = body && typeof body.error === "string" ? body.error : text.slice(0, 200);
      throw new ApiError(response.status, reason || `HTTP ${response.status}`);
    }
    return body;
  }

  /** The answer, or null with a note when this part of the page has nothing to show. */
  async function optional(path, token, notes, what) {
    try {
      return await api(path, token);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        throw error;
      }
      notes.push(`${what}: ${error.message}`);
      return null;
    }
  }

  // ---- charts ----------------------------------------------------------------------------

  /**
   * A bar chart as inline SVG. bars: [{key, label, value (BigInt), text, kind}]; kind is the
   * bar's class ("settled", "estimated" or "views"). Heights are proportional by integer
   * arithmetic on the exact values.
   */
  function barChart(bars, caption) {
    // Wide enough for the longest amount label (about 6.5 px a character at 11 px).
    const longest = bars.reduce((m, b) => Math.max(m, b.text.length, shortLabel(b.label).length),
                                0);
    const slot = Math.max(74, Math.ceil(longest * 6.5) + 16);
    const plot = 120;
    const top = 22;
    const width = Math.max(1, bars.length) * slot + 20;
    const height = top + plot + 34;
    const max = bars.reduce((m, b) => (b.value > m ? b.value : m), 0n);
    const chart = svg("svg", {
      xmlns: SVG, viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
      "aria-label": caption, class: "bar-chart",
    });
    chart.append(svg("title", {}, caption));
    chart.append(svg("line", { class: "axis", x1: 10, x2: width - 10, y1: top + plot,
                               y2: top + plot }));
    bars.forEach((bar, i) => {
      const h = max > 0n ? Number((bar.value * BigInt(plot)) / max) : 0;
      const x = 10 + i * slot + 8;
      const rect = svg("rect", {
        class: `bar ${bar.kind}`, x, y: top + plot - h, width: slot - 16, height: h,
        "data-key": bar.key, "data-value": bar.value.toString(),
      });
      rect.append(svg("title", {}, `${bar.label}: ${bar.text}`));
      chart.append(rect);
      chart.append(svg("text", { class: "amount", x: x + (slot - 16) / 2,
                                 y: top + plot - h - 5, "text-anchor": "middle" }, bar.text));
      chart.append(svg("text", { x: x + (slot - 16) / 2, y: top + plot + 15,
                                 "text-anchor": "middle" }, shortLabel(bar.label)));
    });
    return chart;
  }

  function shortLabel(label) {
    return label.length > 11 ? `…${label.slice(-10)}` : label;
  }

  /** The amount a week or post shows: settled once the week is settled, else the estimate. */
  function earned(row, settled) {
    return settled ? row.settled_minor : row.estimated_minor;
  }

  // ---- rendering -------------------------------------------------------------------------

  function card(label, value, field) {
    return el("div", { class: "card" }, el("div", { class: "label" }, label),
              el("div", { class: "value", "data-field": field }, value));
  }

  function renderEstimate(estimate, notes) {
    const section = document.getElementById("estimate");
    const cards = document.getElementById("estimate-cards");
    cards.replaceChildren();
    // An estimate never computed (as_of_ms 0) is no estimate, whether the API says 404 or
    // answers an empty one.
    if (estimate && Number(estimate.as_of_ms) > 0) {
      const a = estimate.activity || {};
      cards.append(
        card(`Estimated (${estimate.week})`, formatMoney(estimate.estimated_minor, estimate.asset),
             "estimated"),
        card("Pool so far", formatMoney(estimate.pool_minor, estimate.asset), "pool"),
        card("Views", formatCount(a.views), "views"),
        card("Unique viewers", formatCount(a.unique_viewers), "unique_viewers"),
        card("Dwell", formatDwell(a.dwell_seconds), "dwell"),
        card("Followers gained", formatCount(a.followers_gained), "followers_gained"),
      );
      const asOf = new Date(Number(estimate.as_of_ms)).toISOString().replace(".000Z", "Z");
      document.getElementById("estimate-note").textContent =
        `As of ${asOf}, policy ${estimate.policy_version}: the settlement's own function on ` +
        "the week so far; the final amount is settled after the week closes.";
    } else {
      document.getElementById("estimate-note").textContent = notes.length > 0
        ? notes.join(" · ")
        : "No running estimate yet: nothing has engaged with your posts this week.";
    }
    section.hidden = false;
  }

  function cell(value, column, cls) {
    const attrs = { "data-col": column };
    if (cls) {
      attrs.class = cls;
    }
    return el("td", attrs, value);
  }

  /** A week's state in words: settled, running (the current week) or not settled. */
  function weekState(w, current) {
    if (w.settled) {
      return "settled";
    }
    return w.week === current ? "running" : "not settled";
  }

  function renderOverview(center, payouts, current) {
    const asset = center.asset;
    const weeks = [...center.weeks].sort((a, b) => (a.week < b.week ? -1 : 1));
    const chart = document.getElementById("overview-chart");
    chart.replaceChildren(barChart(weeks.map((w) => ({
      key: w.week, label: w.week, value: earned(w, w.settled),
      text: formatMoney(earned(w, w.settled), asset), kind: w.settled ? "settled" : "estimated",
    })), "Earnings per week (settled, or estimated while the week runs)"));
    chart.append(el("p", { class: "legend" },
                    "Dark: settled. Light: estimated (the week is not settled yet)."));
    const body = document.querySelector("#weeks-table tbody");
    body.replaceChildren();
    for (const w of [...weeks].reverse()) {
      body.append(el("tr", { "data-week": w.week },
        el("th", { scope: "row" }, w.week),
        cell(formatCount(w.views), "views"),
        cell(formatCount(w.unique_viewers), "unique_viewers"),
        cell(formatDwell(w.dwell_seconds), "dwell"),
        cell(formatMilli(w.effective_interaction_milli_points), "effective_interactions"),
        cell(formatCount(w.followers_gained), "followers_gained"),
        cell(formatMoney(w.estimated_minor, asset), "estimated"),
        cell(w.settled ? formatMoney(w.settled_minor, asset) : "not settled", "settled"),
        cell(payouts.get(w.week) || (w.settled ? "" : weekState(w, current)), "payout"),
      ));
    }
    document.getElementById("overview").hidden = false;
  }

  function renderWeeks(center, current) {
    const asset = center.asset;
    const list = document.getElementById("week-list");
    list.replaceChildren();
    const weeks = [...center.weeks].sort((a, b) => (a.week < b.week ? 1 : -1));
    for (const w of weeks) {
      const items = center.items.filter((i) => i.week === w.week)
        .sort((a, b) => {
          const d = earned(b, w.settled) - earned(a, w.settled);
          return d > 0n ? 1 : d < 0n ? -1 : (a.item_id < b.item_id ? -1 : 1);
        });
      const section = el("section", { class: `week${w.settled ? " settled" : ""}`,
                                      "data-week": w.week });
      section.append(el("h3", {}, w.week,
                        el("span", { class: "badge" }, weekState(w, current))));
      const anyEarned = items.some((i) => earned(i, w.settled) > 0n);
      const bars = items.map((i) => anyEarned
        ? { key: i.item_id, label: i.item_id, value: earned(i, w.settled),
            text: formatMoney(earned(i, w.settled), asset),
            kind: w.settled ? "settled" : "estimated" }
        : { key: i.item_id, label: i.item_id, value: BigInt(i.views || 0),
            text: `${formatCount(i.views)} views`, kind: "views" });
      if (items.length > 0) {
        const chart = el("div", { class: "chart" });
        chart.append(barChart(bars, anyEarned
          ? `${w.week}: earnings per post` : `${w.week}: views per post (no earnings yet)`));
        section.append(chart);
      }
      const table = el("table", {},
        el("thead", {}, el("tr", {}, ...["Post", "Views", "Unique viewers", "Dwell",
          "Effective interactions", "Estimated", "Settled"].map((h) => el("th", { scope: "col" },
          h)))));
      const body = el("tbody");
      for (const i of items) {
        body.append(el("tr", { "data-item": i.item_id },
          cell(i.item_id, "item", "item"),
          cell(formatCount(i.views), "views"),
          cell(formatCount(i.unique_viewers), "unique_viewers"),
          cell(formatDwell(i.dwell_seconds), "dwell"),
          cell(formatMilli(i.effective_interaction_milli_points), "effective_interactions"),
          cell(formatMoney(i.estimated_minor, asset), "estimated"),
          cell(w.settled ? formatMoney(i.settled_minor, asset) : "not settled", "settled"),
        ));
      }
      if (items.length === 0) {
        body.append(el("tr", {}, el("td", { colspan: 7 }, "No post was engaged with.")));
      }
      table.append(body);
      section.append(el("div", { class: "table-wrap" }, table));
      list.append(section);
    }
    document.getElementById("weeks").hidden = false;
  }

  // ---- loading ---------------------------------------------------------------------------

  async function loadDigits() {
    const response = await fetch("/creator-center/minor-units.json", { credentials: "omit" });
    Object.assign(minorDigits, await response.json());
  }

  async function show() {
    const token = sessionStorage.getItem(TOKEN_KEY) || "";
    if (!token) {
      status("Enter your bearer token to see your creator center.", "idle");
      return;
    }
    const creator = sessionStorage.getItem(CREATOR_KEY) || subjectOf(token);
    if (!creator) {
      status("The token names no user: enter the creator's id.", "error");
      return;
    }
    document.getElementById("creator").value = creator;
    status(`Loading ${creator}…`, "loading");
    const id = encodeURIComponent(creator);
    const notes = [];
    try {
      const [center, estimate, weeks] = await Promise.all([
        api(`/v1/creators/${id}/center`, token),
        optional(`/v1/creators/${id}/estimate`, token, notes, "No running estimate"),
        optional(`/v1/creators/${id}/pool/weeks?limit=100`, token, notes, "Payouts unknown"),
        Object.keys(minorDigits).length === 0 ? loadDigits() : Promise.resolve(),
      ]);
      const payouts = new Map((weeks ? weeks.weeks : []).map((w) => [w.week, w.payout_state]));
      renderEstimate(estimate, notes);
      // The current week: the estimate's, else the newest the center shows (its default
      // range ends with the current week).
      const current = (estimate && Number(estimate.as_of_ms) > 0 && estimate.week) ||
        center.weeks.reduce((m, w) => (w.week > m ? w.week : m), "");
      renderOverview(center, payouts, current);
      renderWeeks(center, current);
      status(`Creator ${center.creator_id}: ${center.weeks.length} weeks, ` +
             `${new Set(center.items.map((i) => i.item_id)).size} posts, in ${center.asset}.`,
             "ready");
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        status(`The token was refused (${error.message}): enter a new one.`, "error");
      } else if (error instanceof ApiError && error.status === 403) {
        status(`Not yours to see: ${error.message}`, "error");
      } else {
        status(`Could not load the creator center: ${error.message}`, "error");
      }
    }
  }

  function start() {
    adoptFragment();
    const form = document.getElementById("login");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const token = document.getElementById("token").value.trim();
      const creator = document.getElementById("creator").value.trim();
      if (token) {
        sessionStorage.setItem(TOKEN_KEY, token);
      }
      if (creator) {
        sessionStorage.setItem(CREATOR_KEY, creator);
      } else {
        sessionStorage.removeItem(CREATOR_KEY);
      }
      document.getElementById("token").value = "";
      show();
    });
    document.getElementById("forget").addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      sessionStorage.removeItem(CREATOR_KEY);
      for (const id of ["estimate", "overview", "weeks"]) {
        document.getElementById(id).hidden = true;
      }
      status("Token forgotten.", "idle");
    });
    show();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
