/*!
 * accepton.js for the django-accepton sandbox.
 *
 * Embed with:
 *   <script src="<sandbox>/scripts/accepton.js" class="accepton-button"
 *           data-public-key="pkey_..." data-token="txn_..."
 *           [data-redirect-uri="..."] [data-success-callback="fnName"]
 *           [data-target="elementId"] [data-additional-fields="name,phone,..."]
 *           [data-customer-email="..."]></script>
 *
 * Every script tag is an independent instance. Without data-target a "Pay Now" button
 * opens the payment form in a full-viewport overlay iframe (modal); with data-target the
 * form renders inline in an iframe. The iframe talks to this page with postMessage strings
 * "accepton::" + JSON {instanceId, method, params}. See docs/sandbox-form.md.
 */
(function () {
  "use strict";

  var PREFIX = "accepton::";
  var ADDITIONAL_FIELDS = ["name", "phone", "billing_address", "shipping_address"];
  var INLINE_HEIGHT = 470;
  var INLINE_MIN_WIDTH = 300;

  var registry = (window.AcceptOn = window.AcceptOn || { instances: [], counter: 0 });

  function findOwnScript() {
    var current = document.currentScript;
    if (
      current &&
      current.src &&
      current.src.indexOf("accepton.js") !== -1 &&
      !current.hasAttribute("data-accepton-active")
    ) {
      return current;
    }
    var candidates = document.querySelectorAll('script[src*="accepton.js"]:not([data-accepton-active])');
    return candidates.length ? candidates[candidates.length - 1] : null;
  }

  /* The sandbox base URL: everything before "scripts/accepton.js" in the script's src. */
  function baseUrlOf(script) {
    var url = new URL(script.src, document.baseURI);
    url.search = "";
    url.hash = "";
    var href = url.href;
    var cut = href.lastIndexOf("/scripts/accepton.js");
    if (cut === -1) {
      cut = href.lastIndexOf("/");
    }
    return href.slice(0, cut);
  }

  function attr(script, name) {
    var value = script.getAttribute("data-" + name);
    return value === null ? "" : value.trim();
  }

  function parseAdditionalFields(value) {
    var seen = [];
    value.split(",").forEach(function (raw) {
      var field = raw.trim().toLowerCase();
      if (ADDITIONAL_FIELDS.indexOf(field) !== -1 && seen.indexOf(field) === -1) {
        seen.push(field);
      }
    });
    return seen;
  }

  function injectStyles() {
    if (document.getElementById("accepton-loader-styles")) {
      return;
    }
    var style = document.createElement("style");
    style.id = "accepton-loader-styles";
    style.textContent =
      ".accepton-button-submit{display:inline-flex;align-items:center;justify-content:center;" +
      "padding:10px 22px;border:0;border-radius:6px;background:#2563eb;color:#fff;cursor:pointer;" +
      "font:600 15px/1.2 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;" +
      "box-shadow:0 1px 2px rgba(15,23,42,.2)}" +
      ".accepton-button-submit:hover{background:#1d4ed8}" +
      ".accepton-button-submit:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}" +
      ".accepton-modal-app{position:fixed;top:0;left:0;width:100%;height:100%;border:0;margin:0;" +
      "padding:0;z-index:9999;background:transparent;color-scheme:normal}" +
      ".accepton-inline-app{display:block;width:100%;min-width:" + INLINE_MIN_WIDTH + "px;height:" +
      INLINE_HEIGHT + "px;border:0;margin:0;padding:0;background:transparent;overflow:hidden}";
    (document.head || document.documentElement).appendChild(style);
  }

  function Instance(script) {
    this.script = script;
    this.id = "accepton-app-" + ++registry.counter;
    this.baseUrl = baseUrlOf(script);
    this.origin = new URL(this.baseUrl + "/").origin;
    this.publicKey = attr(script, "public-key");
    this.token = attr(script, "token");
    this.redirectUri = attr(script, "redirect-uri");
    this.successCallback = attr(script, "success-callback");
    this.target = attr(script, "target");
    this.additionalFields = parseAdditionalFields(attr(script, "additional-fields"));
    this.customerEmail = attr(script, "customer-email");
    this.appearance = this.target ? "inline" : "modal";
    this.iframe = null;
    this.button = null;
    this.previousOverflow = null;
    this.onKeyDown = this.handleKeyDown.bind(this);
  }

  Instance.prototype.frameUrl = function () {
    var params = new URLSearchParams();
    params.set("instanceId", this.id);
    params.set("public_key", this.publicKey);
    params.set("token", this.token);
    params.set("additional_fields", this.additionalFields.join(","));
    params.set("customer_email", this.customerEmail);
    params.set("appearance", this.appearance);
    params.set("referrer", window.location.href);
    return this.baseUrl + "/index.html?" + params.toString();
  };

  Instance.prototype.createFrame = function (className) {
    var iframe = document.createElement("iframe");
    iframe.className = className;
    iframe.id = this.id;
    iframe.name = this.id;
    iframe.title = "Secure payment form";
    iframe.setAttribute("allowtransparency", "true");
    iframe.setAttribute("frameborder", "0");
    iframe.setAttribute("scrolling", className === "accepton-inline-app" ? "no" : "auto");
    /* Inline styles as well as the class, so page stylesheets cannot break the layout. */
    iframe.style.cssText =
      className === "accepton-modal-app"
        ? "position:fixed;top:0;left:0;width:100%;height:100%;border:0;margin:0;padding:0;" +
          "z-index:9999;background:transparent;display:block"
        : "display:block;width:100%;min-width:" + INLINE_MIN_WIDTH + "px;height:" + INLINE_HEIGHT +
          "px;border:0;margin:0;padding:0;background:transparent";
    iframe.src = this.frameUrl();
    return iframe;
  };

  Instance.prototype.start = function () {
    if (!this.publicKey || !this.token) {
      console.error(
        "accepton.js (" + this.id + "): data-public-key and data-token are required; the form will show an error."
      );
    }
    if (this.publicKey.indexOf("skey_") === 0) {
      console.error(
        "accepton.js (" + this.id + "): data-public-key holds a SECRET key (skey_...). " +
          "Use the public key (pkey_...) and rotate the secret key. The form was not rendered."
      );
      return;
    }
    injectStyles();
    window.addEventListener("message", this.handleMessage.bind(this), false);
    if (this.appearance === "inline") {
      this.mountInline();
    } else {
      this.mountButton();
    }
  };

  /* ---- modal ---- */

  Instance.prototype.mountButton = function () {
    var button = document.createElement("button");
    button.type = "submit";
    button.className = "accepton-button-submit";
    button.setAttribute("data-accepton-instance", this.id);
    var label = document.createElement("span");
    label.textContent = "Pay Now";
    button.appendChild(label);
    var self = this;
    button.addEventListener("click", function (event) {
      event.preventDefault();
      self.open();
    });
    this.script.parentNode.insertBefore(button, this.script);
    this.button = button;
  };

  Instance.prototype.open = function () {
    if (this.appearance !== "modal" || this.iframe) {
      return;
    }
    var iframe = this.createFrame("accepton-modal-app");
    this.iframe = iframe;
    this.previousOverflow = document.documentElement.style.overflow;
    document.documentElement.style.overflow = "hidden";
    document.body.appendChild(iframe);
    document.addEventListener("keydown", this.onKeyDown, true);
    iframe.addEventListener("load", function () {
      try {
        iframe.focus();
      } catch (e) {
        /* ignore */
      }
    });
  };

  Instance.prototype.close = function () {
    if (this.appearance !== "modal" || !this.iframe) {
      return;
    }
    var iframe = this.iframe;
    this.iframe = null;
    document.removeEventListener("keydown", this.onKeyDown, true);
    /* Hide at once, remove a moment later: the iframe may still be handling the key or click
       that closed it. */
    iframe.style.visibility = "hidden";
    iframe.style.pointerEvents = "none";
    /* Selectors and ids belong to the next frame this instance opens. */
    iframe.className = "accepton-modal-closing";
    iframe.removeAttribute("id");
    iframe.removeAttribute("name");
    setTimeout(function () {
      if (iframe.parentNode) {
        iframe.parentNode.removeChild(iframe);
      }
    }, 100);
    document.documentElement.style.overflow = this.previousOverflow || "";
    if (this.button) {
      this.button.focus();
    }
  };

  /* Esc on the page asks the form to close; the form refuses while a payment is in flight. */
  Instance.prototype.handleKeyDown = function (event) {
    if ((event.key === "Escape" || event.key === "Esc") && this.iframe && this.iframe.contentWindow) {
      this.iframe.contentWindow.postMessage(
        PREFIX + JSON.stringify({ instanceId: this.id, method: "closeModal", params: {} }),
        this.origin
      );
    }
  };

  /* ---- inline ---- */

  Instance.prototype.mountInline = function () {
    var self = this;
    var place = function () {
      var container = document.getElementById(self.target);
      self.iframe = self.createFrame("accepton-inline-app");
      if (container) {
        container.appendChild(self.iframe);
      } else {
        self.script.parentNode.insertBefore(self.iframe, self.script.nextSibling);
      }
    };
    if (!document.getElementById(this.target) && document.readyState === "loading") {
      /* The container may come later in the page than the script tag. */
      document.addEventListener("DOMContentLoaded", place);
    } else {
      place();
    }
  };

  /* ---- messages from the iframe ---- */

  Instance.prototype.handleMessage = function (event) {
    if (event.origin !== this.origin || typeof event.data !== "string") {
      return;
    }
    if (event.data.indexOf(PREFIX) !== 0) {
      return;
    }
    if (!this.iframe || event.source !== this.iframe.contentWindow) {
      return;
    }
    var message;
    try {
      message = JSON.parse(event.data.slice(PREFIX.length));
    } catch (e) {
      return;
    }
    if (!message || message.instanceId !== this.id) {
      return;
    }
    var params = message.params || {};
    switch (message.method) {
      case "resizeFrame":
        this.resize(params.height);
        break;
      case "close":
        this.close();
        break;
      case "paymentSuccess":
        this.paymentSuccess(params);
        break;
      default:
        break;
    }
  };

  Instance.prototype.resize = function (height) {
    if (this.appearance !== "inline" || !this.iframe) {
      return;
    }
    var value = Math.ceil(Number(height));
    if (isFinite(value) && value > 0) {
      this.iframe.style.height = value + "px";
    }
  };

  Instance.prototype.paymentSuccess = function (params) {
    var charge = params.charge;
    var result = { charge: charge, redirectUri: this.redirectUri || undefined };
    var callback = this.successCallback ? window[this.successCallback] : null;
    if (typeof callback === "function") {
      var returned;
      try {
        returned = callback(result);
      } catch (error) {
        console.error("accepton.js (" + this.id + "): the success callback threw", error);
      }
      if (returned === false) {
        this.closeSoon();
        return;
      }
    } else if (this.successCallback) {
      console.warn("accepton.js (" + this.id + "): window." + this.successCallback + " is not a function");
    }
    if (result.redirectUri) {
      this.postRedirect(result.redirectUri, charge);
    } else {
      this.closeSoon();
    }
  };

  /* Leave the success message on screen for a moment, then close the modal. */
  Instance.prototype.closeSoon = function () {
    var self = this;
    var iframe = this.iframe;
    setTimeout(function () {
      if (self.iframe === iframe) {
        self.close();
      }
    }, 1500);
  };

  Instance.prototype.postRedirect = function (uri, charge) {
    var form = document.createElement("form");
    form.method = "POST";
    form.action = uri;
    form.target = "_self";
    form.style.display = "none";
    form.setAttribute("data-accepton-redirect", this.id);
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "response";
    input.value = JSON.stringify(charge);
    form.appendChild(input);
    document.body.appendChild(form);
    setTimeout(function () {
      HTMLFormElement.prototype.submit.call(form);
    }, 1);
  };

  var script = findOwnScript();
  if (!script) {
    return;
  }
  script.setAttribute("data-accepton-active", "true");
  var instance = new Instance(script);
  registry.instances.push(instance);
  instance.start();
})();
