// Progressive enhancement of the job list: show the filter form and hide the cards that do not
// match it.  The choices live in the address (?location=…&department=…&work=…), so a filtered
// list can be shared; without this script every job is listed.
(function () {
  "use strict";
  var form = document.getElementById("job-filters");
  var status = document.getElementById("filter-status");
  if (!form || !status || !window.URLSearchParams) {
    return;
  }
  var names = ["location", "department", "work"];
  var cards = Array.prototype.slice.call(document.querySelectorAll(".job-card[data-filters]"));
  var groups = Array.prototype.slice.call(document.querySelectorAll(".job-group"));

  function matches(card, wanted) {
    var facts = JSON.parse(card.getAttribute("data-filters"));
    return names.every(function (name) {
      var value = wanted[name];
      if (!value) {
        return true;
      }
      var fact = facts[name];
      return Array.isArray(fact) ? fact.indexOf(value) !== -1 : fact === value;
    });
  }

  function apply() {
    var wanted = {};
    var query = new URLSearchParams();
    names.forEach(function (name) {
      wanted[name] = form.elements[name].value;
      if (wanted[name]) {
        query.set(name, wanted[name]);
      }
    });
    var shown = 0;
    cards.forEach(function (card) {
      card.hidden = !matches(card, wanted);
      shown += card.hidden ? 0 : 1;
    });
    groups.forEach(function (group) {
      group.hidden = !group.querySelector(".job-card:not([hidden])");
    });
    status.textContent = shown === cards.length
      ? "Showing all " + cards.length + " jobs."
      : "Showing " + shown + " of " + cards.length + " jobs.";
    var search = query.toString();
    window.history.replaceState(null, "", search ? "?" + search : window.location.pathname);
  }

  var params = new URLSearchParams(window.location.search);
  names.forEach(function (name) {
    var select = form.elements[name];
    var value = params.get(name);
    var known = Array.prototype.some.call(select.options, function (option) {
      return option.value === value;
    });
    if (value && known) {
      select.value = value;
    }
  });
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    apply();
  });
  form.hidden = false;
  apply();
})();
