/* What the agent console (console.js) and the analytics page (analytics.js) share: the API's address, the
   signed-in session (one sign-in for both pages), building elements, the notice, and API errors.
   Loaded before each page's own script; each page keeps its own calls of the API. */
(function () {
  "use strict";

  var API = "/agent/api";
  var STORAGE_KEY = "agentConsole.credentials";

  function $(id) { return document.getElementById(id); }

  /* Builds an element; strings become text nodes (customer and API text is never parsed as HTML). */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (attrs[key] !== null && attrs[key] !== undefined) node.setAttribute(key, attrs[key]);
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function notify(text, kind) {
    var notice = $("notice");
    notice.textContent = text || "";
    notice.className = "notice" + (text ? " notice-" + (kind || "info") : "");
  }

  function basicAuth(name, password) {
    var bytes = new TextEncoder().encode(name + ":" + password);
    var binary = "";
    bytes.forEach(function (b) { binary += String.fromCharCode(b); });
    return "Basic " + btoa(binary);
  }

  function ApiError(status, code) {
    this.status = status;
    this.code = code;
  }

  /* fetch() of an API path; a network failure becomes ApiError (status 0). */
  function request(path, options) {
    return fetch(API + path, options).catch(function () { throw new ApiError(0, "network"); });
  }

  /* The JSON body of an answer, {} if it has none. */
  function readJson(response) {
    return response.json().catch(function () { return {}; });
  }

  /* A non-2xx answer as a rejected ApiError carrying its {"error": code}. */
  function failed(response) {
    return readJson(response).then(function (data) { throw new ApiError(response.status, data && data.error); });
  }

  /* ---- the session: {auth, name} in sessionStorage ---- */

  function savedSession() {
    try { return JSON.parse(sessionStorage.getItem(STORAGE_KEY)); } catch (e) { return null; }
  }

  function saveSession(auth, name) {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ auth: auth, name: name }));
  }

  function forgetSession() { sessionStorage.removeItem(STORAGE_KEY); }

  window.AgentCommon = Object.freeze({
    $: $, el: el, notify: notify, basicAuth: basicAuth, ApiError: ApiError, request: request, readJson: readJson,
    failed: failed, savedSession: savedSession, saveSession: saveSession, forgetSession: forgetSession
  });
})();
