/* Agent console for human handoff: a queue of tickets and the selected ticket, over /agent/api. */
(function () {
  "use strict";

  var $ = AgentCommon.$; // common.js: what this page shares with the analytics page
  var el = AgentCommon.el;
  var notify = AgentCommon.notify;
  var ApiError = AgentCommon.ApiError;

  var REFRESH_MS = 5000;
  var REASONS = {
    customer_request: "Customer asked for a person",
    not_understood: "Bot did not understand",
    annual_refund: "Annual plan refund",
    telephony_refund_review: "Telephony credit refund review",
    on_premise_licence: "On-premise licence",
    payment_retries_exhausted: "Payment retries exhausted",
    cancellation_dispute: "Cancellation dispute"
  };
  var AUTHORS = { customer: "Customer", bot: "Bot", agent: "Agent", system: "System" };

  var state = { auth: null, name: null, selected: null, ticket: null, timer: null, busy: false, again: false, drafts: {} };

  /* One API call; throws ApiError (status 0 = network). A 401 sends the agent back to the login. */
  function api(method, path, body, auth) {
    var options = { method: method, headers: { Authorization: auth || state.auth, Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return AgentCommon.request(path, options).then(function (response) {
      return AgentCommon.readJson(response).then(function (data) {
        if (response.ok) return data;
        if (response.status === 401 && !auth) logout("Your session is no longer valid: please sign in again.");
        throw new ApiError(response.status, data && data.error);
      });
    });
  }

  function describeError(error) {
    if (!(error instanceof ApiError)) return "Unexpected error: " + error;
    if (error.status === 0) return "Cannot reach the server; retrying automatically.";
    if (error.status === 401) return "Wrong name or password.";
    if (error.status === 404) return "This ticket does not exist (any more).";
    if (error.status === 409) return "This ticket is already resolved: no more replies or changes.";
    if (error.code === "empty") return "The reply is empty.";
    return "Server error " + error.status + (error.code ? " (" + error.code + ")" : "") + ".";
  }

  function showError(error) {
    if (error instanceof ApiError && error.status === 401 && !state.auth) return; // already back at the login
    notify(describeError(error), "error");
  }

  function waiting(minutes) {
    minutes = Math.max(0, minutes | 0);
    if (minutes < 60) return minutes + " min";
    if (minutes < 1440) return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
    return Math.floor(minutes / 1440) + " d " + Math.floor((minutes % 1440) / 60) + " h";
  }

  function reasonText(reason) { return REASONS[reason] || String(reason || "").replace(/_/g, " "); }

  function timeOf(iso) {
    var date = new Date(iso);
    if (isNaN(date)) return el("time", {}, String(iso || ""));
    return el("time", { datetime: iso, title: date.toLocaleString() },
      date.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }));
  }

  function languageBadge(language) {
    var code = String(language || "?").toUpperCase();
    return el("span", { "class": "badge lang-" + String(language), "data-testid": "ticket-language",
      title: code === "FR" ? "French" : code === "EN" ? "English" : code }, code);
  }

  /* ---- session ---- */

  function showLogin() {
    $("console").hidden = true;
    $("whoami").hidden = true;
    $("login").hidden = false;
    $("login-name").focus();
  }

  /* Managers also get the analytics page (GET /me says who is one). */
  function showAnalyticsLink() {
    api("GET", "/me").then(function (data) { $("analytics-link").hidden = !data.manager; }, function () {});
  }

  function start() {
    showAnalyticsLink();
    $("login").hidden = true;
    $("console").hidden = false;
    $("whoami").hidden = false;
    $("agent-name").textContent = state.name;
    var reference = decodeURIComponent(location.hash.slice(1));
    if (reference) select(reference);
    refresh();
    clearInterval(state.timer);
    state.timer = setInterval(refresh, REFRESH_MS);
  }

  function logout(message) {
    clearInterval(state.timer);
    AgentCommon.forgetSession();
    state.auth = state.name = null;
    unselect();
    $("queue-list").textContent = "";
    notify(message || "", message ? "error" : "info");
    showLogin();
  }

  function login(event) {
    event.preventDefault();
    var auth = AgentCommon.basicAuth($("login-name").value, $("login-password").value);
    $("login-submit").disabled = true;
    api("GET", "/me", undefined, auth).then(function (data) {
      state.auth = auth;
      state.name = data.agent;
      AgentCommon.saveSession(auth, data.agent);
      $("login-password").value = "";
      notify("");
      start();
    }, function (error) {
      notify(describeError(error), "error");
      $("login-password").select();
    }).then(function () { $("login-submit").disabled = false; });
  }

  /* ---- queue ---- */

  function renderQueue(tickets) {
    var list = $("queue-list");
    var focused = document.activeElement && document.activeElement.getAttribute("data-reference");
    list.textContent = "";
    tickets.forEach(function (t) {
      var button = el("button", { type: "button", "class": "ticket-row status-" + t.status,
          "data-testid": "queue-item", "data-reference": t.reference,
          "aria-current": t.reference === state.selected ? "true" : null },
        el("span", { "class": "row-top" },
          el("strong", { "data-testid": "ticket-reference" }, t.reference), " ",
          languageBadge(t.language), " ",
          el("span", { "class": "status", "data-testid": "ticket-status" }, t.status)),
        el("span", { "class": "row-reason", "data-testid": "ticket-reason" }, reasonText(t.reason)),
        el("span", { "class": "row-bottom" },
          el("span", { "data-testid": "ticket-account" }, t.account || "anonymous"),
          el("span", { "data-testid": "ticket-waiting", title: "Waiting time" }, waiting(t.waiting_minutes))));
      button.addEventListener("click", function () { select(t.reference); });
      list.appendChild(el("li", {}, button));
      if (focused === t.reference) button.focus();
    });
    $("queue-count").textContent = "(" + tickets.length + ")";
    $("queue-empty").hidden = tickets.length > 0;
  }

  function refresh() {
    if (!state.auth) return;
    if (state.busy) { state.again = true; return; } // one more round once the current one is over
    state.busy = true;
    state.again = false;
    var loads = [api("GET", "/tickets?status=" + encodeURIComponent($("queue-status").value))
      .then(function (data) { renderQueue(data.tickets || []); })];
    if (state.selected) loads.push(loadTicket(state.selected));
    Promise.all(loads).then(function () {
      if ($("notice").className.indexOf("notice-network") >= 0) notify("");
    }, function (error) {
      if (error instanceof ApiError && error.status === 0) notify(describeError(error), "network");
      else showError(error);
    }).then(function () {
      state.busy = false;
      if (state.again) refresh();
    });
  }

  /* ---- the selected ticket ---- */

  function select(reference) {
    if (state.selected) state.drafts[state.selected] = $("reply-text").value; // one draft per ticket
    $("reply-text").value = state.drafts[reference] || "";
    state.selected = reference;
    state.ticket = null;
    history.replaceState(null, "", "#" + encodeURIComponent(reference));
    Array.prototype.forEach.call(document.querySelectorAll(".ticket-row"), function (row) {
      row.setAttribute("aria-current", String(row.getAttribute("data-reference") === reference));
    });
    loadTicket(reference).then(function () { $("ticket-headline").focus(); }, showError);
  }

  function unselect() {
    state.selected = state.ticket = null;
    history.replaceState(null, "", location.pathname + location.search);
    $("ticket-body").hidden = true;
    $("ticket-none").hidden = false;
  }

  function loadTicket(reference) {
    return api("GET", "/tickets/" + encodeURIComponent(reference)).then(function (data) {
      if (state.selected === reference) renderTicket(data.ticket);
    }, function (error) {
      if (error instanceof ApiError && error.status === 404 && state.selected === reference) unselect();
      throw error;
    });
  }

  function renderTicket(t) {
    var previous = state.ticket;
    state.ticket = t;
    if (previous && JSON.stringify(previous) === JSON.stringify(t)) return; // nothing new: keep scroll position
    var summary = t.summary || {};
    $("ticket-none").hidden = true;
    $("ticket-body").hidden = false;
    $("ticket-headline").textContent = summary.headline || t.headline || t.reference;
    var meta = $("ticket-meta");
    meta.textContent = "";
    meta.append(el("strong", { "data-testid": "ticket-reference" }, t.reference), " ", languageBadge(t.language),
      " " + reasonText(t.reason) + " · " + t.status + (t.assigned_to ? " (" + t.assigned_to + ")" : "") +
      " · " + (t.account || "anonymous") + (t.user ? " · " + t.user : "") + " · via " + t.channel +
      " · waiting " + waiting(t.waiting_minutes));

    var facts = $("ticket-facts");
    facts.textContent = "";
    (summary.facts || []).forEach(function (fact) {
      facts.append(el("dt", {}, String(fact.label)), el("dd", {}, String(fact.value)));
    });
    var told = $("ticket-bot-told");
    told.textContent = "";
    (summary.bot_told || []).forEach(function (text) { told.append(el("li", {}, String(text))); });
    if (!told.children.length) told.append(el("li", { "class": "muted" }, "Nothing yet."));

    var emails = $("ticket-emails");
    emails.textContent = "";
    (t.emails || []).forEach(function (e) {
      var text = e.template.replace(/_/g, " ") + " to " + e.to + ": " + e.state + " ";
      var error = e.state === "failed" && e.last_error ? " (" + e.last_error + ")" : "";
      emails.append(el("li", { "class": e.state === "failed" ? "email-failed" : "", "data-state": e.state },
        text, timeOf(e.at), error));
    });
    if (!emails.children.length) emails.append(el("li", { "class": "muted" }, "None."));

    var transcript = $("transcript");
    var atBottom = transcript.scrollTop + transcript.clientHeight >= transcript.scrollHeight - 4;
    transcript.textContent = "";
    (t.transcript || []).forEach(function (m) {
      var who = AUTHORS[m.author] || m.author;
      if (m.author === "agent" && m.agent) who += " (" + m.agent + ")";
      transcript.append(el("li", { "class": "msg msg-" + m.author, "data-testid": "transcript-item",
          "data-author": m.author },
        el("span", { "class": "msg-head" }, el("span", { "class": "msg-author" }, who), " ", timeOf(m.at)),
        el("span", { "class": "msg-text" }, String(m.text))));
    });
    if (atBottom || !previous || previous.reference !== t.reference) transcript.scrollTop = transcript.scrollHeight;

    var resolved = t.status === "resolved";
    $("assign").disabled = resolved || t.assigned_to === state.name;
    $("resolve").disabled = resolved;
    $("handback").disabled = resolved;
    $("reply-text").disabled = resolved;
    $("reply-send").disabled = resolved;
  }

  /* Assign / resolve / hand back: the ticket comes back updated; the queue is reloaded. */
  function act(action, done) {
    var reference = state.selected;
    if (!reference) return;
    var button = $(action);
    button.disabled = true;
    api("POST", "/tickets/" + encodeURIComponent(reference) + "/" + action).then(function () {
      notify(reference + " " + done + ".", "info");
      return loadTicket(reference);
    }).catch(function (error) {
      button.disabled = false;
      showError(error);
    }).then(refresh);
  }

  function sendReply(event) {
    event.preventDefault();
    var reference = state.selected;
    var box = $("reply-text");
    var text = box.value.trim();
    if (!reference) return;
    if (!text) { notify(describeError(new ApiError(400, "empty")), "error"); box.focus(); return; }
    $("reply-send").disabled = true;
    api("POST", "/tickets/" + encodeURIComponent(reference) + "/reply", { text: text }).then(function (data) {
      box.value = "";
      delete state.drafts[reference];
      notify(data.delivered ? "Reply sent." : "Reply saved, but it could not be delivered to the customer right now.",
        data.delivered ? "info" : "error");
      return loadTicket(reference);
    }).catch(showError).then(function () {
      $("reply-send").disabled = !state.ticket || state.ticket.status === "resolved";
      box.focus();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("login").addEventListener("submit", login);
    $("logout").addEventListener("click", function () { logout(); notify("Signed out.", "info"); });
    $("queue-status").addEventListener("change", refresh);
    $("assign").addEventListener("click", function () { act("assign", "assigned to you"); });
    $("resolve").addEventListener("click", function () { act("resolve", "resolved; the bot has resumed the conversation"); });
    $("handback").addEventListener("click", function () { act("handback", "handed back to the bot"); });
    $("reply-form").addEventListener("submit", sendReply);
    $("reply-text").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("reply-form").requestSubmit();
    });
    var saved = AgentCommon.savedSession();
    if (saved && saved.auth) {
      state.auth = saved.auth;
      state.name = saved.name;
      start();
    } else {
      showLogin();
    }
  });
})();
