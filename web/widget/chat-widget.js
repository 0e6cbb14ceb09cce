/* Support chat widget: one script tag, no build step.
 *
 *   <script src="https://host/widget/chat-widget.js" data-server="https://host" data-locale="fr-FR" defer></script>
 *
 * Optional attributes: data-server (socket.io server, default: this script's origin), data-locale
 * (default: the browser's), data-wait-for-token (do not connect before the host page's first setToken call,
 * with a JWT or null, so a signed-in visitor is never connected as anonymous first).
 * Host page API: window.SupportChat = {setToken(jwt|null), setLocale(locale), open(), close()}.
 * Event on window: "supportchat:token-expired" when the server refused the token (the widget goes on anonymously).
 * Message text is only ever rendered with textContent (URLs become <a> elements built by hand).
 */
(function () {
  "use strict";
  if (window.SupportChat) return;

  var script = document.currentScript || document.querySelector('script[src*="chat-widget.js"]');
  var base = new URL(".", script.src).href;                     // .../widget/
  var server = script.getAttribute("data-server") || new URL(script.src).origin;
  var waitForToken = script.hasAttribute("data-wait-for-token");
  var MAX_LENGTH = 2000;
  var MAX_UNCONFIRMED = 10, RESEND_WITHIN_MS = 120000;   // a reconnect after a replica died takes seconds
  var SESSION_KEY = "supportchat:session:" + server;            // anonymous visitors' conversation
  var OPEN_KEY = "supportchat:open";                            // panel kept open across reloads (this tab)

  var LABELS = {
    fr: {
      launcher: "Aide", open: "Ouvrir le chat d'assistance", close: "Fermer le chat", title: "Assistance",
      dialog: "Chat d'assistance", signedIn: "Connecté à votre compte", anonymous: "Non connecté\u00a0: réponses générales",
      welcome: "Bonjour\u202f! Posez-moi vos questions sur votre abonnement, un paiement ou une résiliation.",
      placeholder: "Écrivez votre message…", send: "Envoyer", typing: "L'assistant écrit…",
      connecting: "Connexion…", lost: "Connexion perdue. Reconnexion en cours…",
      expired: "Votre connexion a expiré\u00a0: vous continuez en tant que visiteur. Reconnectez-vous pour parler de votre compte.",
      agent: function (name) { return name + ", de l'équipe support"; }, you: "Vous", bot: "Assistant",
      unread: "nouveau message", characters: "caractères"
    },
    en: {
      launcher: "Help", open: "Open the support chat", close: "Close the chat", title: "Support",
      dialog: "Support chat", signedIn: "Signed in to your account", anonymous: "Not signed in: general answers",
      welcome: "Hi! Ask me anything about your subscription, a payment or cancelling.",
      placeholder: "Type your message…", send: "Send", typing: "The assistant is typing…",
      connecting: "Connecting…", lost: "Connection lost. Reconnecting…",
      expired: "Your sign-in has expired, so you are chatting as a guest. Sign in again to talk about your account.",
      agent: function (name) { return name + " from the support team"; }, you: "You", bot: "Assistant",
      unread: "new message", characters: "characters"
    }
  };

  var state = {
    token: null, tokenKnown: !waitForToken, locale: script.getAttribute("data-locale") || navigator.language || "en",
    socket: null, ioReady: null, isOpen: false, signedIn: null, typingTimer: null,
    ready: false, pending: [],                                  // messages typed before the history arrived
    unconfirmed: []                    // sent, not yet seen in a history: sent again (same id) after a reconnect
  };
  function t() { return LABELS[/^fr/i.test(state.locale) ? "fr" : "en"]; }

  /* ---------- DOM (inside a shadow root, so the host page's CSS and ours never meet) ---------- */
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) node.textContent = text;
    return node;
  }
  var host = el("div", { id: "support-chat-widget", "data-testid": "chat-widget" });
  host.style.display = "none";                                  // until the stylesheet has loaded
  var root = host.attachShadow({ mode: "open" });
  var css = el("link", { rel: "stylesheet", href: base + "chat-widget.css" });
  css.onload = css.onerror = function () { host.style.display = ""; };
  root.appendChild(css);

  var launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false",
    "aria-controls": "sc-panel", "data-testid": "chat-launcher" });
  var launcherText = el("span", { class: "launcher-text" });
  launcher.appendChild(el("span", { class: "launcher-icon", "aria-hidden": "true" }));
  launcher.appendChild(launcherText);
  launcher.appendChild(el("span", { class: "badge", "aria-hidden": "true" }));

  var panel = el("div", { id: "sc-panel", class: "panel", role: "dialog", hidden: "", "data-testid": "chat-panel" });
  var header = el("div", { class: "header" });
  var heading = el("div", { class: "heading" });
  var title = el("h2", { class: "title" });
  var subtitle = el("p", { class: "subtitle", "data-testid": "chat-identity" });
  heading.appendChild(title);
  heading.appendChild(subtitle);
  var closeButton = el("button", { type: "button", class: "close", "data-testid": "chat-close" }, "×");
  header.appendChild(heading);
  header.appendChild(closeButton);

  var notice = el("p", { class: "notice", role: "status", hidden: "", "data-testid": "chat-status" });
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", tabindex: "0", "data-testid": "chat-log" });
  var welcome = el("p", { class: "welcome", "data-testid": "chat-welcome" });
  var typing = el("p", { class: "typing", role: "status", hidden: "", "data-testid": "chat-typing" });

  var form = el("form", { class: "composer", novalidate: "" });
  var input = el("textarea", { rows: "1", maxlength: String(MAX_LENGTH), class: "input", "data-testid": "chat-input" });
  var counter = el("span", { class: "counter", hidden: "" });
  var sendButton = el("button", { type: "submit", class: "send", "data-testid": "chat-send" });
  form.appendChild(input);
  form.appendChild(sendButton);
  form.appendChild(counter);

  [header, notice, log, typing, form].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(launcher);                                   // tab order: launcher, then the panel it opens
  root.appendChild(panel);

  function applyLabels() {
    var l = t();
    panel.lang = /^fr/i.test(state.locale) ? "fr" : "en";
    launcher.lang = panel.lang;
    launcherText.textContent = l.launcher;
    launcher.setAttribute("aria-label", l.open + (launcher.classList.contains("unread") ? " (" + l.unread + ")" : ""));
    panel.setAttribute("aria-label", l.dialog);
    title.textContent = l.title;
    subtitle.textContent = state.signedIn === null ? "" : state.signedIn ? l.signedIn : l.anonymous;
    closeButton.setAttribute("aria-label", l.close);
    welcome.textContent = l.welcome;
    typing.textContent = l.typing;
    input.setAttribute("placeholder", l.placeholder);
    input.setAttribute("aria-label", l.placeholder);
    sendButton.textContent = l.send;
  }

  /* ---------- messages ---------- */
  var URL_RE = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)]/g;
  function appendText(node, text) {                             // text, with http(s) URLs as links
    var last = 0, match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text))) {
      node.appendChild(document.createTextNode(text.slice(last, match.index)));
      var a = el("a", { href: match[0], target: "_blank", rel: "noopener noreferrer" }, match[0]);
      node.appendChild(a);
      last = match.index + match[0].length;
    }
    node.appendChild(document.createTextNode(text.slice(last)));
  }

  function disableOldReplies() {
    log.querySelectorAll(".replies button").forEach(function (b) { b.disabled = true; });
  }

  function addMessage(sender, text, buttons, agent) {
    disableOldReplies();
    if (welcome.parentNode) welcome.remove();
    var kind = agent ? "agent" : sender;
    var item = el("div", { class: "msg msg-" + kind, "data-testid": "message-" + kind });
    var who = agent ? t().agent(agent) : sender === "user" ? t().you : t().bot;
    item.appendChild(el("span", { class: agent ? "who" : "who sr-only" }, who));
    var bubble = el("div", { class: "bubble", "data-testid": "message-text" });
    appendText(bubble, text || "");
    item.appendChild(bubble);
    if (buttons && buttons.length) {
      var group = el("div", { class: "replies", role: "group" });
      buttons.forEach(function (b) {
        var button = el("button", { type: "button", class: "reply", "data-testid": "quick-reply",
          "data-payload": b.payload }, b.title);
        button.addEventListener("click", function () { send(b.payload, b.title); });
        group.appendChild(button);
      });
      item.appendChild(group);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function renderHistory(messages) {
    log.textContent = "";
    log.removeAttribute("data-loaded");
    log.appendChild(welcome);
    var lastButtons = [];
    (messages || []).forEach(function (m) {
      var text = m.text || "";
      if (m.sender === "user") {                              // a clicked button's payload: show its title
        lastButtons.forEach(function (b) { if (b.payload === text) text = b.title; });
      }
      addMessage(m.sender === "user" ? "user" : "bot", text, m.buttons, m.agent);
      lastButtons = m.sender === "user" ? [] : lastButtons.concat(m.buttons || []);
    });
  }

  function setTyping(on) {
    clearTimeout(state.typingTimer);
    typing.hidden = !on;
    if (on) state.typingTimer = setTimeout(function () { typing.hidden = true; }, 30000);
  }

  function showNotice(text, kind) {
    notice.hidden = !text;
    notice.textContent = text || "";
    notice.className = "notice" + (kind ? " notice-" + kind : "");
  }

  /* ---------- connection ---------- */
  function loadSocketIo() {
    if (window.io) return Promise.resolve(window.io);
    if (!state.ioReady) {
      state.ioReady = new Promise(function (resolve, reject) {
        var s = el("script", { src: base + "socket.io.min.js", async: "" });
        s.onload = function () { resolve(window.io); };
        s.onerror = function () { state.ioReady = null; reject(new Error("socket.io client not loaded")); };
        document.head.appendChild(s);
      });
    }
    return state.ioReady;
  }

  function storedSession() { try { return localStorage.getItem(SESSION_KEY); } catch (e) { return null; } }

  function connect() {
    if (state.socket) return;
    showNotice(t().connecting);
    if (!state.tokenKnown) return;                              // data-wait-for-token: setToken will connect
    loadSocketIo().then(function (io) {
      if (state.socket) return;
      var socket = state.socket = io(server, {
        path: "/socket.io", transports: ["websocket", "polling"],
        auth: function (cb) {                                   // read again on every (re)connection
          var auth = { locale: state.locale };
          if (state.token) auth.token = state.token;
          else if (storedSession()) auth.session = storedSession();
          cb(auth);
        }
      });
      socket.on("connect", function () { showNotice(state.expired ? t().expired : "", "info"); });
      socket.on("session_confirm", function (data) {
        state.signedIn = !!(data && data.signed_in);
        if (data && data.session_token && !state.signedIn) {
          try { localStorage.setItem(SESSION_KEY, data.session_token); } catch (e) { /* private mode */ }
        }
        applyLabels();
      });
      socket.on("history", function (data) {
        renderHistory(data && data.messages);
        var resend = unconfirmedAfter(data && data.messages);
        log.setAttribute("data-loaded", "true");               // lets tests and host pages know it is shown
        state.ready = true;
        resend.forEach(function (m) { deliver(m.text, m.shownAs, m.id, m.at); });
        state.pending.splice(0).forEach(function (m) { deliver(m[0], m[1]); });
      });
      socket.on("bot_uttered", function (data) {
        if (!data || (!data.text && !(data.quick_replies || []).length)) return;
        setTyping(false);
        addMessage("bot", data.text, data.quick_replies, data.agent);
        if (!state.isOpen) { launcher.classList.add("unread"); applyLabels(); }
      });
      socket.on("connect_error", function (err) {
        if (err && err.message === "invalid_token" && state.token) {
          state.token = null;                                   // go on as an anonymous visitor
          state.expired = true;
          state.unconfirmed = [];                               // sent as the customer: never again as a guest
          window.dispatchEvent(new CustomEvent("supportchat:token-expired"));
          socket.connect();
        } else if (err && err.message === "invalid_token" && storedSession()) {
          try { localStorage.removeItem(SESSION_KEY); } catch (e) { /* ignore */ }
          socket.connect();                                     // a stale anonymous session: start a new one
        } else if (!socket.active) {
          setTimeout(function () { if (!socket.active) socket.connect(); }, 5000); // refused: try again later
          showNotice(t().lost, "error");
        } else {
          showNotice(t().lost, "error");
        }
      });
      socket.on("disconnect", function (reason) {
        state.ready = false;
        setTyping(false);
        if (reason === "io client disconnect") return;
        showNotice(t().lost, "error");
        if (reason === "io server disconnect") {                // socket.io does not retry these by itself
          setTimeout(function () { if (!socket.active) socket.connect(); }, 2000);
        }
      });
    }, function () { showNotice(t().lost, "error"); setTimeout(connect, 5000); });
  }

  function reconnect() {                                        // a new identity or locale: a new session
    if (!state.socket) return connect();
    state.socket.disconnect();
    setTyping(false);
    state.socket.connect();
  }

  function send(text, shownAs) {
    text = (text || "").trim().slice(0, MAX_LENGTH);
    if (!text) return false;
    if (state.ready) {
      deliver(text, shownAs);
    } else {                                                    // connecting: sent once the history is shown
      if (state.pending.length >= 10) return false;
      state.pending.push([text, shownAs]);
      addMessage("user", shownAs || text).classList.add("msg-pending");
      connect();
    }
    return true;
  }
  function deliver(text, shownAs, id, at) {                     // id and at: a message sent again keeps its own
    id = id || newMessageId();
    state.unconfirmed = state.unconfirmed.slice(-(MAX_UNCONFIRMED - 1))
      .concat([{ id: id, text: text, shownAs: shownAs, at: at || Date.now() }]);
    state.socket.emit("user_uttered", { message: text, message_id: id });
    addMessage("user", shownAs || text);
    setTyping(true);
  }
  // The messages the server may never have handled (the replica holding the connection died): the recent ones
  // whose id the conversation's history does not show. The server handles an id once, so a copy is harmless.
  function unconfirmedAfter(messages) {
    var seen = {};
    (messages || []).forEach(function (m) { if (m.sender === "user" && m.id) seen[m.id] = true; });
    var recent = Date.now() - RESEND_WITHIN_MS;
    var missing = state.unconfirmed.filter(function (m) { return !seen[m.id] && m.at > recent; });
    state.unconfirmed = [];
    return missing;
  }
  function newMessageId() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return "w" + Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  /* ---------- open / close, keyboard ---------- */
  function open(restoring) {
    if (state.isOpen) return;
    state.isOpen = true;
    panel.hidden = false;
    host.classList.add("is-open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.classList.remove("unread");
    applyLabels();
    try { sessionStorage.setItem(OPEN_KEY, "1"); } catch (e) { /* ignore */ }
    connect();
    if (restoring !== true) input.focus();                    // a reload does not steal the page's focus
    log.scrollTop = log.scrollHeight;
  }
  function close() {
    if (!state.isOpen) return;
    state.isOpen = false;
    panel.hidden = true;
    host.classList.remove("is-open");
    launcher.setAttribute("aria-expanded", "false");
    try { sessionStorage.removeItem(OPEN_KEY); } catch (e) { /* ignore */ }
    launcher.focus();
  }

  launcher.addEventListener("click", function () { state.isOpen ? close() : open(); });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { e.preventDefault(); close(); } });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  input.addEventListener("input", function () {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
    counter.hidden = input.value.length < MAX_LENGTH - 200;
    counter.textContent = input.value.length + " / " + MAX_LENGTH + " " + t().characters;
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (send(input.value)) {
      input.value = "";
      input.dispatchEvent(new Event("input"));
    }
    input.focus();
  });

  /* ---------- host page API ---------- */
  window.SupportChat = {
    setToken: function (jwt) {
      var changed = (jwt || null) !== state.token || !state.tokenKnown;
      state.token = jwt || null;
      state.expired = false;
      state.tokenKnown = true;
      if (!changed) return;
      state.signedIn = null;
      state.pending = []; state.unconfirmed = [];  // never send one visitor's words as another's
      renderHistory([]);                                        // never show one visitor's messages to another
      applyLabels();
      if (state.socket) reconnect();
      else if (state.isOpen) connect();
    },
    setLocale: function (locale) {
      if (!locale || locale === state.locale) return;
      state.locale = locale;
      applyLabels();
      if (state.socket) reconnect();
    },
    open: function () { open(); },
    close: close
  };

  applyLabels();
  renderHistory([]);
  document.body.appendChild(host);
  try { if (sessionStorage.getItem(OPEN_KEY)) open(true); } catch (e) { /* ignore */ }
})();
