/*
 * "Você quis dizer fulano@gmail.com?" as soon as an email field loses focus, with a button that
 * puts the suggestion in the field (issue 13 item 4).
 *
 * The rules live on the server only (portal/emailcheck.py): each field marked
 * data-email-check="<url>" asks <url>?email=... and shows what comes back ({suggestion, message,
 * use, warning}, texts already in Portuguese). Without JavaScript the form itself questions a
 * typo once after submit; this only makes it sooner and one click to fix.
 */
(function () {
  "use strict";

  function hintId(input) {
    return (input.id || input.name) + "-email-hint";
  }

  function removeHint(input) {
    var old = document.getElementById(hintId(input));
    if (old) {
      old.remove();
    }
    var described = (input.getAttribute("aria-describedby") || "")
      .split(" ")
      .filter(function (id) { return id && id !== hintId(input); });
    if (described.length) {
      input.setAttribute("aria-describedby", described.join(" "));
    } else {
      input.removeAttribute("aria-describedby");
    }
  }

  function accept(input, suggestion) {
    input.value = suggestion;
    input.dataset.emailChecked = suggestion;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    removeHint(input);
    // The server's "Você quis dizer ...?" for the old value no longer applies.
    var field = input.closest(".field");
    if (field) {
      field.querySelectorAll(".error").forEach(function (error) {
        if (error.textContent.indexOf(suggestion) !== -1) {
          error.remove();
        }
      });
      if (!field.querySelector(".error")) {
        field.classList.remove("has-error");
      }
    }
    input.focus();
  }

  function showHint(input, data) {
    removeHint(input);
    if (!data.suggestion && !data.warning) {
      return;
    }
    var box = document.createElement("div");
    box.id = hintId(input);
    box.className = "email-hint help";
    box.setAttribute("role", "status");
    if (data.suggestion) {
      var text = document.createElement("span");
      text.textContent = data.message + " ";
      box.appendChild(text);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = data.use;
      button.addEventListener("click", function () {
        accept(input, data.suggestion);
      });
      box.appendChild(button);
    }
    if (data.warning) {
      var warning = document.createElement("p");
      warning.className = "warning";
      warning.textContent = data.warning;
      box.appendChild(warning);
    }
    input.insertAdjacentElement("afterend", box);
    var described = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", (described ? described + " " : "") + box.id);
  }

  function check(input) {
    var value = input.value.trim();
    if (value === (input.dataset.emailChecked || "")) {
      return;
    }
    input.dataset.emailChecked = value;
    if (!value || value.indexOf("@") === -1) {
      removeHint(input);
      return;
    }
    var url = input.getAttribute("data-email-check") + "?email=" + encodeURIComponent(value);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        // Typed on meanwhile: a newer check answers for the new value.
        if (data && input.value.trim() === value) {
          showHint(input, data);
        }
      })
      .catch(function () {
        /* No answer, no hint: the form still checks on submit. */
      });
  }

  function watch(input) {
    input.addEventListener("blur", function () { check(input); });
    input.addEventListener("change", function () { check(input); });
    if (input.value.trim()) {
      check(input);
    }
  }

  document.querySelectorAll("input[data-email-check]").forEach(watch);
})();
