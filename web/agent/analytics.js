/* Support analytics for managers: summary cards, Chart.js charts and every table of /agent/api/analytics;
   privacy requests for one customer (/agent/api/privacy/export and /erase). */
(function () {
  "use strict";

  var $ = AgentCommon.$; // common.js: what this page shares with the console, its session included
  var el = AgentCommon.el;
  var notify = AgentCommon.notify;
  var ApiError = AgentCommon.ApiError;

  var DEFAULT_DAYS = 30;
  var MAX_FILLED_DAYS = 400; // the topics chart shows every day of a range up to this length, empty days included
  var DAY_MS = 86400000;
  var DASH = "\u2013";
  var DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
  var PALETTE = ["#1f5fbf", "#e08a00", "#1d7a3a", "#b8336a", "#56b4e9", "#d55e00",
    "#7b5ea7", "#8c6d31", "#009e8f", "#c9a800", "#5d6675", "#e377c2"];
  var CSAT_COLOURS = ["#b42318", "#e0721b", "#c9a800", "#6aa84f", "#1d7a3a"];

  /* The summary cards; `details` are smaller figures under the value. Other summary keys get a generic card. */
  var CARDS = [
    { title: "Conversations", key: "conversations", format: count,
      details: [{ key: "user_messages", one: "user message", many: "user messages" }] },
    { title: "Containment rate", key: "containment_rate", format: percent,
      details: [{ key: "contained", one: "conversation without a person", many: "conversations without a person" }] },
    { title: "Handoff rate", key: "handoff_rate", format: percent,
      details: [{ key: "handoffs", one: "handoff", many: "handoffs" }] },
    { title: "Misunderstanding rate", key: "misunderstanding_rate", format: percent,
      details: [{ key: "misunderstood", one: "message not understood", many: "messages not understood" }] },
    { title: "CSAT average (1\u20135)", key: "csat_average", format: score,
      details: [{ key: "csat_answers", one: "answer", many: "answers" }] },
    { title: "First agent reply (median)", key: "first_reply_minutes_median", format: minutes },
    { title: "Time to resolution (median)", key: "resolution_minutes_median", format: minutes },
    { title: "Payment retries", key: "payment_retries", format: count },
    { title: "Emails sent / failed", keys: ["emails_sent", "emails_failed"], format: count }
  ];

  /* The privacy API's 400 answers, in words. */
  var PRIVACY_ERRORS = {
    give_email_or_conversation: "Enter an email address or a conversation id.",
    invalid_email: "That is not a valid email address."
  };

  /* The counts of an erasure, in this order; `inner` goes in brackets after its part. */
  var ERASED_PARTS = [
    { key: "conversations", one: "conversation", many: "conversations",
      inner: { key: "events", one: "event", many: "events" } },
    { key: "tickets", one: "ticket", many: "tickets",
      inner: { key: "transcript_lines", one: "transcript line", many: "transcript lines" } },
    { key: "emails", one: "email", many: "emails" },
    { key: "links", one: "messenger link", many: "messenger links" },
    { key: "audit_entries", one: "audit entry", many: "audit entries" },
    { key: "ratings", one: "rating", many: "ratings" }
  ];

  var state = { auth: null, name: null, manager: false, range: null, request: 0, charts: {},
    privacy: { request: 0, busy: false, pending: null, focused: null } };

  /* GET of a JSON resource; throws ApiError (status 0 = network). */
  function api(path, auth) {
    var options = { headers: { Authorization: auth || state.auth, Accept: "application/json" }, cache: "no-store" };
    return AgentCommon.request(path, options).then(function (response) {
      return response.json().then(function (data) { return { data: data, parsed: true }; },
        function () { return { data: {}, parsed: false }; }).then(function (body) {
        if (response.ok && body.parsed && body.data && typeof body.data === "object") return body.data;
        throw new ApiError(response.status, response.ok ? "bad_response" : body.data && body.data.error);
      });
    });
  }

  function describeError(error) {
    if (!(error instanceof ApiError)) return "Could not show these figures: " + (error && error.message || error) + ".";
    if (error.status === 0) return "Cannot reach the server. Check the connection, then press Apply to try again.";
    if (error.status === 401) return "Wrong name or password.";
    if (error.code === "bad_response") return "The server sent an answer this page cannot read.";
    if (error.status === 400) {
      return "The server did not accept this date range" + (error.code ? " (" + error.code + ")" : "") + ".";
    }
    return "Server error " + error.status + (error.code ? " (" + error.code + ")" : "") +
      ". Press Apply to try again.";
  }

  /* 401: back to the sign-in form; 403: not a manager; anything else: a visible message. */
  function fail(error) {
    if (error instanceof ApiError && error.status === 401) {
      logout("Your session is no longer valid: please sign in again.");
    } else if (error instanceof ApiError && error.status === 403) {
      showForbidden();
    } else {
      notify(describeError(error), "error");
    }
  }

  /* ---- formatting ---- */

  function isNumber(value) { return typeof value === "number" && isFinite(value); }

  function count(value) {
    return isNumber(value) ? value.toLocaleString("en-US", { maximumFractionDigits: 1 }) : DASH;
  }

  function percent(value) { return isNumber(value) ? (value * 100).toFixed(1) + "%" : DASH; }

  function score(value) { return isNumber(value) ? value.toFixed(1) : DASH; }

  function minutes(value) {
    if (!isNumber(value)) return DASH;
    var total = Math.max(0, Math.round(value));
    if (total < 60) return total + " min";
    return Math.floor(total / 60) + " h " + (total % 60) + " min";
  }

  function cell(value) {
    if (value === null || value === undefined || value === "") return DASH;
    if (isNumber(value)) return value.toLocaleString("en-US", { maximumFractionDigits: 3 });
    return String(value);
  }

  function humanize(key) {
    var text = String(key).replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  /* A card for a summary key no card knows about, formatted from its name. */
  function guessFormat(key) {
    if (/_rate$/.test(key)) return percent;
    if (/minutes/.test(key)) return minutes;
    return count;
  }

  /* ---- dates (UTC days) ---- */

  function isoDay(time) { return new Date(time).toISOString().slice(0, 10); }

  /* Milliseconds of a YYYY-MM-DD day at 00:00 UTC, or null if it is not a real day. */
  function parseDay(text) {
    if (typeof text !== "string" || !DAY_PATTERN.test(text)) return null;
    var time = Date.UTC(+text.slice(0, 4), +text.slice(5, 7) - 1, +text.slice(8, 10));
    return isNaN(time) || isoDay(time) !== text ? null : time;
  }

  function defaultRange() {
    var today = parseDay(isoDay(Date.now()));
    return { from: isoDay(today - (DEFAULT_DAYS - 1) * DAY_MS), to: isoDay(today) };
  }

  /* The range of the query string (?from=YYYY-MM-DD&to=YYYY-MM-DD); missing parts fall back to the last 30 days. */
  function rangeFromURL() {
    var params = new URLSearchParams(location.search);
    var from = params.get("from");
    var to = params.get("to");
    var fallback = defaultRange();
    from = parseDay(from) === null ? null : from;
    to = parseDay(to) === null ? null : to;
    if (from && to) return { from: from, to: to };
    if (to) return { from: isoDay(parseDay(to) - (DEFAULT_DAYS - 1) * DAY_MS), to: to };
    if (from) return { from: from, to: fallback.to };
    return fallback;
  }

  function urlFor(range) {
    var params = new URLSearchParams(location.search);
    params.set("from", range.from);
    params.set("to", range.to);
    return location.pathname + "?" + params.toString() + location.hash;
  }

  function longDay(day) {
    var time = parseDay(day);
    if (time === null) return String(day);
    return new Date(time).toLocaleDateString("en-GB", { timeZone: "UTC", day: "numeric", month: "short", year: "numeric" });
  }

  function daysOf(range) {
    var from = parseDay(range && range.from);
    var to = parseDay(range && range.to);
    if (from === null || to === null || to < from || (to - from) / DAY_MS >= MAX_FILLED_DAYS) return null;
    var days = [];
    for (var t = from; t <= to; t += DAY_MS) days.push(isoDay(t));
    return days;
  }

  /* ---- session ---- */

  function showOnly(id) {
    ["login", "forbidden", "analytics"].forEach(function (name) { $(name).hidden = name !== id; });
  }

  function showLogin() {
    showOnly("login");
    $("whoami").hidden = true;
    $("login-name").focus();
  }

  function showWhoami() {
    $("agent-name").textContent = state.name || "";
    $("whoami").hidden = !state.name;
  }

  function showForbidden() {
    state.manager = false;
    state.request++; // any answer still on its way is for nobody
    clearResults();
    resetPrivacy();
    notify("");
    showOnly("forbidden");
    showWhoami();
  }

  function start() {
    state.manager = true;
    showOnly("analytics");
    showWhoami();
    var range = rangeFromURL();
    history.replaceState(null, "", urlFor(range));
    load(range);
  }

  function logout(message) {
    AgentCommon.forgetSession();
    state.auth = state.name = null;
    state.manager = false;
    state.request++;
    clearResults();
    resetPrivacy();
    notify(message || "", message ? "error" : "info");
    showLogin();
  }

  /* Who is signed in: a manager sees the analytics, anybody else the "for managers" message. */
  function checkSession(auth, fromForm) {
    return api("/me", auth).then(function (data) {
      state.auth = auth;
      state.name = data.agent;
      AgentCommon.saveSession(auth, data.agent);
      notify("");
      if (data.manager === true) start();
      else showForbidden();
    }, function (error) {
      if (error instanceof ApiError && error.status === 401) {
        if (fromForm) {
          notify(describeError(error), "error");
        } else {
          AgentCommon.forgetSession();
          notify("Your session is no longer valid: please sign in again.", "error");
        }
      } else {
        notify(error instanceof ApiError && error.status === 0
          ? "Cannot reach the server. Check the connection and sign in again." : describeError(error), "error");
      }
      showLogin();
      if (fromForm) $("login-password").select();
    });
  }

  function login(event) {
    event.preventDefault();
    var auth = AgentCommon.basicAuth($("login-name").value, $("login-password").value);
    $("login-submit").disabled = true;
    checkSession(auth, true).then(function () {
      if (state.auth === auth) $("login-password").value = "";
      $("login-submit").disabled = false;
    });
  }

  /* ---- loading a range ---- */

  function setRangeInputs(range) {
    $("range-from").value = range.from;
    $("range-to").value = range.to;
  }

  function load(range) {
    var request = ++state.request;
    state.range = range;
    setRangeInputs(range);
    var main = $("main");
    main.removeAttribute("data-loaded");
    $("results").setAttribute("aria-busy", "true");
    $("results").classList.add("is-loading");
    $("loading").hidden = false;
    var query = "?from=" + encodeURIComponent(range.from) + "&to=" + encodeURIComponent(range.to);
    api("/analytics" + query).then(function (data) {
      if (request !== state.request) return;
      render(data, range);
      notify("");
      main.setAttribute("data-loaded", "true");
    }).catch(function (error) {
      if (request !== state.request) return;
      clearResults();
      fail(error);
    }).then(function () {
      if (request !== state.request) return;
      $("loading").hidden = true;
      $("results").removeAttribute("aria-busy");
      $("results").classList.remove("is-loading");
    });
  }

  function apply(event) {
    event.preventDefault();
    var range = { from: $("range-from").value, to: $("range-to").value };
    if (parseDay(range.from) === null || parseDay(range.to) === null) {
      notify("Choose both days of the range (YYYY-MM-DD).", "error");
      (parseDay(range.from) === null ? $("range-from") : $("range-to")).focus();
      return;
    }
    if (range.from > range.to) {
      notify("The first day comes after the last day of the range.", "error");
      $("range-from").focus();
      return;
    }
    var url = urlFor(range);
    if (url !== location.pathname + location.search + location.hash) history.pushState(null, "", url);
    load(range);
  }

  function clearResults() {
    destroyCharts();
    $("main").removeAttribute("data-loaded");
    $("results").hidden = true;
    $("cards").textContent = "";
    $("tables").textContent = "";
    $("range-label").textContent = "";
  }

  function render(data, requested) {
    var range = data.range && parseDay(data.range.from) !== null && parseDay(data.range.to) !== null
      ? data.range : requested;
    var tables = data.tables && typeof data.tables === "object" ? data.tables : {};
    var length = Math.round((parseDay(range.to) - parseDay(range.from)) / DAY_MS) + 1;
    $("range-label").textContent = "From " + longDay(range.from) + " to " + longDay(range.to) +
      " (UTC, " + length + (length === 1 ? " day)" : " days)");
    $("results").hidden = false; // before the charts: Chart.js measures its box
    renderSummary(data.summary && typeof data.summary === "object" ? data.summary : {});
    renderTables(tables);
    renderCharts(tables, range);
  }

  /* ---- summary cards ---- */

  function valueOf(key, summary, format) {
    var value = summary[key];
    return el("span", { "class": "card-number" + (key === "emails_failed" && value > 0 ? " is-bad" : ""),
      "data-testid": "summary-" + key }, format(value));
  }

  function renderSummary(summary) {
    var cards = $("cards");
    var used = {};
    cards.textContent = "";
    CARDS.forEach(function (card) {
      var keys = card.keys || [card.key];
      var value = el("p", { "class": "card-value" });
      keys.forEach(function (key, i) {
        used[key] = true;
        if (i) value.appendChild(el("span", { "class": "card-sep" }, " / "));
        value.appendChild(valueOf(key, summary, card.format));
        if (card.keys) value.appendChild(el("span", { "class": "visually-hidden" }, " " + key.replace(/^[a-z]+_/, "")));
      });
      var item = el("li", { "class": "card", "data-testid": "card-" + keys.join("-") },
        el("p", { "class": "card-title" }, card.title), value);
      (card.details || []).forEach(function (detail) {
        used[detail.key] = true;
        var number = summary[detail.key];
        item.appendChild(el("p", { "class": "card-detail" },
          el("span", { "data-testid": "summary-" + detail.key }, count(number)),
          " " + (number === 1 ? detail.one : detail.many)));
      });
      cards.appendChild(item);
    });
    Object.keys(summary).forEach(function (key) {
      var number = summary[key];
      if (used[key] || (number !== null && !isNumber(number))) return;
      cards.appendChild(el("li", { "class": "card", "data-testid": "card-" + key },
        el("p", { "class": "card-title" }, humanize(key)),
        el("p", { "class": "card-value" }, valueOf(key, summary, guessFormat(key)))));
    });
  }

  /* ---- tables (every table the API returns, in its order) ---- */

  function safeId(name) { return String(name).replace(/[^A-Za-z0-9_-]/g, "_"); }

  function renderTables(tables) {
    var box = $("tables");
    box.textContent = "";
    Object.keys(tables).forEach(function (name) {
      var table = tables[name];
      if (!table || typeof table !== "object") return;
      var rows = Array.isArray(table.rows) ? table.rows : [];
      var columns = Array.isArray(table.columns) ? table.columns : [];
      if (!columns.length && rows.length) columns = rows[0].map(function (v, i) { return "column " + (i + 1); });
      var title = table.title ? String(table.title) : humanize(name);
      var titleId = "table-title-" + safeId(name);
      var numeric = columns.map(function (column, i) {
        var seen = false;
        var all = rows.every(function (row) {
          var value = row[i];
          if (value === null || value === undefined) return true;
          seen = true;
          return isNumber(value);
        });
        return seen && all;
      });
      var long = columns.map(function (column, i) { // long text wraps; anything else keeps to one line
        return rows.some(function (row) { return typeof row[i] === "string" && row[i].length > 40; });
      });
      function classOf(i) { return numeric[i] ? "num" : long[i] ? "wrap" : null; }

      var head = el("tr", {});
      columns.forEach(function (column, i) {
        head.appendChild(el("th", { scope: "col", "class": classOf(i) }, humanize(column)));
      });
      var body = el("tbody", {});
      rows.forEach(function (row) {
        var tr = el("tr", {});
        columns.forEach(function (column, i) {
          tr.appendChild(el("td", { "class": classOf(i) }, cell(Array.isArray(row) ? row[i] : null)));
        });
        body.appendChild(tr);
      });
      if (!rows.length) {
        body.appendChild(el("tr", {}, el("td", { colspan: String(Math.max(1, columns.length)), "class": "no-data" }, "No data")));
      }

      var button = el("button", { type: "button", "class": "csv", "data-testid": "csv-" + name,
        "aria-label": "Download CSV: " + title }, "Download CSV");
      button.addEventListener("click", function () { downloadCsv(name, button); });

      box.appendChild(el("section", { "class": "table-card", "data-table": name, "aria-labelledby": titleId },
        el("div", { "class": "table-head" }, el("h3", { id: titleId }, title), button),
        el("div", { "class": "table-scroll", role: "region", tabindex: "0", "aria-labelledby": titleId },
          el("table", { "data-testid": "table-" + name },
            el("caption", { "class": "visually-hidden" }, title),
            el("thead", {}, head), body))));
    });
    if (!box.children.length) box.appendChild(el("p", { "class": "muted" }, "No data"));
  }

  /* ---- CSV: fetched with the Authorization header, handed to the browser as a Blob ---- */

  function filenameFrom(disposition, fallback) {
    var name = null;
    var star = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(disposition || "");
    if (star) {
      try { name = decodeURIComponent(star[2].trim().replace(/^"|"$/g, "")); } catch (e) { name = null; }
    }
    if (!name) {
      var plain = /filename\s*=\s*"([^"]*)"/i.exec(disposition || "") || /filename\s*=\s*([^;]+)/i.exec(disposition || "");
      if (plain) name = plain[1].trim();
    }
    name = (name || "").replace(/[\\/:*?"<>|\u0000-\u001f]/g, "_");
    return name || fallback;
  }

  /* Hands a fetched file to the browser as a download (an <a download> on an object URL). */
  function saveBlob(blob, filename) {
    var url = URL.createObjectURL(blob);
    var link = el("a", { href: url, "class": "visually-hidden", download: filename });
    document.body.appendChild(link);
    link.click();
    setTimeout(function () {
      URL.revokeObjectURL(url);
      link.remove();
    }, 10000);
  }

  function downloadCsv(name, button) {
    var range = state.range;
    var query = "?table=" + encodeURIComponent(name) + "&from=" + encodeURIComponent(range.from) +
      "&to=" + encodeURIComponent(range.to);
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    AgentCommon.request("/analytics.csv" + query,
      { headers: { Authorization: state.auth, Accept: "text/csv" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) return AgentCommon.failed(response);
        return response.blob().then(function (blob) {
          saveBlob(blob, filenameFrom(response.headers.get("Content-Disposition"),
            name + "_" + range.from + "_" + range.to + ".csv"));
        });
      })
      .catch(function (error) {
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          fail(error);
        } else if (error instanceof ApiError && error.status === 0) {
          notify("Cannot reach the server: the CSV was not downloaded. Try again.", "error");
        } else {
          notify("The CSV could not be downloaded (" + (error instanceof ApiError
            ? "server error " + error.status + (error.code ? ", " + error.code : "") : String(error)) + ").", "error");
        }
      })
      .then(function () {
        button.disabled = false;
        button.removeAttribute("aria-busy");
      });
  }

  /* ---- privacy requests: everything about one customer, exported as JSON or erased ---- */

  function privacyKind() {
    return $("privacy-kind-conversation").checked ? "conversation" : "email";
  }

  /* The label and keyboard of the value field follow the kind chosen. */
  function showPrivacyKind() {
    var email = privacyKind() === "email";
    $("privacy-value-label").textContent = email ? "Customer's email" : "Conversation id";
    $("privacy-value").setAttribute("inputmode", email ? "email" : "text");
  }

  function privacyError(text, invalid) {
    $("privacy-error").textContent = text || "";
    if (invalid) $("privacy-value").setAttribute("aria-invalid", "true");
    else $("privacy-value").removeAttribute("aria-invalid");
  }

  function clearPrivacyMessages() {
    privacyError("");
    $("privacy-result").textContent = "";
  }

  /* The customer the form names, as the server checks it (one of the two; an email has an @), or null after saying why. */
  function privacySubject() {
    var kind = privacyKind();
    var value = $("privacy-value").value.trim();
    var problem = !value ? "give_email_or_conversation"
      : kind === "email" && (value.indexOf("@") < 0 || value.length > 255) ? "invalid_email" : null;
    if (problem) {
      privacyError(PRIVACY_ERRORS[problem], true);
      $("privacy-value").focus();
      return null;
    }
    return { kind: kind, value: value };
  }

  /* The confirmation matches as the server reads it: emails without case, conversation ids exactly. */
  function sameSubject(subject, typed) {
    typed = String(typed || "").trim();
    return subject.kind === "email" ? typed.toLowerCase() === subject.value.toLowerCase() : typed === subject.value;
  }

  function updateConfirm() {
    var pending = state.privacy.pending;
    $("privacy-confirm-erase").disabled = state.privacy.busy || !pending ||
      !sameSubject(pending, $("privacy-confirm-value").value);
  }

  /* Busy: the buttons wait for the answer; the button pressed gets the focus back if disabling it lost it. */
  function setPrivacyBusy(busy) {
    var focused = busy ? document.activeElement : state.privacy.focused;
    state.privacy.busy = busy;
    state.privacy.focused = busy ? focused : null;
    if (busy) $("privacy").setAttribute("aria-busy", "true");
    else $("privacy").removeAttribute("aria-busy");
    ["privacy-export", "privacy-erase", "privacy-cancel"].forEach(function (id) { $(id).disabled = busy; });
    updateConfirm();
    var lost = !document.activeElement || document.activeElement === document.body;
    if (!busy && lost && focused && focused.focus && !focused.disabled && focused.offsetParent !== null) focused.focus();
  }

  function closeConfirm() {
    state.privacy.pending = null;
    $("privacy-confirm").hidden = true;
    $("privacy-confirm-value").value = "";
    $("privacy-confirm-subject").textContent = "";
    $("privacy-erase").setAttribute("aria-expanded", "false");
    updateConfirm();
  }

  /* Signed out or not a manager: nothing typed stays on the page, any answer on its way is for nobody. */
  function resetPrivacy() {
    state.privacy.request++;
    closeConfirm();
    $("privacy-form").reset();
    showPrivacyKind();
    clearPrivacyMessages();
    setPrivacyBusy(false);
  }

  /* A fetch of the privacy API with the session's credentials; a non-2xx answer throws ApiError. */
  function privacyFetch(path, options) {
    options.headers.Authorization = state.auth;
    options.cache = "no-store";
    return AgentCommon.request(path, options).then(function (response) {
      return response.ok ? response : AgentCommon.failed(response);
    });
  }

  /* 401 and 403 as everywhere on the page; anything else under the form. */
  function privacyFailed(error, erasing) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      fail(error);
      return;
    }
    var known = error instanceof ApiError && error.status === 400 && PRIVACY_ERRORS[error.code];
    if (known) {
      privacyError(known, true);
      $("privacy-value").focus();
      return;
    }
    var text;
    if (!(error instanceof ApiError)) {
      text = (erasing ? "The erasure failed: " : "The export failed: ") + (error && error.message || error) + ".";
    } else if (error.status === 0) {
      text = erasing ? "Cannot reach the server: the erasure may not have been done. Try again."
        : "Cannot reach the server: nothing was exported. Try again.";
    } else if (error.code === "bad_response") {
      text = "The server sent an answer this page cannot read" + (erasing ? ": the erasure may have been done." : ".");
    } else if (error.status === 400) {
      text = "The server did not accept this request" + (error.code ? " (" + error.code + ")" : "") + ".";
    } else {
      text = "Server error " + error.status + (error.code ? " (" + error.code + ")" : "") +
        (erasing ? ": the erasure may not have been done. Try again." : ": nothing was exported. Try again.");
    }
    privacyError(text, false);
  }

  function counted(value, one, many) {
    value = number(value);
    return count(value) + " " + (value === 1 ? one : many);
  }

  /* "Erased: 2 conversations (3 events), 1 ticket (1 transcript line), …"; counts the page does not know come last. */
  function erasedText(erased) {
    var used = {};
    var parts = ERASED_PARTS.map(function (part) {
      used[part.key] = true;
      var text = counted(erased[part.key], part.one, part.many);
      if (part.inner) {
        used[part.inner.key] = true;
        text += " (" + counted(erased[part.inner.key], part.inner.one, part.inner.many) + ")";
      }
      return text;
    });
    Object.keys(erased).forEach(function (key) {
      if (!used[key] && isNumber(erased[key])) parts.push(count(erased[key]) + " " + humanize(key).toLowerCase());
    });
    return "Erased: " + parts.join(", ");
  }

  function exportPrivacy(event) {
    event.preventDefault();
    if (state.privacy.busy) return;
    clearPrivacyMessages();
    closeConfirm();
    var subject = privacySubject();
    if (!subject) return;
    var request = ++state.privacy.request;
    setPrivacyBusy(true);
    privacyFetch("/privacy/export?" + subject.kind + "=" + encodeURIComponent(subject.value),
      { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.blob().then(function (blob) {
          if (request !== state.privacy.request) return;
          var name = filenameFrom(response.headers.get("Content-Disposition"), "privacy-export.json");
          saveBlob(blob, name);
          $("privacy-result").textContent = "Downloaded " + name + ".";
        });
      })
      .catch(function (error) {
        if (request === state.privacy.request) privacyFailed(error, false);
      })
      .then(function () {
        if (request === state.privacy.request) setPrivacyBusy(false);
      });
  }

  /* The first step of an erasure: the manager types the customer again before the red button works. */
  function askErase() {
    if (state.privacy.busy) return;
    clearPrivacyMessages();
    closeConfirm();
    var subject = privacySubject();
    if (!subject) return;
    state.privacy.pending = subject;
    $("privacy-confirm-subject").textContent = subject.value;
    $("privacy-confirm-label").textContent = subject.kind === "email"
      ? "Type the email again to confirm" : "Type the conversation id again to confirm";
    $("privacy-confirm-value").setAttribute("inputmode", subject.kind === "email" ? "email" : "text");
    $("privacy-confirm").hidden = false;
    $("privacy-erase").setAttribute("aria-expanded", "true");
    updateConfirm();
    $("privacy-confirm-value").focus();
  }

  function cancelErase() {
    closeConfirm();
    $("privacy-erase").focus();
  }

  function erase() {
    var subject = state.privacy.pending;
    if (state.privacy.busy || !subject || !sameSubject(subject, $("privacy-confirm-value").value)) return;
    clearPrivacyMessages();
    var request = ++state.privacy.request;
    var body = {};
    body[subject.kind] = subject.value;
    setPrivacyBusy(true);
    privacyFetch("/privacy/erase", { method: "POST", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Accept: "application/json" } })
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (data) {
          if (!data || !data.erased || typeof data.erased !== "object") throw new ApiError(response.status, "bad_response");
          return data.erased;
        });
      })
      .then(function (erased) {
        if (request !== state.privacy.request) return;
        closeConfirm();
        $("privacy-result").textContent = erasedText(erased);
        $("privacy-value").focus();
      }, function (error) {
        if (request !== state.privacy.request) return;
        if (error instanceof ApiError && error.status === 400) closeConfirm(); // the form needs changing first
        privacyFailed(error, true);
      })
      .then(function () {
        if (request === state.privacy.request) setPrivacyBusy(false);
      });
  }

  function setUpPrivacy() {
    $("privacy-form").addEventListener("submit", exportPrivacy); // Enter exports: the harmless one
    $("privacy-erase").addEventListener("click", askErase);
    $("privacy-confirm-erase").addEventListener("click", erase);
    $("privacy-cancel").addEventListener("click", cancelErase);
    $("privacy-confirm-value").addEventListener("input", updateConfirm);
    $("privacy-confirm").addEventListener("keydown", function (event) {
      if (event.key === "Escape") cancelErase();
    });
    function changed() { // another customer: the confirmation was for the previous one
      if (state.privacy.pending) closeConfirm();
      privacyError("");
    }
    $("privacy-value").addEventListener("input", changed);
    Array.prototype.forEach.call(document.querySelectorAll("#privacy-kind input[name=kind]"), function (radio) {
      radio.addEventListener("change", function () {
        showPrivacyKind();
        changed();
      });
    });
    showPrivacyKind();
  }

  /* ---- charts ---- */

  function destroyCharts() {
    Object.keys(state.charts).forEach(function (name) {
      state.charts[name].destroy();
      delete state.charts[name];
    });
  }

  function column(table, name, fallback) {
    var index = (table.columns || []).indexOf(name);
    return index >= 0 ? index : fallback;
  }

  function number(value) { return isNumber(value) ? value : 0; }

  function shorten(text, length) {
    text = String(text);
    return text.length > length ? text.slice(0, length - 1) + "\u2026" : text;
  }

  /* "Languages: fr 70, en 50" for screen readers (the full figures are in the tables). */
  function describe(title, labels, values) {
    title = title.replace(/\s+/g, " ").trim();
    var parts = labels.slice(0, 12).map(function (label, i) { return label + " " + cell(values[i]); });
    if (labels.length > 12) parts.push("and " + (labels.length - 12) + " more");
    return title + (parts.length ? ": " + parts.join(", ") : ": no data") + ". The figures are also in the tables below.";
  }

  function pairs(table) {
    var rows = Array.isArray(table.rows) ? table.rows : [];
    return {
      labels: rows.map(function (row) { return cell(row[0]); }),
      values: rows.map(function (row) { return number(row[1]); })
    };
  }

  function baseOptions() {
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: false } }
    };
  }

  function countAxis(title) {
    return { beginAtZero: true, ticks: { precision: 0 }, title: { display: !!title, text: title || "" } };
  }

  var BUILDERS = {
    topics_per_day: function (table, range) {
      var rows = Array.isArray(table.rows) ? table.rows : [];
      var dayAt = column(table, "day", 0);
      var topicAt = column(table, "topic", 1);
      var messagesAt = column(table, "messages", 2);
      var days = daysOf(range) || [];
      var known = {};
      days.forEach(function (day) { known[day] = true; });
      var byTopic = {};
      var totals = {};
      rows.forEach(function (row) {
        var day = String(row[dayAt]);
        var topic = cell(row[topicAt]);
        if (!known[day]) { known[day] = true; days.push(day); }
        byTopic[topic] = byTopic[topic] || {};
        byTopic[topic][day] = (byTopic[topic][day] || 0) + number(row[messagesAt]);
        totals[topic] = (totals[topic] || 0) + number(row[messagesAt]);
      });
      days.sort();
      var topics = Object.keys(byTopic).sort(function (a, b) { return totals[b] - totals[a] || (a < b ? -1 : 1); });
      var oneYear = days.length && days[0].slice(0, 4) === days[days.length - 1].slice(0, 4);
      var options = baseOptions();
      options.plugins.legend = { display: true, position: "bottom", labels: { boxWidth: 12 } };
      options.plugins.tooltip = { mode: "index", filter: function (item) { return item.parsed.y !== 0; } };
      options.interaction = { mode: "index", intersect: false };
      options.scales = {
        x: { stacked: true, ticks: { callback: function (value) {
          var label = this.getLabelForValue(value);
          return oneYear ? String(label).slice(5) : label;
        } } },
        y: countAxis("Messages")
      };
      options.scales.y.stacked = true;
      return {
        empty: !rows.length,
        labels: topics,
        values: topics.map(function (t) { return totals[t]; }),
        config: {
          type: "bar",
          data: {
            labels: days,
            datasets: topics.map(function (topic, i) {
              return { label: topic, data: days.map(function (day) { return byTopic[topic][day] || 0; }),
                backgroundColor: PALETTE[i % PALETTE.length], stack: "topics" };
            })
          },
          options: options
        }
      };
    },

    handoff_reasons: function (table) {
      var data = pairs(table);
      var options = baseOptions();
      options.indexAxis = "y";
      options.scales = {
        x: countAxis("Tickets"),
        y: { ticks: { autoSkip: false, callback: function (value) {
          return shorten(this.getLabelForValue(value), this.chart.width < 420 ? 14 : 26);
        } } }
      };
      return {
        empty: !data.labels.length,
        labels: data.labels,
        values: data.values,
        config: { type: "bar", data: { labels: data.labels, datasets: [{ label: "Tickets", data: data.values,
          backgroundColor: PALETTE[0] }] }, options: options }
      };
    },

    csat: function (table) {
      var rows = Array.isArray(table.rows) ? table.rows : [];
      var scoreAt = column(table, "score", 0);
      var answersAt = column(table, "answers", 1);
      var values = [0, 0, 0, 0, 0];
      rows.forEach(function (row) {
        var value = Number(row[scoreAt]);
        if (value >= 1 && value <= 5 && Math.round(value) === value) values[value - 1] += number(row[answersAt]);
      });
      var labels = ["1", "2", "3", "4", "5"];
      var options = baseOptions();
      options.scales = { x: { title: { display: true, text: "Score" } }, y: countAxis("Answers") };
      return {
        empty: !values.some(function (v) { return v > 0; }),
        labels: labels.map(function (l) { return "score " + l; }),
        values: values,
        config: { type: "bar", data: { labels: labels, datasets: [{ label: "Answers", data: values,
          backgroundColor: CSAT_COLOURS }] }, options: options }
      };
    },

    languages: doughnut,
    channels: doughnut
  };

  function doughnut(table) {
    var data = pairs(table);
    var options = baseOptions();
    options.plugins.legend = { display: true, position: "bottom", labels: { boxWidth: 12 } };
    return {
      empty: !data.values.some(function (v) { return v > 0; }),
      labels: data.labels,
      values: data.values,
      config: { type: "doughnut", data: { labels: data.labels, datasets: [{ data: data.values,
        backgroundColor: data.labels.map(function (l, i) { return PALETTE[i % PALETTE.length]; }),
        borderColor: "#fff", borderWidth: 2 }] }, options: options }
    };
  }

  function renderCharts(tables, range) {
    destroyCharts();
    var Chart = window.Chart;
    $("charts-unavailable").hidden = !!Chart;
    $("charts").hidden = !Chart;
    if (!Chart) return;
    Object.keys(BUILDERS).forEach(function (name) {
      var table = tables[name] && typeof tables[name] === "object" ? tables[name] : { rows: [] };
      if (table.title) $("chart-title-" + name).textContent = String(table.title);
      var canvas = $("chart-" + name);
      var previous = Chart.getChart(canvas);
      if (previous) previous.destroy();
      var chart = BUILDERS[name](table, range);
      canvas.setAttribute("aria-label", describe($("chart-title-" + name).textContent, chart.labels, chart.values));
      $("chart-empty-" + name).hidden = !chart.empty;
      state.charts[name] = new Chart(canvas, chart.config);
    });
  }

  function setUpCharts() {
    var Chart = window.Chart;
    if (!Chart) return;
    Chart.defaults.animation = false;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = "#5d6675";
    Chart.defaults.borderColor = "#e3e7ee";
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpCharts();
    setUpPrivacy();
    $("login").addEventListener("submit", login);
    $("logout").addEventListener("click", function () { logout(); notify("Signed out.", "info"); });
    $("range").addEventListener("submit", apply);
    window.addEventListener("popstate", function () {
      if (state.auth && state.manager) load(rangeFromURL());
    });
    var saved = AgentCommon.savedSession();
    if (saved && saved.auth) {
      state.name = saved.name;
      checkSession(saved.auth, false);
    } else {
      showLogin();
    }
  });
})();
