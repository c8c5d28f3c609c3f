// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // After a failed submit, move focus to the error summary so it is read out first; its
  // links bring the field's label into view, then focus the field.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) { return; }
      var field = document.getElementById(link.getAttribute("href").slice(1));
      if (!field) { return; }
      event.preventDefault();
      var label = document.querySelector("label[for='" + field.id + "']") || field;
      label.scrollIntoView();
      field.focus({ preventScroll: true });
    });
  }

  // The unified social credit code (GB 32100-2015), checked once 18 characters are in.
  // The server checks again; this only writes to the hint and never blocks submitting.
  var CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  var WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  function normalise(value) {
    return value.replace(/[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
    }).replace(/[\s\u3000-]/g, "").toUpperCase();
  }
  function valid(code) {
    if (code.length !== 18) { return false; }
    var sum = 0;
    for (var i = 0; i < 17; i++) {
      var v = CHARS.indexOf(code.charAt(i));
      if (v < 0) { return false; }
      sum += v * WEIGHTS[i];
    }
    var check = (31 - (sum % 31)) % 31;
    return CHARS.charAt(check) === code.charAt(17);
  }
  var input = document.querySelector("[data-credit-code]");
  var hint = document.querySelector("[data-credit-code-hint]");
  if (input && hint) {
    var original = hint.textContent;
    input.addEventListener("input", function () {
      var code = normalise(input.value);
      hint.classList.remove("hint-ok", "hint-bad");
      if (code.length < 18) {
        hint.textContent = original;
      } else if (valid(code)) {
        hint.textContent = hint.getAttribute("data-ok");
        hint.classList.add("hint-ok");
      } else {
        hint.textContent = hint.getAttribute("data-bad");
        hint.classList.add("hint-bad");
      }
    });
  }
})();
