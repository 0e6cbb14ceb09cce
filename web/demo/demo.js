/* Demo host page: signs the chat in as a demo user (GET /demo/users, GET /demo/token) and picks its locale.
 * A real portal would hand the widget the token of its own signed-in customer the same way. */
(function () {
  "use strict";
  var USER_KEY = "demo:user";
  var LOCALE_KEY = "demo:locale";
  var TEXT = {
    fr: {
      demo: "Démo", signInAs: "Se connecter en tant que", anonymous: "Visiteur anonyme", language: "Langue",
      heading: "Votre espace client", lead: "Une page de démonstration qui intègre le chat d'assistance avec une seule balise script.",
      subscription: "Abonnement", subscriptionText: "Consultez votre offre, vos factures et votre moyen de paiement.",
      team: "Équipe", teamText: "Invitez des collègues et gérez les droits d'administration.",
      help: "Besoin d'aide\u202f?", helpText: "Notre assistant répond tout de suite, en français ou en anglais.",
      openChat: "Ouvrir le chat", messengers: "Messageries",
      messengersText: "Reliez Telegram, Messenger ou Slack à votre compte\u00a0: envoyez au bot le code à usage unique.",
      getCode: "Obtenir un code", codeIs: "Envoyez au bot\u00a0: lier {code} (valable {minutes}\u00a0min, une seule fois)",
      codeFailed: "Impossible d'obtenir un code pour le moment.", guest: "Non connecté", usersFailed: "Impossible de charger les comptes de démo.",
      tokenFailed: "Impossible d'obtenir un jeton pour ce compte\u00a0: le chat reste anonyme.",
      expired: "Le chat a refusé le jeton (expiré\u202f?)\u00a0: choisissez à nouveau le compte pour en obtenir un neuf.",
      mailbox: "Boîte mail (démo)", mailboxText: "Les e-mails envoyés à {address} arrivent ici (le serveur de courrier de développement les capte).",
      mailboxSignIn: "Connectez-vous en tant qu'un compte de démo pour voir ses e-mails.", mailboxEmpty: "Aucun e-mail pour l'instant."
    },
    en: {
      demo: "Demo", signInAs: "Sign in as", anonymous: "Anonymous visitor", language: "Language",
      heading: "Your customer portal", lead: "A demo page that embeds the support chat with a single script tag.",
      subscription: "Subscription", subscriptionText: "See your plan, your invoices and your payment method.",
      team: "Team", teamText: "Invite colleagues and manage admin rights.",
      help: "Need help?", helpText: "Our assistant answers right away, in English or in French.",
      openChat: "Open the chat", messengers: "Messengers",
      messengersText: "Link Telegram, Messenger or Slack to your account: send the bot the one-time code.",
      getCode: "Get a code", codeIs: "Send the bot: link {code} (valid for {minutes} min, once)",
      codeFailed: "Could not get a code right now.", guest: "Not signed in", usersFailed: "Could not load the demo accounts.",
      tokenFailed: "Could not get a token for this account: the chat stays anonymous.",
      expired: "The chat refused the token (expired?): choose the account again to get a fresh one.",
      mailbox: "Mailbox (demo)", mailboxText: "Emails sent to {address} arrive here (the development mail catcher receives them).",
      mailboxSignIn: "Sign in as a demo account to see its emails.", mailboxEmpty: "No email yet."
    }
  };
  var userSelect = document.getElementById("user");
  var localeSelect = document.getElementById("locale");
  var who = document.getElementById("who");
  var message = document.getElementById("demo-message");
  var users = [];
  var token = null;
  var linkButton = document.getElementById("link-code");
  var linkResult = document.getElementById("link-code-result");

  function useToken(value) {
    token = value || null;
    linkButton.disabled = !token;
    linkResult.textContent = "";
    window.SupportChat.setToken(token);
    refreshMailbox();
  }

  /* The development mail catcher's messages for the signed-in user (GET /demo/mailbox), every few seconds. */
  var mailboxCard = document.getElementById("mailbox");
  var mailboxList = document.getElementById("mailbox-list");
  var mailboxNote = document.getElementById("mailbox-note");
  var mailboxSeen = "";

  function showMailbox(body) {
    var t = text();
    mailboxNote.textContent = body ? t.mailboxText.replace("{address}", body.address) : t.mailboxSignIn;
    var messages = body ? body.messages : [];
    var signature = (body ? body.address : "-") + JSON.stringify(messages) + localeSelect.value;
    if (signature === mailboxSeen) return;
    mailboxSeen = signature;
    mailboxList.textContent = "";
    if (body && !messages.length) {
      var empty = document.createElement("li");
      empty.textContent = t.mailboxEmpty;
      mailboxList.appendChild(empty);
    }
    messages.forEach(function (m) {
      var item = document.createElement("li");
      var details = document.createElement("details");
      var summary = document.createElement("summary");
      var when = m.date ? new Date(m.date).toLocaleString(localeSelect.value) : "";
      summary.textContent = m.subject + (when ? " — " + when : "");
      var content = document.createElement("pre");
      content.textContent = m.text;
      details.appendChild(summary);
      details.appendChild(content);
      item.appendChild(details);
      item.setAttribute("data-testid", "mailbox-message");
      mailboxList.appendChild(item);
    });
  }

  function refreshMailbox() {
    if (!token) { showMailbox(null); return; }
    fetch("/demo/mailbox", { headers: { "Authorization": "Bearer " + token } })
      .then(function (r) {
        if (r.status === 404) { mailboxCard.hidden = true; return null; }
        if (!r.ok) throw new Error(r.status);
        return r.json();
      })
      .then(function (body) { if (body) { mailboxCard.hidden = false; showMailbox(body); } })
      .catch(function () { /* the next refresh tries again */ });
  }

  function linkCode() {
    linkResult.textContent = "";
    fetch("/link/code", { method: "POST", headers: { "Authorization": "Bearer " + token } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (body) {
        linkResult.textContent = text().codeIs.replace("{code}", body.code)
          .replace("{minutes}", Math.round(body.expires_in / 60));
      })
      .catch(function () { linkResult.textContent = text().codeFailed; });
  }

  function read(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  function write(key, value) {
    try { if (value) localStorage.setItem(key, value); else localStorage.removeItem(key); } catch (e) { /* ignore */ }
  }
  function text() { return TEXT[/^fr/i.test(localeSelect.value) ? "fr" : "en"]; }
  function say(key) { message.textContent = key ? text()[key] : ""; }

  function showWho() {
    var user = users.filter(function (u) { return u.email === userSelect.value; })[0];
    who.textContent = user ? user.name + " · " + user.portal + " (" + user.role + ")" : text().guest;
  }

  function translatePage() {
    var t = text();
    document.documentElement.lang = localeSelect.value.slice(0, 2);
    document.querySelectorAll("[data-i18n]").forEach(function (node) { node.textContent = t[node.dataset.i18n]; });
    showWho();
    mailboxSeen = "";
    refreshMailbox();
  }

  function signIn(email) {
    write(USER_KEY, email);
    showWho();
    say("");
    if (!email) { useToken(null); return Promise.resolve(); }
    return fetch("/demo/token?email=" + encodeURIComponent(email))
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (body) { useToken(body.token); })
      .catch(function () { say("tokenFailed"); useToken(null); });
  }

  localeSelect.value = read(LOCALE_KEY) || "fr-FR";
  translatePage();
  window.SupportChat.setLocale(localeSelect.value);

  fetch("/demo/users")
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then(function (body) {
      users = body.users || [];
      users.forEach(function (u) {
        var option = document.createElement("option");
        option.value = u.email;
        option.textContent = u.name + " — " + u.email + " (" + u.role + ", " + u.portal + ")";
        userSelect.appendChild(option);
      });
    })
    .catch(function () { say("usersFailed"); })
    .then(function () {
      var stored = read(USER_KEY);
      userSelect.value = users.some(function (u) { return u.email === stored; }) ? stored : "";
      return signIn(userSelect.value);
    });

  userSelect.addEventListener("change", function () { signIn(userSelect.value); });
  localeSelect.addEventListener("change", function () {
    write(LOCALE_KEY, localeSelect.value);
    translatePage();
    window.SupportChat.setLocale(localeSelect.value);
  });
  document.getElementById("open-chat").addEventListener("click", function () { window.SupportChat.open(); });
  linkButton.addEventListener("click", linkCode);
  window.addEventListener("supportchat:token-expired", function () { say("expired"); });
  setInterval(refreshMailbox, 4000);
})();
