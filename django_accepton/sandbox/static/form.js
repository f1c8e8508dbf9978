/*
 * The hosted payment form of the django-accepton sandbox (index.html).
 *
 * Query parameters (set by accepton.js): instanceId, public_key, token, additional_fields,
 * customer_email, appearance (modal | inline), referrer (the embedding page's URL).
 * API calls go to the same origin: GET v1/form/configure and POST v1/charges.
 * Messages to the embedding page: "accepton::" + JSON {instanceId, method, params} with
 * method resizeFrame {height}, close {}, paymentSuccess {charge}.
 */
(function () {
  "use strict";

  var PREFIX = "accepton::";
  var ADDITIONAL_FIELDS = {
    name: { id: "name", metadata: "name", label: "Full name" },
    phone: { id: "phone", metadata: "phone", label: "Phone" },
    billing_address: { id: "billing-address", metadata: "billing_address", label: "Billing address" },
    shipping_address: { id: "shipping-address", metadata: "shipping_address", label: "Shipping address" },
  };
  /* ISO 4217 currencies whose smallest unit is the main unit, or a thousandth. */
  var ZERO_DECIMAL = "bif clp djf gnf isk jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split(" ");
  var THREE_DECIMAL = "bhd iqd jod kwd lyd omr tnd".split(" ");

  var query = new URLSearchParams(window.location.search);
  var instanceId = query.get("instanceId") || "";
  var publicKey = (query.get("public_key") || "").trim();
  var tokenId = (query.get("token") || "").trim();
  var customerEmail = (query.get("customer_email") || "").trim();
  var referrer = query.get("referrer") || "";
  var embedded = window.parent && window.parent !== window;
  var appearance = embedded ? (query.get("appearance") === "inline" ? "inline" : "modal") : "page";
  var targetOrigin = originOf(referrer) || "*";
  var additionalFields = (query.get("additional_fields") || "")
    .split(",")
    .map(function (value) {
      return value.trim().toLowerCase();
    })
    .filter(function (value, index, all) {
      return Object.prototype.hasOwnProperty.call(ADDITIONAL_FIELDS, value) && all.indexOf(value) === index;
    });

  var el = function (id) {
    return document.getElementById(id);
  };
  var body = document.body;
  var shell = el("shell");
  var card = el("card");
  var form = el("payment-form");
  var payButton = el("pay-button");
  var errorBox = el("form-error");
  var successBox = el("form-success");
  var loadingBox = el("form-loading");
  var closeButton = el("close-button");

  var token = null;
  var inFlight = false;
  var finished = false;
  var lastHeight = 0;

  /* ---- helpers ---- */

  function originOf(url) {
    try {
      var origin = new URL(url).origin;
      return origin && origin !== "null" ? origin : "";
    } catch (e) {
      return "";
    }
  }

  function apiUrl(path) {
    return new URL(path, document.baseURI).href;
  }

  function post(method, params) {
    if (!embedded) {
      return;
    }
    var message = PREFIX + JSON.stringify({ instanceId: instanceId, method: method, params: params || {} });
    window.parent.postMessage(message, targetOrigin);
  }

  function decimalsFor(currency) {
    var code = (currency || "").toLowerCase();
    if (ZERO_DECIMAL.indexOf(code) !== -1) {
      return 0;
    }
    if (THREE_DECIMAL.indexOf(code) !== -1) {
      return 3;
    }
    return 2;
  }

  /* 1250 + "usd" -> "$12.50 USD"; 1250 + "jpy" -> "¥1,250 JPY". */
  function formatAmount(amount, currency) {
    var code = (currency || "usd").toUpperCase();
    var decimals = decimalsFor(code);
    var value = Number(amount) / Math.pow(10, decimals);
    var text;
    try {
      text = new Intl.NumberFormat("en-US", {
        style: "currency",
        currency: code,
        currencyDisplay: "narrowSymbol",
        minimumFractionDigits: decimals,
        maximumFractionDigits: decimals,
      }).format(value);
    } catch (e) {
      text = value.toFixed(decimals);
    }
    return text + " " + code;
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  function setState(state) {
    body.className = body.className.replace(/\bstate-\w+/g, "").trim() + " state-" + state;
  }

  function showError(message) {
    errorBox.textContent = message;
    show(errorBox, true);
    reportHeight();
  }

  function clearError() {
    errorBox.textContent = "";
    show(errorBox, false);
    var invalid = form.querySelectorAll('[aria-invalid="true"]');
    for (var i = 0; i < invalid.length; i++) {
      invalid[i].removeAttribute("aria-invalid");
    }
  }

  function markInvalid(id) {
    var input = el(id);
    if (input) {
      input.setAttribute("aria-invalid", "true");
    }
    return input;
  }

  function reportHeight() {
    var height = Math.ceil(shell.getBoundingClientRect().height);
    if (height > 0 && height !== lastHeight) {
      lastHeight = height;
      post("resizeFrame", { height: height });
    }
  }

  function readJson(response) {
    return response.text().then(function (text) {
      try {
        return JSON.parse(text);
      } catch (e) {
        return null;
      }
    });
  }

  function errorMessage(data, status) {
    if (data && data.error && data.error.message) {
      return String(data.error.message);
    }
    if (status >= 500) {
      return "The payment server had a problem (HTTP " + status + "). Please try again.";
    }
    return "The request failed (HTTP " + status + ").";
  }

  /* ---- set-up ---- */

  /* Closing is refused while a charge is in flight, so its outcome always reaches the page. */
  function requestClose() {
    if (appearance === "modal" && !inFlight) {
      post("close");
    }
  }

  /* The page forwards Esc as "closeModal" when it has the focus. */
  function onParentMessage(event) {
    if (event.source !== window.parent || typeof event.data !== "string" || event.data.indexOf(PREFIX) !== 0) {
      return;
    }
    if (targetOrigin !== "*" && event.origin !== targetOrigin) {
      return;
    }
    var message;
    try {
      message = JSON.parse(event.data.slice(PREFIX.length));
    } catch (e) {
      return;
    }
    if (message && message.instanceId === instanceId && message.method === "closeModal") {
      requestClose();
    }
  }

  function applyAppearance() {
    body.classList.add("appearance-" + appearance);
    show(closeButton, appearance === "modal");
    closeButton.addEventListener("click", requestClose);
    if (appearance === "modal") {
      shell.addEventListener("mousedown", function (event) {
        if (event.target === shell) {
          requestClose();
        }
      });
      document.addEventListener("keydown", function (event) {
        if (event.key === "Escape" || event.key === "Esc") {
          requestClose();
        }
      });
      window.addEventListener("message", onParentMessage);
    }
    if (window.ResizeObserver) {
      new ResizeObserver(reportHeight).observe(shell);
    } else {
      window.addEventListener("resize", reportHeight);
    }
  }

  function configure() {
    if (!publicKey || !tokenId) {
      setState("failed");
      show(loadingBox, false);
      showError("This payment form is missing its public key or transaction token.");
      return;
    }
    var url = apiUrl("v1/form/configure") + "?" + new URLSearchParams({ access_token: publicKey, token_id: tokenId });
    fetch(url, { headers: { Accept: "application/json" }, credentials: "omit" })
      .then(function (response) {
        return readJson(response).then(function (data) {
          if (!response.ok || !data || !data.config) {
            throw new Error(errorMessage(data, response.status));
          }
          return data.config;
        });
      })
      .then(render, function (error) {
        setState("failed");
        show(loadingBox, false);
        showError(
          error instanceof TypeError ? "The payment server could not be reached." : error.message
        );
      });
  }

  function render(config) {
    var methods = config.payment_methods || [];
    token = config.token || {};
    show(loadingBox, false);
    if (methods.indexOf("credit-card") === -1) {
      setState("failed");
      showError("This payment form has no card payment method configured.");
      return;
    }
    var amountText = formatAmount(token.amount, token.currency);
    el("description").textContent = token.description || "";
    el("amount").textContent = amountText;
    var period = token.plan && token.plan.period_unit;
    if (period === "month" || period === "year") {
      el("billing-period").textContent = "Billed every " + period + " until cancelled.";
      show(el("billing-period"), true);
    }
    document.title = (token.description ? token.description + " – " : "") + amountText;
    payButton.textContent = "Pay " + amountText;
    additionalFields.forEach(function (key) {
      var field = ADDITIONAL_FIELDS[key];
      show(el("field-" + field.id), true);
      el(field.id).required = true;
    });
    show(el("field-promo-code"), Boolean(config.promo_codes_enabled));
    el("email").value = customerEmail;
    show(form, true);
    payButton.disabled = false;
    setState("ready");
    reportHeight();
    if (appearance !== "inline") {
      /* Inline forms do not take focus: that would scroll the merchant's page. */
      var firstId = "email";
      if (customerEmail) {
        firstId = additionalFields.length ? ADDITIONAL_FIELDS[additionalFields[0]].id : "card-number";
      }
      el(firstId).focus();
    }
  }

  /* ---- submit ---- */

  function digits(value) {
    return value.replace(/\D+/g, "");
  }

  function collect() {
    var email = el("email").value.trim();
    var number = digits(el("card-number").value);
    var month = digits(el("exp-month").value);
    var year = digits(el("exp-year").value);
    var cvc = digits(el("cvc").value);
    var problems = [];

    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
      problems.push(["email", "Enter a valid email address."]);
    }
    additionalFields.forEach(function (key) {
      var field = ADDITIONAL_FIELDS[key];
      if (!el(field.id).value.trim()) {
        problems.push([field.id, "Enter your " + field.label.toLowerCase() + "."]);
      }
    });
    if (number.length < 12 || number.length > 19) {
      problems.push(["card-number", "Enter a valid card number."]);
    }
    if (!month || Number(month) < 1 || Number(month) > 12) {
      problems.push(["exp-month", "Enter the expiry month as a number from 1 to 12."]);
    }
    if (year.length === 2) {
      year = "20" + year;
    }
    if (year.length !== 4) {
      problems.push(["exp-year", "Enter the expiry year, for example 2030."]);
    }
    if (cvc.length < 3 || cvc.length > 4) {
      problems.push(["cvc", "Enter the 3 or 4 digit security code."]);
    }
    if (problems.length) {
      problems.forEach(function (problem) {
        markInvalid(problem[0]);
      });
      return { problems: problems };
    }

    var data = new URLSearchParams();
    data.set("access_token", publicKey);
    data.set("token", tokenId);
    data.set("card[number]", number);
    data.set("card[exp_month]", month.length === 1 ? "0" + month : month);
    data.set("card[exp_year]", year);
    data.set("card[security_code]", cvc);
    data.set("email", email);
    var promo = el("promo-code").value.trim();
    if (!el("field-promo-code").hidden && promo) {
      data.set("promo_code", promo);
    }
    additionalFields.forEach(function (key) {
      var field = ADDITIONAL_FIELDS[key];
      data.set("metadata[" + field.metadata + "]", el(field.id).value.trim());
    });
    return { data: data };
  }

  function setBusy(busy) {
    inFlight = busy;
    payButton.disabled = busy;
    payButton.setAttribute("aria-busy", busy ? "true" : "false");
    payButton.textContent = busy ? "Processing…" : "Pay " + formatAmount(token.amount, token.currency);
    form.classList.toggle("is-busy", busy);
  }

  var FIELD_FOR_ERROR = {
    card_declined: "card-number",
    insufficient_funds: "card-number",
    invalid_card: "card-number",
    invalid_expiry: "exp-month",
    invalid_cvc: "cvc",
    invalid_email: "email",
    invalid_promo_code: "promo-code",
  };

  function onSubmit(event) {
    event.preventDefault();
    if (inFlight || finished || !token) {
      return;
    }
    clearError();
    var collected = collect();
    if (collected.problems) {
      showError(collected.problems[0][1]);
      el(collected.problems[0][0]).focus();
      return;
    }
    setBusy(true);
    fetch(apiUrl("v1/charges"), {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: collected.data.toString(),
      credentials: "omit",
    })
      .then(function (response) {
        return readJson(response).then(function (data) {
          if (response.ok && data && data.id) {
            succeed(data);
            return;
          }
          setBusy(false);
          var type = data && data.error && data.error.type;
          showError(errorMessage(data, response.status));
          if (type === "token_already_used") {
            finished = true;
            payButton.disabled = true;
            return;
          }
          var field = FIELD_FOR_ERROR[type];
          if (field) {
            markInvalid(field).focus();
          }
        });
      })
      .catch(function () {
        setBusy(false);
        showError("The payment server could not be reached. Check your connection and try again.");
      });
  }

  function succeed(charge) {
    finished = true;
    inFlight = false;
    show(form, false);
    show(errorBox, false);
    el("success-detail").textContent =
      formatAmount(charge.amount, charge.currency || token.currency) + " charged. Reference " + charge.id + ".";
    show(successBox, true);
    setState("success");
    reportHeight();
    post("paymentSuccess", { charge: charge });
  }

  function tidyCardNumber() {
    var number = digits(this.value);
    if (number) {
      this.value = number.replace(/(\d{4})(?=\d)/g, "$1 ");
    }
  }

  applyAppearance();
  form.addEventListener("submit", onSubmit);
  el("card-number").addEventListener("blur", tidyCardNumber);
  reportHeight();
  configure();
})();
